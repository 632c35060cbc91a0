// Package testidp runs a real OpenID Connect provider for tests: zitadel/oidc's op package (a
// complete provider: discovery, keys, authorization with PKCE, token endpoint, userinfo) over its
// in-memory example storage, with users that carry groups and a small login page a test fills
// in as a person would. It is never linked into a release binary.
package testidp

import (
	"context"
	"crypto/sha256"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is an account at the provider.
type User struct {
	ID, Username, Password string
	Email                  string
	EmailVerified          bool
	First, Last            string
	// Groups go into the "groups" claim.
	Groups []string
}

// Client is an application registered at the provider (a confidential web client).
type Client struct {
	ID, Secret   string
	RedirectURIs []string
	// ClaimsInUserinfoOnly keeps email, name and groups out of the ID token (as some providers
	// do): the relying party must ask the userinfo endpoint.
	ClaimsInUserinfoOnly bool
}

// Provider is a running provider.
type Provider struct {
	// Issuer is its issuer URL (http on loopback).
	Issuer string
	srv    *http.Server
	ln     net.Listener
}

// Start runs a provider on a free loopback port (addr "" ) or on addr.
func Start(addr string, users []User, clients []Client) (*Provider, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	issuer := "http://" + ln.Addr().String()
	us := &userStore{users: map[string]*storage.User{}, groups: map[string][]string{}}
	for _, u := range users {
		us.users[u.ID] = &storage.User{ID: u.ID, Username: u.Username, Password: u.Password, FirstName: u.First, LastName: u.Last,
			Email: u.Email, EmailVerified: u.EmailVerified, PreferredLanguage: language.English}
		us.groups[u.ID] = u.Groups
	}
	st := &store{Storage: storage.NewStorage(us), users: us, clients: map[string]Client{}}
	for _, c := range clients {
		st.clients[c.ID] = c
	}
	key := sha256.Sum256([]byte("parley-test-idp"))
	p, err := op.NewProvider(&op.Config{CryptoKey: key, CodeMethodS256: true, AuthMethodPost: true, SupportedUILocales: []language.Tag{language.English}},
		st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	login := &loginPage{st: st, callback: op.AuthCallbackURL(p)}
	mux.HandleFunc("GET /login/username", login.form)
	mux.Handle("POST /login/username", op.NewIssuerInterceptor(p.IssuerFromRequest).HandlerFunc(login.check))
	mux.Handle("/", p)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &Provider{Issuer: issuer, srv: srv, ln: ln}, nil
}

// Close stops the provider.
func (p *Provider) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.srv.Shutdown(ctx)
}

// userStore implements the example storage's UserStore, and keeps each user's groups.
type userStore struct {
	mu     sync.Mutex
	users  map[string]*storage.User
	groups map[string][]string
}

func (u *userStore) GetUserByID(id string) *storage.User { return u.users[id] }

func (u *userStore) GetUserByUsername(name string) *storage.User {
	for _, x := range u.users {
		if x.Username == name {
			return x
		}
	}
	return nil
}

func (u *userStore) ExampleClientID() string { return "" }

// store is the example storage with this package's clients and a "groups" claim.
type store struct {
	*storage.Storage
	users   *userStore
	clients map[string]Client
}

// client is a registered client as the provider sees it.
type client struct {
	*storage.Client
	c Client
}

// IDTokenUserinfoClaimsAssertion puts email, profile and groups into the ID token (as most
// providers do) unless the client asked otherwise.
func (c client) IDTokenUserinfoClaimsAssertion() bool { return !c.c.ClaimsInUserinfoOnly }

// IDTokenLifetime is five minutes, like many providers.
func (c client) IDTokenLifetime() time.Duration { return 5 * time.Minute }

func (s *store) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("client %q not found", id)
	}
	return client{storage.WebClient(c.ID, c.Secret, c.RedirectURIs...), c}, nil
}

func (s *store) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	if c, ok := s.clients[id]; ok && c.Secret == secret {
		return nil
	}
	return fmt.Errorf("invalid client secret")
}

func (s *store) addGroups(info *oidc.UserInfo, subject string, scopes []string) {
	for _, sc := range scopes {
		if sc == oidc.ScopeProfile {
			if g := s.users.groups[subject]; g != nil {
				info.AppendClaims("groups", g)
			}
		}
	}
}

func (s *store) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, token, scopes); err != nil {
		return err
	}
	s.addGroups(info, token.GetSubject(), scopes)
	return nil
}

func (s *store) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	s.addGroups(info, info.Subject, []string{oidc.ScopeProfile})
	return nil
}

// loginPage is the provider's sign-in form.
type loginPage struct {
	st       *store
	callback func(context.Context, string) string
}

var formTmpl = template.Must(template.New("login").Parse(`<!doctype html><meta charset="utf-8"><title>Test IdP sign-in</title>
<body style="font:15px sans-serif;max-width:360px;margin:60px auto">
<h1>Test identity provider</h1>{{if .Error}}<p data-testid="idp-error">{{.Error}}</p>{{end}}
<form method="post" action="/login/username"><input type="hidden" name="id" value="{{.ID}}">
<label>Username <input name="username" data-testid="idp-username" autocomplete="username"></label><br>
<label>Password <input name="password" type="password" data-testid="idp-password" autocomplete="current-password"></label><br>
<button type="submit" data-testid="idp-submit">Sign in</button></form></body>`))

func (l *loginPage) form(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = formTmpl.Execute(w, map[string]string{"ID": r.URL.Query().Get("authRequestID")})
}

func (l *loginPage) check(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	if err := l.st.CheckUsernamePassword(r.FormValue("username"), r.FormValue("password"), id); err != nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_ = formTmpl.Execute(w, map[string]string{"ID": id, "Error": err.Error()})
		return
	}
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}

// Browser plays a person's browser through a sign-in: it follows redirects, types the username
// and password into the provider's form, and stops at the first address done says is the end
// (for an app, its loopback redirect), which it fetches (as a browser would) unless Fetch is off.
type Browser struct {
	// AtProvider may change the authorization request the provider receives.
	AtProvider func(u *url.URL)
	// BeforeStep runs before each request, with its URL.
	BeforeStep func(u *url.URL)
	hc         *http.Client
}

// NewBrowser returns a browser with its own cookies.
func NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var formID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// SignIn goes from start, signs in as user at the provider, and returns the address it ended at
// (where done returned true), after fetching it when fetch is set.
func (b *Browser) SignIn(start, user, password string, done func(*url.URL) bool, fetch bool) (*url.URL, error) {
	next, err := url.Parse(start)
	if err != nil {
		return nil, err
	}
	for range 20 {
		if done(next) {
			if fetch {
				res, err := b.hc.Get(next.String())
				if err != nil {
					return next, err
				}
				res.Body.Close()
			}
			return next, nil
		}
		if b.AtProvider != nil && next.Query().Get("nonce") != "" && strings.Contains(next.Path, "authorize") {
			b.AtProvider(next)
		}
		if b.BeforeStep != nil {
			b.BeforeStep(next)
		}
		res, err := b.hc.Get(next.String())
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode == http.StatusFound || res.StatusCode == http.StatusSeeOther:
			loc, err := res.Location()
			if err != nil {
				return nil, err
			}
			next = loc
		case res.StatusCode == http.StatusOK && formID.Match(body):
			form := url.Values{"id": {string(formID.FindSubmatch(body)[1])}, "username": {user}, "password": {password}}
			res, err := b.hc.PostForm(next.Scheme+"://"+next.Host+"/login/username", form)
			if err != nil {
				return nil, err
			}
			res.Body.Close()
			if res.StatusCode != http.StatusFound {
				return nil, fmt.Errorf("provider sign-in of %s answered %s", user, res.Status)
			}
			loc, err := res.Location()
			if err != nil {
				return nil, err
			}
			next = next.ResolveReference(loc)
		default:
			return nil, fmt.Errorf("GET %s = %s: %.200s", next, res.Status, body)
		}
	}
	return nil, fmt.Errorf("too many redirects")
}
