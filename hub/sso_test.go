package hub_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/internal/logbuf"
	"github.com/parleyhq/parley/internal/testidp"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/oauth2"
)

// The single sign-on tests run the hub against a real OpenID provider (internal/testidp:
// zitadel/oidc's op package), and play the browser: the hub's start page, the provider's
// sign-in form, the redirects back.

var idpUsers = []testidp.User{
	{ID: "u-ann", Username: "ann", Password: "ann-pw", Email: "Ann@Acme.test", EmailVerified: true, First: "Ann", Last: "Agent", Groups: []string{"staff", "parley-agents"}},
	{ID: "u-sue", Username: "sue", Password: "sue-pw", Email: "sue@acme.test", EmailVerified: true, First: "Sue", Last: "Super", Groups: []string{"parley-supervisors", "parley-agents"}},
	{ID: "u-out", Username: "out", Password: "out-pw", Email: "out@elsewhere.test", EmailVerified: true, First: "Otto", Last: "Side", Groups: []string{"parley-agents"}},
	{ID: "u-nog", Username: "nog", Password: "nog-pw", Email: "nog@acme.test", EmailVerified: true, First: "No", Last: "Group", Groups: []string{"staff"}},
}

// ssoHub is a hub with organisation acme signed in to the test provider.
type ssoHub struct {
	s   *hub.Server
	idp *testidp.Provider
	adm console
	clk *clock
	log *logbuf.Buffer
}

func startSSOHub(t *testing.T, userinfoOnly bool) *ssoHub {
	t.Helper()
	clk := &clock{}
	logs := &logbuf.Buffer{}
	s := startHub(t, func(c *hub.Config) {
		c.Now = clk.now
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	adm := adminConsole(t, s)
	idp := ssoProvider(t, adm, s.URL(), userinfoOnly)
	return &ssoHub{s: s, idp: idp, adm: adm, clk: clk, log: logs}
}

// ssoProvider starts the test provider with the hub at base as its client, and signs acme in to
// it through the admin's console.
func ssoProvider(t *testing.T, adm console, base string, userinfoOnly bool) *testidp.Provider {
	t.Helper()
	idp, err := testidp.Start("", idpUsers, []testidp.Client{
		{ID: "parley-hub", Secret: "hub-secret", RedirectURIs: []string{base + "/sso/callback"}, ClaimsInUserinfoOnly: userinfoOnly},
		{ID: "other-app", Secret: "other-secret", RedirectURIs: []string{"http://127.0.0.1:9/cb"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	var got wire.SSOSettings
	adm.must(http.MethodPut, "/api/v1/orgs/acme/settings/sso", wire.SSOSettings{
		Enabled: true, Name: "Acme Login", Issuer: idp.Issuer, ClientID: "parley-hub", ClientSecret: "hub-secret",
		AllowedDomains: []string{"ACME.test"}, AdminGroups: []string{"parley-admins"}, SupervisorGroups: []string{"parley-supervisors"},
		AgentGroups: []string{"parley-agents"}, PasswordSignIn: true,
	}, &got)
	if got.ClientSecret != "" || !got.ClientSecretSet || got.RedirectURL != base+"/sso/callback" || got.AllowedDomains[0] != "acme.test" || got.RoleClaim != "groups" {
		t.Fatalf("saved settings = %+v", got)
	}
	return idp
}

// browser follows a single sign-on as a person's browser would, and stops where it would hand
// over to the app: a redirect to the app's loopback address.
type browser struct {
	t  *testing.T
	hc *http.Client
	// atProvider may change the authorization request the hub sends to the provider (an
	// attacker's browser), and beforeCallback runs before the provider's answer reaches the hub.
	atProvider     func(u *url.URL)
	beforeCallback func()
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

const appRedirect = "http://127.0.0.1:47123/callback"

var formID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// signIn starts at the hub as the app does (with its PKCE challenge) and returns the query the
// app's loopback address receives.
func (b *browser) signIn(s *hub.Server, org, user, password, verifier string) url.Values {
	b.t.Helper()
	return b.signInThrough(s, s.URL(), org, user, password, verifier)
}

// signInThrough is signIn with the hub reached at base (a load balancer in front of s).
func (b *browser) signInThrough(s *hub.Server, base, org, user, password, verifier string) url.Values {
	b.t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	start := base + "/sso/start?" + url.Values{"org": {org}, "client": {"app"}, "redirect_uri": {appRedirect}, "state": {"app-state-1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}.Encode()
	u, _ := url.Parse(b.signInAt(s, start, appRedirect, user, password))
	return u.Query()
}

// signInAt follows a sign-in from start through the provider's form until a redirect to an
// address starting with until, which it returns.
func (b *browser) signInAt(s *hub.Server, start, until, user, password string) string {
	b.t.Helper()
	next := start
	for range 20 {
		u, _ := url.Parse(next)
		if strings.HasPrefix(next, until) {
			return next
		}
		if b.atProvider != nil && strings.Contains(u.Path, "authorize") && u.Query().Get("nonce") != "" {
			b.atProvider(u)
			next = u.String()
		}
		if strings.HasPrefix(next, s.URL()+"/sso/callback") && b.beforeCallback != nil {
			b.beforeCallback()
		}
		res, err := b.hc.Get(next)
		if err != nil {
			b.t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode == http.StatusFound || res.StatusCode == http.StatusSeeOther:
			loc, _ := res.Location()
			next = loc.String()
		case res.StatusCode == http.StatusOK && formID.Match(body):
			// The provider's sign-in form: type the username and password.
			id := formID.FindSubmatch(body)[1]
			form := url.Values{"id": {string(id)}, "username": {user}, "password": {password}}
			res, err := b.hc.PostForm(u.Scheme+"://"+u.Host+"/login/username", form)
			if err != nil {
				b.t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusFound {
				b.t.Fatalf("provider sign-in of %s answered %s", user, res.Status)
			}
			loc, _ := res.Location()
			next = u.ResolveReference(loc).String()
		default:
			b.t.Fatalf("GET %s = %s: %s", next, res.Status, body)
		}
	}
	b.t.Fatal("too many redirects")
	return ""
}

func (h *ssoHub) signIn(t *testing.T, user, password string) (wire.LoginResponse, error) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := newBrowser(t).signIn(h.s, "acme", user, password, verifier)
	if q.Get("state") != "app-state-1" {
		t.Fatalf("the app's state came back as %q", q.Get("state"))
	}
	if e := q.Get("error"); e != "" {
		return wire.LoginResponse{}, &wire.Error{Code: wire.Code(e), Message: "sign-in refused"}
	}
	return client.ExchangeSSO(ctx(t), h.s.URL(), q.Get("code"), verifier)
}

func TestSSOSignInMapsGroupsToRoles(t *testing.T) {
	h := startSSOHub(t, false)
	opts, err := client.SignInOptions(ctx(t), h.s.URL(), "acme")
	if err != nil || opts.SSO != "Acme Login" || !opts.Password {
		t.Fatalf("sign-in options = %+v, %v", opts, err)
	}
	ann, err := h.signIn(t, "ann", "ann-pw")
	if err != nil {
		t.Fatal(err)
	}
	if ann.User.Username != "ann@acme.test" || ann.User.Role != wire.RoleAgent || ann.User.DisplayName != "Ann Agent" {
		t.Errorf("ann = %+v; want agent ann@acme.test", ann.User)
	}
	// The session works on the WebSocket like a password one.
	p := dial(t, h.s, ann.Token, "ann")
	if _, err := p.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAvailable}); err != nil {
		t.Errorf("presence on an SSO session: %v", err)
	}
	sue, err := h.signIn(t, "sue", "sue-pw")
	if err != nil || sue.User.Role != wire.RoleSupervisor {
		t.Errorf("sue = %+v, %v; want supervisor (supervisor group before agent group)", sue.User, err)
	}
	// A second sign-in finds the same member.
	again, err := h.signIn(t, "ann", "ann-pw")
	if err != nil || again.User.ID != ann.User.ID {
		t.Errorf("second sign-in = %+v, %v; want member %s", again.User, err, ann.User.ID)
	}
	var ss []wire.Session
	h.adm.must(http.MethodGet, "/api/v1/orgs/acme/members/ann@acme.test/sessions", nil, &ss)
	if len(ss) != 2 || ss[0].Method != "sso" || ss[0].Client != "app" {
		t.Errorf("ann's sessions = %+v", ss)
	}
	var list wire.MemberList
	h.adm.must(http.MethodGet, "/api/v1/orgs/acme/members?q=acme.test", nil, &list)
	if list.Total != 2 || !list.Members[0].SSO || list.Members[0].PasswordSet {
		t.Errorf("members = %+v", list)
	}
}

func TestSSORefusals(t *testing.T) {
	h := startSSOHub(t, false)
	// Outside the allowed domains, in no mapped group. (An address the provider says it has not
	// verified is refused too; this provider leaves a false email_verified out of its tokens.)
	for _, tt := range []struct {
		user, pw string
		code     wire.Code
	}{
		{"out", "out-pw", wire.EDOMAIN},
		{"nog", "nog-pw", wire.EFORBIDDEN},
	} {
		_, err := h.signIn(t, tt.user, tt.pw)
		wantCode(t, tt.user, err, tt.code)
	}
	// A disabled member.
	if _, err := h.signIn(t, "ann", "ann-pw"); err != nil {
		t.Fatal(err)
	}
	h.adm.must(http.MethodPost, "/api/v1/orgs/acme/members/ann@acme.test/disable", nil, nil)
	_, err := h.signIn(t, "ann", "ann-pw")
	wantCode(t, "a disabled member", err, wire.EDISABLED)

	var page wire.AuditPage
	h.adm.must(http.MethodGet, "/api/v1/orgs/acme/audit", nil, &page)
	refused := 0
	for _, e := range page.Entries {
		if e.Action == hub.AuditSSOSignInError {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("the audit log has %d refused sign-ins; want 3", refused)
	}
}

func TestSSOWrongNonceAndExpiredToken(t *testing.T) {
	h := startSSOHub(t, false)
	// A browser that changes the nonce the hub asked the provider for: the provider signs the
	// token it was given, and the hub must refuse it.
	b := newBrowser(t)
	b.atProvider = func(u *url.URL) {
		q := u.Query()
		q.Set("nonce", "attacker-chosen-nonce")
		u.RawQuery = q.Encode()
	}
	q := b.signIn(h.s, "acme", "ann", "ann-pw", oauth2.GenerateVerifier())
	if q.Get("error") != string(wire.EUNAUTHORIZED) || q.Get("code") != "" {
		t.Errorf("with a changed nonce the app got %v; want error EUNAUTHORIZED", q)
	}
	if !strings.Contains(h.log.String(), `why="wrong nonce"`) {
		t.Errorf("the hub did not log the wrong nonce:\n%s", h.log.String())
	}
	// The provider's ID tokens live 5 minutes; a hub whose clock has gone past that refuses one.
	b = newBrowser(t)
	b.beforeCallback = func() { h.clk.advance(6 * time.Minute) }
	q = b.signIn(h.s, "acme", "ann", "ann-pw", oauth2.GenerateVerifier())
	if q.Get("error") != string(wire.EUNAUTHORIZED) {
		t.Errorf("with an expired ID token the app got %v; want error EUNAUTHORIZED", q)
	}
	if !strings.Contains(h.log.String(), `why=expired`) {
		t.Errorf("the hub did not log the expired token:\n%s", h.log.String())
	}
}

func TestSSOWrongAudience(t *testing.T) {
	h := startSSOHub(t, false)
	// A real ID token the provider issued to another application, with the right nonce.
	token := func(clientID, secret, redirect string) string {
		conf := oauth2.Config{ClientID: clientID, ClientSecret: secret, RedirectURL: redirect, Scopes: []string{"openid", "email", "profile"},
			Endpoint: oauth2.Endpoint{AuthURL: h.idp.Issuer + "/authorize", TokenURL: h.idp.Issuer + "/oauth/token"}}
		b := newBrowser(t)
		verifier := oauth2.GenerateVerifier()
		next := conf.AuthCodeURL("st", oauth2.SetAuthURLParam("nonce", "n-1"), oauth2.S256ChallengeOption(verifier))
		for range 10 {
			if strings.HasPrefix(next, redirect) {
				u, _ := url.Parse(next)
				tok, err := conf.Exchange(ctx(t), u.Query().Get("code"), oauth2.VerifierOption(verifier))
				if err != nil {
					t.Fatal(err)
				}
				return tok.Extra("id_token").(string)
			}
			res, err := b.hc.Get(next)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if m := formID.FindSubmatch(body); m != nil {
				res, err = b.hc.PostForm(h.idp.Issuer+"/login/username", url.Values{"id": {string(m[1])}, "username": {"ann"}, "password": {"ann-pw"}})
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
			}
			loc, err := res.Location()
			if err != nil {
				t.Fatalf("GET %s = %s: %s", next, res.Status, body)
			}
			next = loc.String()
			if !strings.HasPrefix(next, "http") {
				next = h.idp.Issuer + next
			}
		}
		t.Fatal("too many redirects")
		return ""
	}
	other := token("other-app", "other-secret", "http://127.0.0.1:9/cb")
	err := h.s.VerifyIDToken(ctx(t), "acme", other, "n-1")
	if err == nil || !strings.Contains(wire.ErrorMessage(err), "wrong audience") {
		t.Errorf("a token for another application = %v; want refused for its audience", err)
	}
	// The same flow for the hub's own client passes: the check above is the audience's.
	own := token("parley-hub", "hub-secret", h.s.URL()+"/sso/callback")
	if err := h.s.VerifyIDToken(ctx(t), "acme", own, "n-1"); err != nil {
		t.Errorf("the hub's own token = %v", err)
	}
	if err := h.s.VerifyIDToken(ctx(t), "acme", own+"x", "n-1"); err == nil {
		t.Error("a token with a broken signature passed")
	}
}

func TestSSOCodeNeedsItsVerifierOnce(t *testing.T) {
	h := startSSOHub(t, false)
	verifier := oauth2.GenerateVerifier()
	q := newBrowser(t).signIn(h.s, "acme", "ann", "ann-pw", verifier)
	code := q.Get("code")
	_, err := client.ExchangeSSO(ctx(t), h.s.URL(), code, oauth2.GenerateVerifier())
	wantCode(t, "the code with another verifier", err, wire.EUNAUTHORIZED)
	// A code taken with a wrong verifier is spent: the app signs in again.
	_, err = client.ExchangeSSO(ctx(t), h.s.URL(), code, verifier)
	wantCode(t, "the spent code", err, wire.EUNAUTHORIZED)
	// A redirect that is not a loopback address is refused before the provider sees anything.
	res, err := http.Get(h.s.URL() + "/sso/start?" + url.Values{"org": {"acme"}, "client": {"app"}, "redirect_uri": {"https://evil.example/cb"},
		"state": {"s"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("start with a remote redirect = %s; want 400", res.Status)
	}
	// A callback with no state the hub made gets a page, not a redirect.
	res, err = http.Get(h.s.URL() + "/sso/callback?code=x&state=made-up")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "ELINKEXPIRED") || !strings.Contains(string(body), "Vuelve a Parley") {
		t.Errorf("callback with an unknown state = %s %s", res.Status, body)
	}
}

func TestSSOClaimsFromUserinfoAndPasswordOff(t *testing.T) {
	h := startSSOHub(t, true)
	ann, err := h.signIn(t, "ann", "ann-pw")
	if err != nil || ann.User.Username != "ann@acme.test" || ann.User.Role != wire.RoleAgent {
		t.Fatalf("sign-in with claims only at userinfo = %+v, %v", ann.User, err)
	}
	// Password sign-in goes off only after the admin has signed in through the provider.
	off := wire.SSOSettings{Enabled: true, Name: "Acme Login", Issuer: h.idp.Issuer, ClientID: "parley-hub", AllowedDomains: []string{"acme.test"},
		AgentGroups: []string{"parley-agents"}, AdminGroups: []string{"parley-admins"}, PasswordSignIn: false}
	err = h.adm.call(http.MethodPut, "/api/v1/orgs/acme/settings/sso", off, nil)
	wantCode(t, "password off by an admin who never used the provider", err, wire.ECONFLICT)
	// From the command line it works (the way back is the same command with true).
	if err := h.s.SetPasswordSignIn(ctx(t), hub.CommandLine, "acme", false); err != nil {
		t.Fatal(err)
	}
	_, err = client.Login(ctx(t), h.s.URL(), "acme", "boss", goodPassword)
	wantCode(t, "password sign-in when it is off", err, wire.ESSOREQUIRED)
	opts, _ := client.SignInOptions(ctx(t), h.s.URL(), "acme")
	if opts.Password || opts.SSO == "" {
		t.Errorf("options with password off = %+v", opts)
	}
	// An issuer that does not answer is refused when saved.
	off.Issuer, off.PasswordSignIn = "http://127.0.0.1:1", true
	err = h.adm.call(http.MethodPut, "/api/v1/orgs/acme/settings/sso", off, nil)
	wantCode(t, "an issuer that does not answer", err, wire.EINVALID)
	off.Issuer = "ftp://login.example"
	wantCode(t, "an issuer that is not https", h.adm.call(http.MethodPut, "/api/v1/orgs/acme/settings/sso", off, nil), wire.EINVALID)
}

// TestSSOConsoleReturnsToRecordings: a supervisor signing in with the provider on a recordings
// page comes back to that page (the console's fragment carries the code); a return address other
// than a recordings page is refused.
func TestSSOConsoleReturnsToRecordings(t *testing.T) {
	h := startSSOHub(t, false)
	sum := sha256.Sum256([]byte(oauth2.GenerateVerifier()))
	start := func(ret string) string {
		return h.s.URL() + "/sso/start?" + url.Values{"org": {"acme"}, "client": {"console"}, "state": {"console-state"}, "return": {ret},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}.Encode()
	}
	page := h.s.URL() + "/admin/acme/recordings/c_123"
	back := newBrowser(t).signInAt(h.s, start("recordings/c_123"), page, "sue", "sue-pw")
	if !strings.HasPrefix(back, page+"#sso_") || !strings.Contains(back, "sso_code=") {
		t.Errorf("came back to %q; want the recordings page with the code in its fragment", back)
	}
	list := h.s.URL() + "/admin/acme/recordings/"
	if back := newBrowser(t).signInAt(h.s, start("recordings/"), list, "sue", "sue-pw"); !strings.HasPrefix(back, list+"#sso_") {
		t.Errorf("came back to %q; want the recorded calls with the code in its fragment", back)
	}
	for _, bad := range []string{"recordings/../../x", "people", "//evil.test/x", "recordings/c 1", "recordings", "recordings//"} {
		res, err := newBrowser(t).hc.Get(start(bad))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("return %q = %s; want 400", bad, res.Status)
		}
	}
}
