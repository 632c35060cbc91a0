package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/policy"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/internal/testidp"
	"github.com/parleyhq/parley/wire"
)

// ssoHub starts a hub whose organisation acme signs in through a real OpenID provider, and
// returns the hub's URL and server.
func ssoHub(t *testing.T, tweak func(*hub.Config)) (string, *hub.Server) {
	t.Helper()
	var cfg hub.Config
	if tweak != nil {
		tweak(&cfg)
	}
	s := openHub(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	idp, err := testidp.Start("", []testidp.User{
		{ID: "u1", Username: "ann", Password: "ann-pw", Email: "ann@acme.test", EmailVerified: true, First: "Ann", Last: "Agent", Groups: []string{"agents"}},
	}, []testidp.Client{{ID: "parley", Secret: "s3cret", RedirectURIs: []string{s.URL() + "/sso/callback"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	if _, _, err := s.CreateOrganisation(ctx, hub.CommandLine, hub.NewOrg{ID: "acme", Name: "Acme"}, nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetSSO(ctx, hub.CommandLine, "acme", wire.SSOSettings{Enabled: true, Name: "Acme Login", Issuer: idp.Issuer, ClientID: "parley",
		ClientSecret: "s3cret", AgentGroups: []string{"agents"}, PasswordSignIn: true}); err != nil {
		t.Fatal(err)
	}
	return s.URL(), s
}

// systemBrowser is the app's OpenURL in these tests: a browser that signs in as ann at the
// provider and comes back to the app's loopback address. It records what it was asked to open.
type systemBrowser struct {
	opened chan string
}

func (b *systemBrowser) open(u string) error {
	b.opened <- u
	go func() {
		_, _ = testidp.NewBrowser().SignIn(u, "ann", "ann-pw", func(x *url.URL) bool {
			return x.Hostname() == "127.0.0.1" && x.Path == "/callback"
		}, true)
	}()
	return nil
}

func TestSignInWithTheSystemBrowser(t *testing.T) {
	hubURL, s := ssoHub(t, nil)
	b := &systemBrowser{opened: make(chan string, 1)}
	rec := newRecorder()
	svc := app.New(app.Config{Emitter: rec, OpenURL: b.open})
	defer svc.Close()

	opts, err := svc.Session.Options(hubURL, " ACME ")
	if err != nil || opts.Name != "Acme" || opts.SSO != "Acme Login" || !opts.Password || opts.Org != "acme" {
		t.Fatalf("Options = %+v, %v", opts, err)
	}
	_, err = svc.Session.Options(hubURL, "nope")
	if wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("Options of a missing organisation = %v; want ENOTFOUND", err)
	}
	view, err := svc.Session.SignInSSO(hubURL, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !view.SignedIn || view.User.Username != "ann@acme.test" || view.User.Role != wire.RoleAgent {
		t.Errorf("signed in as %+v", view)
	}
	// The app opened the hub in the system browser, with a loopback redirect and a PKCE challenge.
	opened, _ := url.Parse(<-b.opened)
	q := opened.Query()
	redirect, _ := url.Parse(q.Get("redirect_uri"))
	if !strings.HasPrefix(opened.String(), hubURL+"/sso/start?") || q.Get("client") != "app" || redirect.Hostname() != "127.0.0.1" ||
		redirect.Port() == "" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Errorf("opened %s", opened)
	}
	// The hub lists the session as the app's, signed in through the provider.
	admin, err := s.InviteMember(context.Background(), hub.CommandLine, "acme", hub.NewMember{Username: "boss", Role: wire.RoleAdmin, Password: "a long unguessable phrase"}, "")
	if err != nil {
		t.Fatal(err)
	}
	login, err := client.Login(context.Background(), hubURL, "acme", admin.Member.Username, "a long unguessable phrase")
	if err != nil {
		t.Fatal(err)
	}
	var ss []wire.Session
	if err := client.API(context.Background(), hubURL, http.MethodGet, "/api/v1/orgs/acme/members/ann@acme.test/sessions", login.Token, nil, &ss); err != nil || len(ss) != 1 ||
		ss[0].Method != "sso" || ss[0].Client != "app" {
		t.Errorf("sessions = %+v, %v", ss, err)
	}
	// Signing out ends the session on the hub.
	if err := svc.Session.SignOut(); err != nil {
		t.Fatal(err)
	}
	if err := client.API(context.Background(), hubURL, http.MethodGet, "/api/v1/orgs/acme/members/ann@acme.test/sessions", login.Token, nil, &ss); err != nil || len(ss) != 0 {
		t.Errorf("sessions after sign-out = %+v, %v", ss, err)
	}
}

func TestSSOCancelled(t *testing.T) {
	hubURL, _ := ssoHub(t, nil)
	opened := make(chan string, 1)
	svc := app.New(app.Config{OpenURL: func(u string) error { opened <- u; return nil }}) // nobody signs in
	defer svc.Close()
	done := make(chan error, 1)
	go func() {
		_, err := svc.Session.SignInSSO(hubURL, "acme")
		done <- err
	}()
	<-opened
	_ = svc.Session.CancelSSO()
	select {
	case err := <-done:
		if err != app.ErrSSOCancelled {
			t.Errorf("cancelled sign-in = %v", err)
		}
	case <-time.After(wait):
		t.Fatal("CancelSSO did not stop the sign-in")
	}
}

func TestSessionRenewsWithoutDroppingTheConnection(t *testing.T) {
	hubURL := startHub(t, hub.Config{TokenTTL: 2 * time.Second, Accounts: hub.Accounts{SessionCheck: 100 * time.Millisecond}})
	rec := newRecorder()
	svc := app.New(app.Config{Emitter: rec})
	defer svc.Close()
	if _, err := svc.Session.SignIn(hubURL, "demo", "agent1", "demo"); err != nil {
		t.Fatal(err)
	}
	// Well past the first token's life (the hub closes connections whose session expired), the
	// app is still connected and working.
	time.Sleep(5 * time.Second)
	if v, _ := svc.Session.Current(); !v.SignedIn || v.Connection != app.ConnOnline {
		t.Fatalf("after 2.5 token lifetimes: %+v", v)
	}
	if err := svc.Presence.Set(wire.PresenceAway); err != nil {
		t.Errorf("a request on the renewed session: %v", err)
	}
}

func TestPolicyPinsTheOrganisationAndTheAppRemembers(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	dir := t.TempDir()
	pol := policy.Policy{Path: "/etc/parley/policy.json", Org: "acme", Locked: []policy.Setting{policy.SettingOrg}}
	svc := app.New(app.Config{Policy: pol, StateDir: dir})
	if pre, _ := svc.Session.Prefill(); pre.Org != "acme" {
		t.Errorf("prefill with a pinned organisation = %+v", pre)
	}
	_, err := svc.Session.SignIn(hubURL, "demo", "agent1", "demo")
	if wire.ErrorCode(err) != wire.EFORBIDDEN {
		t.Errorf("sign-in to another organisation than the pinned one = %v; want EFORBIDDEN", err)
	}
	svc.Close()

	// Unmanaged: no organisation by default, and the last sign-in is remembered (no password).
	svc = app.New(app.Config{StateDir: dir})
	if pre, _ := svc.Session.Prefill(); pre != (app.Prefill{}) {
		t.Errorf("first start prefill = %+v; want nothing (no demo default)", pre)
	}
	if _, err := svc.Session.SignIn(hubURL, "demo", "agent1", "demo"); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	svc = app.New(app.Config{StateDir: dir})
	defer svc.Close()
	if pre, _ := svc.Session.Prefill(); pre.HubURL != hubURL || pre.Org != "demo" || pre.Username != "agent1" {
		t.Errorf("prefill after a sign-in = %+v", pre)
	}
}

// TestSignInToken: the headless agent's -token signs in as the member the hub issued it for; a
// token the hub does not know is refused, and a second sign-in while signed in is a conflict.
func TestSignInToken(t *testing.T) {
	s := openHub(t, hub.Config{Demo: true})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	m, err := hub.OpenManager(ctx, hub.Config{Store: s.Store()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	login, err := m.IssueToken(ctx, hub.CommandLine, "demo", "agent1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	svc := app.New(app.Config{})
	defer svc.Close()
	if _, err := svc.Session.SignInToken(s.URL(), "not-a-token"); wire.ErrorCode(err) != wire.EUNAUTHORIZED {
		t.Errorf("SignInToken with an unknown token = %v; want EUNAUTHORIZED", err)
	}
	v, err := svc.Session.SignInToken(s.URL(), login.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !v.SignedIn || v.User == nil || v.User.Username != "agent1" {
		t.Errorf("SignInToken = %+v; want signed in as agent1", v)
	}
	if _, err := svc.Session.SignInToken(s.URL(), login.Token); wire.ErrorCode(err) != wire.ECONFLICT {
		t.Errorf("second SignInToken = %v; want ECONFLICT", err)
	}
}
