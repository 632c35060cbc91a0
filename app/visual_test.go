package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/keychain"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// fakeProvider is a third-party co-browse service: a sign-in page, a credentials check and a
// session API that answers a session id and PIN.
func fakeProvider(t *testing.T) (*httptest.Server, *wire.ExternalProvider) {
	srv, ext, _ := fakeProviderSeen(t)
	return srv, ext
}

// fakeProviderSeen is fakeProvider that also counts the requests that carried credentials.
func fakeProviderSeen(t *testing.T) (*httptest.Server, *wire.ExternalProvider, *atomic.Int32) {
	t.Helper()
	mux := http.NewServeMux()
	seen := &atomic.Int32{}
	authed := func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		if ok {
			seen.Add(1)
		}
		return ok && u == "agent@acme" && p == "hunter2"
	}
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<h1>AcmeView sign-in</h1>") })
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		if !authed(r) {
			http.Error(w, "no", http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("POST /api/sessions", func(w http.ResponseWriter, r *http.Request) {
		if !authed(r) {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"session":{"id":"S-42","pin":731904}}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &wire.ExternalProvider{Name: "AcmeView", SignInURL: srv.URL + "/login", VerifyURL: srv.URL + "/api/me",
		SessionURL: srv.URL + "/api/sessions", SessionIDPointer: "/session/id", PINPointer: "/session/pin",
		JoinURL: srv.URL + "/join/{session}?pin={pin}"}, seen
}

// setProviders makes ext the demo organisation's co-browse provider, as its admin.
func setProviders(t *testing.T, hubURL string, ext *wire.ExternalProvider) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	login, err := client.Login(ctx, hubURL, hub.DemoOrg, "admin1", hub.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(wire.VisualSettings{Cobrowse: wire.ProviderConfig{Provider: wire.ProviderExternal, External: ext},
		ScreenShare: wire.ProviderConfig{Provider: wire.ProviderBuiltinScreenShare}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, hubURL+"/api/v1/orgs/demo/settings/visual", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+login.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT settings/visual = %v, %v", resp, err)
	}
	resp.Body.Close()
}

// signInWith signs agent1 in with keys as the keychain.
func signInWith(t *testing.T, hubURL string, keys keychain.Store) (*app.Services, *recorder) {
	t.Helper()
	rec := newRecorder()
	svc := app.New(app.Config{Emitter: rec, Keychain: keys})
	t.Cleanup(func() { _ = svc.Close() })
	if _, err := svc.Session.SignIn(hubURL, "demo", "agent1", "demo"); err != nil {
		t.Fatal(err)
	}
	return svc, rec
}

// takeChat starts a customer's conversation and has the agent accept it.
func takeChat(t *testing.T, hubURL string, svc *app.Services, rec *recorder) *customer {
	t.Helper()
	cust := newCustomer(t, hubURL, "Ann")
	offers := waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 && o[0].Conv == cust.conv })
	if _, err := svc.Offers.Accept(offers[0].ID); err != nil {
		t.Fatal(err)
	}
	return cust
}

// TestVisualExternalProvider is the external provider path: the agent signs in to the provider
// (credentials checked by the provider and kept in the keychain; the real gnome-keyring under
// make test-keychain), creates a session, shares its PIN into the chat with one call, and the
// customer accepts with that PIN. Sign-out removes the keychain entry.
func TestVisualExternalProvider(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	srv, ext := fakeProvider(t)
	setProviders(t, hubURL, ext)
	var keys keychain.Store = keychain.NewSession()
	if os.Getenv("PARLEY_KEYCHAIN_TEST") == "1" {
		keys = keychain.NewOS(nil, 3*time.Second)
	}
	svc, rec := signInWith(t, hubURL, keys)
	waitFor(t, rec, app.EventVisual, func(v app.VisualView) bool { return v.Known && v.Settings.Cobrowse.External != nil })

	_, err := svc.Visual.SignIn(wire.VisualCobrowse, "agent@acme", "wrong", false)
	if wire.ErrorCode(err) != wire.EUNAUTHORIZED {
		t.Fatalf("SignIn with a wrong password = %v; want EUNAUTHORIZED", err)
	}
	view, err := svc.Visual.SignIn(wire.VisualCobrowse, "agent@acme", "hunter2", false)
	if err != nil || !view.Accounts[wire.VisualCobrowse].SignedIn || view.Accounts[wire.VisualCobrowse].Storage != app.StorageKeychain {
		t.Fatalf("SignIn = %+v, %v; want signed in, kept in the keychain", view.Accounts, err)
	}
	acct := hubURL + " demo AcmeView"
	if raw, err := keys.Get("Parley visual provider", acct); err != nil || !strings.Contains(raw, "hunter2") {
		t.Fatalf("keychain entry = %v; want the credentials", err)
	}

	cust := takeChat(t, hubURL, svc, rec)
	v, err := svc.Visual.Start(cust.conv, wire.VisualCobrowse)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if v.PIN != "731904" || v.JoinURL != srv.URL+"/join/S-42?pin={pin}" || v.State != wire.VisualInvited {
		t.Fatalf("engagement = %+v; want the provider's PIN and session", v)
	}
	if _, err := svc.Visual.SharePIN(cust.conv, "Your co-browse PIN is {pin}"); err != nil {
		t.Fatalf("SharePIN: %v", err)
	}
	waitCustomer(t, cust, wire.TypeChatMessage, func(m wire.Message) bool { return m.Text == "Your co-browse PIN is 731904" })
	inv := waitCustomer(t, cust, wire.TypeVisualState, func(x wire.Visual) bool { return x.ID == v.ID && x.State == wire.VisualInvited })
	if inv.PIN != "" || !inv.PINRequired || inv.ProviderName != "AcmeView" {
		t.Errorf("customer's invitation = %+v; want the PIN asked for, not shown", inv)
	}
	cust.request(t, wire.TypeVisualAccept, wire.VisualAccept{Visual: v.ID, PIN: "731904"})
	waitFor(t, rec, app.EventVisual, func(x app.VisualView) bool {
		return len(x.Engagements) == 1 && x.Engagements[0].State == wire.VisualActive
	})

	// A new app on the same keychain is signed in already.
	svc.Close()
	svc2, rec2 := signInWith(t, hubURL, keys)
	waitFor(t, rec2, app.EventVisual, func(x app.VisualView) bool { return x.Accounts[wire.VisualCobrowse].SignedIn })
	if _, err := svc2.Visual.SignOut(wire.VisualCobrowse); err != nil {
		t.Fatalf("SignOut: %v", err)
	}
	if _, err := keys.Get("Parley visual provider", acct); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("keychain entry after SignOut: %v; want ErrNotFound", err)
	}
}

// stuckKeys is a keychain that never answers, as a locked one waiting on its unlock prompt.
type stuckKeys struct{ release chan struct{} }

func (s stuckKeys) Get(string, string) (string, error) { <-s.release; return "", nil }
func (s stuckKeys) Set(string, string, string) error   { <-s.release; return nil }
func (s stuckKeys) Delete(string, string) error        { <-s.release; return nil }

func TestVisualLockedKeychain(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	_, ext := fakeProvider(t)
	setProviders(t, hubURL, ext)
	stuck := stuckKeys{release: make(chan struct{})}
	t.Cleanup(func() { close(stuck.release) })
	svc, rec := signInWith(t, hubURL, keychain.NewOS(stuck, 100*time.Millisecond))
	waitFor(t, rec, app.EventVisual, func(v app.VisualView) bool { return v.Accounts[wire.VisualCobrowse].Problem == "locked" })

	view, err := svc.Visual.SignIn(wire.VisualCobrowse, "agent@acme", "hunter2", false)
	if err != app.ErrKeychainLocked || view.Accounts[wire.VisualCobrowse].Problem != "locked" {
		t.Fatalf("SignIn with a locked keychain = %+v, %v; want ErrKeychainLocked", view.Accounts, err)
	}
	view, err = svc.Visual.SignIn(wire.VisualCobrowse, "agent@acme", "hunter2", true)
	if a := view.Accounts[wire.VisualCobrowse]; err != nil || !a.SignedIn || a.Storage != app.StorageSession {
		t.Fatalf("SignIn for this session only = %+v, %v", a, err)
	}
	cust := takeChat(t, hubURL, svc, rec)
	if v, err := svc.Visual.Start(cust.conv, wire.VisualCobrowse); err != nil || v.PIN != "731904" {
		t.Fatalf("Start with session-only credentials = %+v, %v", v, err)
	}
}

func TestVisualBuiltinSharePIN(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	svc, rec := signInWith(t, hubURL, keychain.NewSession())
	waitFor(t, rec, app.EventVisual, func(v app.VisualView) bool { return v.Known })
	cust := takeChat(t, hubURL, svc, rec)
	if _, err := svc.Visual.SharePIN(cust.conv, "{pin}"); wire.ErrorCode(err) != wire.ECONFLICT {
		t.Errorf("SharePIN with no engagement = %v; want ECONFLICT", err)
	}
	v, err := svc.Visual.Start(cust.conv, wire.VisualScreenShare)
	if err != nil || len(v.PIN) != 6 || v.Provider != wire.ProviderBuiltinScreenShare {
		t.Fatalf("Start = %+v, %v; want a built-in screen share with a 6-digit PIN", v, err)
	}
	if _, err := svc.Visual.SharePIN(cust.conv, "PIN {pin}"); err != nil {
		t.Fatal(err)
	}
	waitCustomer(t, cust, wire.TypeChatMessage, func(m wire.Message) bool { return m.Text == "PIN "+v.PIN })
	if err := svc.Visual.Stop(cust.conv); err != nil {
		t.Fatal(err)
	}
	waitCustomer(t, cust, wire.TypeVisualState, func(x wire.Visual) bool { return x.ID == v.ID && x.State == wire.VisualEnded })
}

// TestVisualProviderMoved is the attack of issue 12: an admin keeps the provider's name and
// points its session URL at another server. The stored password must not follow: the app drops
// it, tells the agent where the credentials would now go and why they must sign in again, and
// sends nothing to the new server until they do.
func TestVisualProviderMoved(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	srv, ext, _ := fakeProviderSeen(t)
	setProviders(t, hubURL, ext)
	keys := keychain.NewSession()
	svc, rec := signInWith(t, hubURL, keys)
	waitFor(t, rec, app.EventVisual, func(v app.VisualView) bool { return v.Known && v.Settings.Cobrowse.External != nil })
	view, err := svc.Visual.SignIn(wire.VisualCobrowse, "agent@acme", "hunter2", false)
	acctHost := strings.TrimPrefix(srv.URL, "http://")
	if a := view.Accounts[wire.VisualCobrowse]; err != nil || !a.SignedIn || a.Host != acctHost {
		t.Fatalf("SignIn = %+v, %v; want signed in, credentials going to %s", a, err, acctHost)
	}
	cust := takeChat(t, hubURL, svc, rec)

	// The admin moves only the session URL.
	other, otherExt, otherSeen := fakeProviderSeen(t)
	moved := *ext
	moved.SessionURL = otherExt.SessionURL
	setProviders(t, hubURL, &moved)
	otherHost := strings.TrimPrefix(other.URL, "http://")
	// Started as soon as the new settings reach the app (before or after it looked at the
	// stored credentials again): nothing is sent to the new server.
	waitFor(t, rec, app.EventVisual, func(v app.VisualView) bool {
		return v.Settings.Cobrowse.External != nil && v.Settings.Cobrowse.External.SessionURL == moved.SessionURL
	})
	if _, err := svc.Visual.Start(cust.conv, wire.VisualCobrowse); wire.ErrorCode(err) != wire.EUNAUTHORIZED {
		t.Errorf("Start after the move = %v; want EUNAUTHORIZED", err)
	}
	v := waitFor(t, rec, app.EventVisual, func(v app.VisualView) bool { return v.Accounts[wire.VisualCobrowse].Notice == app.NoticeMoved })
	a := v.Accounts[wire.VisualCobrowse]
	if a.SignedIn || a.PreviousHost != acctHost || a.Host != acctHost+", "+otherHost {
		t.Errorf("account after the move = %+v; want signed out, from %s to %s", a, acctHost, acctHost+", "+otherHost)
	}
	if _, err := svc.Visual.Start(cust.conv, wire.VisualCobrowse); wire.ErrorCode(err) != wire.EUNAUTHORIZED {
		t.Errorf("Start once the agent is told = %v; want EUNAUTHORIZED", err)
	}
	if n := otherSeen.Load(); n != 0 {
		t.Fatalf("the new session URL received credentials %d times before the agent signed in again", n)
	}
	if _, err := keys.Get("Parley visual provider", hubURL+" demo AcmeView"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("keychain entry after the move: %v; want it dropped", err)
	}

	// Signing in again, having seen the new host, sends them there.
	if _, err := svc.Visual.SignIn(wire.VisualCobrowse, "agent@acme", "hunter2", false); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Visual.Start(cust.conv, wire.VisualCobrowse); err != nil {
		t.Fatalf("Start after signing in again: %v", err)
	}
	if otherSeen.Load() != 1 {
		t.Errorf("the new session URL got %d requests; want 1", otherSeen.Load())
	}
}

// Credentials kept before they were bound to an address are asked for again, once.
func TestVisualUnboundCredentials(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	_, ext := fakeProvider(t)
	setProviders(t, hubURL, ext)
	keys := keychain.NewSession()
	_ = keys.Set("Parley visual provider", hubURL+" demo AcmeView", `{"u":"agent@acme","p":"hunter2"}`)
	_, rec := signInWith(t, hubURL, keys)
	v := waitFor(t, rec, app.EventVisual, func(v app.VisualView) bool { return v.Accounts[wire.VisualCobrowse].Notice != "" })
	if a := v.Accounts[wire.VisualCobrowse]; a.SignedIn || a.Notice != app.NoticeMoved || a.PreviousHost != "" {
		t.Errorf("account = %+v; want asked to sign in again", a)
	}
}
