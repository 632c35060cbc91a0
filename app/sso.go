package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// Signing in through the organisation's identity provider the way native apps must (RFC 8252):
// the app opens the system browser at the hub, which sends it on to the provider; the provider's
// page never shows inside the app's own window. The browser comes back to a loopback address the
// app listens on (http://127.0.0.1:PORT/callback, a fresh port each time) with a one-time code,
// which the app exchanges at the hub with the PKCE verifier only it knows.

// ssoTimeout is how long the app waits for the person to finish in the browser.
const ssoTimeout = 5 * time.Minute

// ErrSSOCancelled indicates a single sign-on the agent cancelled, or that timed out.
var ErrSSOCancelled = &wire.Error{Code: wire.EUNAVAILABLE, Message: "single sign-on cancelled or timed out"}

// randomString is 32 random bytes, base64url.
func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// SignInSSO signs in to org through its identity provider in the system browser. It returns
// once signed in, or with ErrSSOCancelled after CancelSSO or five minutes.
func (s *Session) SignInSSO(hubURL, org string) (SessionView, error) {
	return s.c.signInTo(hubURL, org, s.c.signInSSO)
}

// signInSSO is SignInSSO once signInTo holds signMu and has checked the hub and organisation.
func (c *core) signInSSO(hubURL string, oid wire.OrgID) (SessionView, error) {
	if c.openURL == nil {
		return SessionView{}, wire.Errorf(wire.EUNAVAILABLE, "no system browser to sign in with")
	}
	ctx, cancel := context.WithTimeout(context.Background(), ssoTimeout)
	defer cancel()
	c.mu.Lock()
	c.ssoCancel = cancel
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.ssoCancel = nil
		c.mu.Unlock()
	}()

	// The loopback redirect: an IP literal (not "localhost", RFC 8252 §8.3), any free port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return SessionView{}, wire.Errorf(wire.EUNAVAILABLE, "no loopback port for the sign-in: %v", err)
	}
	redirect := "http://" + ln.Addr().String() + "/callback"
	verifier, state := randomString(), randomString()
	sum := sha256.Sum256([]byte(verifier))
	got := make(chan url.Values, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/callback" || q.Get("state") != state {
			http.NotFound(w, r) // not the answer to this sign-in
			return
		}
		ssoDonePage(w, r, q.Get("error") == "")
		select {
		case got <- q:
		default:
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	start := hubURL + "/sso/start?" + url.Values{"org": {string(oid)}, "client": {"app"}, "redirect_uri": {redirect}, "state": {state},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}.Encode()
	log := c.log.With("hub", hubURL, "org", oid)
	log.Info("single sign-on: opening the system browser")
	if err := c.openURL(start); err != nil {
		log.Warn("single sign-on: could not open the system browser", "err", err)
		return SessionView{}, wire.Errorf(wire.EUNAVAILABLE, "could not open the system browser")
	}
	var q url.Values
	select {
	case q = <-got:
	case <-ctx.Done():
		log.Info("single sign-on cancelled or timed out")
		return SessionView{}, ErrSSOCancelled
	}
	if e := q.Get("error"); e != "" {
		log.Info("single sign-on refused", "code", e)
		return SessionView{}, &wire.Error{Code: wire.Code(e), Message: "the hub refused the sign-in"}
	}
	xctx, xcancel := context.WithTimeout(context.Background(), signInTimeout)
	defer xcancel()
	login, err := client.ExchangeSSO(xctx, hubURL, q.Get("code"), verifier)
	if err != nil {
		log.Info("single sign-on: code refused", "code", wire.ErrorCode(err), "err", err)
		return SessionView{}, signInError(err)
	}
	return c.connect(xctx, hubURL, login, login.User.Username)
}

// CancelSSO stops waiting for a single sign-on in the browser.
func (s *Session) CancelSSO() error {
	s.c.mu.Lock()
	cancel := s.c.ssoCancel
	s.c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return nil
}

// ssoDonePage is what the browser shows when it comes back to the app: close this tab.
func ssoDonePage(w http.ResponseWriter, r *http.Request, ok bool) {
	en, es := "You are signed in to Parley. You can close this tab and go back to the app.",
		"Has iniciado sesión en Parley. Puedes cerrar esta pestaña y volver a la aplicación."
	if !ok {
		en, es = "The sign-in did not work. Go back to Parley to see why.", "No se pudo iniciar sesión. Vuelve a Parley para ver por qué."
	}
	first, second, lang := en, es, "en"
	if strings.HasPrefix(r.Header.Get("Accept-Language"), "es") {
		first, second, lang = es, en, "es"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	fmt.Fprintf(w, `<!doctype html><html lang="%s"><meta charset="utf-8"><title>Parley</title>
<body style="font:16px system-ui,sans-serif;max-width:520px;margin:80px auto;padding:0 16px;color:#1d2433">
<h1 style="font-size:20px" data-testid="sso-done">%s</h1><p style="color:#5b6475">%s</p></body></html>`, lang, html.EscapeString(first), html.EscapeString(second))
}

// signInFile is where the app remembers the last hub, organisation and username (no secrets).
const signInFile = "signin.json"

// remember writes the last sign-in's hub, organisation and username for the next start.
func (c *core) remember(p Prefill) {
	if c.stateDir == "" {
		return
	}
	b, err := json.Marshal(p)
	if err == nil {
		if err = os.MkdirAll(c.stateDir, 0o700); err == nil {
			err = os.WriteFile(filepath.Join(c.stateDir, signInFile), b, 0o600)
		}
	}
	if err != nil {
		c.log.Warn("could not remember the sign-in", "err", err)
	}
}

// remembered reads what remember wrote; the zero Prefill when there is nothing.
func remembered(dir string) Prefill {
	var p Prefill
	if dir == "" {
		return p
	}
	b, err := os.ReadFile(filepath.Join(dir, signInFile))
	if err != nil {
		return p
	}
	if json.Unmarshal(b, &p) != nil {
		return Prefill{}
	}
	return p
}
