package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/app/keychain"
	"github.com/parleyhq/parley/wire"
)

// Visual engagement, the agent's side: the provider tab (sign in to an external provider, with the
// credentials in the OS keychain), creating a session, sharing its PIN into the chat with one
// click, and stopping. The built-in co-browse and screen share views subscribe to the frames of an
// active engagement with [Visual.subscribe].

// Events of visual engagement.
const (
	// EventVisual carries the VisualView whenever providers, sign-in or an engagement change.
	EventVisual = "visual"
	// EventVisualFrame carries each wire.VisualEvent of a built-in co-browse, for its replay view.
	EventVisualFrame = "visual.event"
	// EventVisualResult carries a wire.VisualResult: the customer's page refused a command.
	EventVisualResult = "visual.result"
)

// keychainService is the service name of the provider credentials in the OS keychain.
const keychainService = "Parley visual provider"

// Errors of the visual service.
var (
	// ErrKeychainLocked indicates the keychain did not answer (locked): the agent may keep the
	// credentials for this session only.
	ErrKeychainLocked = &wire.Error{Code: wire.EUNAVAILABLE, Message: "the keychain is locked"}
	// ErrKeychainUnavailable indicates there is no keychain to keep the credentials in.
	ErrKeychainUnavailable = &wire.Error{Code: wire.EUNAVAILABLE, Message: "no keychain is available"}
	// ErrProviderSignIn indicates the external provider refused the credentials.
	ErrProviderSignIn = &wire.Error{Code: wire.EUNAUTHORIZED, Message: "the provider refused the credentials"}
	// ErrProviderUnreachable indicates the external provider could not be reached or answered
	// something unusable.
	ErrProviderUnreachable = &wire.Error{Code: wire.EUNAVAILABLE, Message: "the provider could not be reached"}
	// ErrNoProvider indicates a kind of engagement the organisation offers no provider for.
	ErrNoProvider = &wire.Error{Code: wire.EFORBIDDEN, Message: "no provider is configured for this"}
	// ErrNoPIN indicates a share of a PIN when there is none.
	ErrNoPIN = &wire.Error{Code: wire.ECONFLICT, Message: "there is no PIN to share"}
	// ErrProviderInsecure indicates a provider whose credential URLs are plain http to another
	// machine: the app will not send the agent's password there.
	ErrProviderInsecure = &wire.Error{Code: wire.EFORBIDDEN, Message: "the provider's address is not secure (http)"}
	// ErrProviderMoved indicates stored credentials that were kept for another provider address:
	// the agent signs in again before they go anywhere.
	ErrProviderMoved = &wire.Error{Code: wire.EUNAUTHORIZED, Message: "the provider's address changed: sign in again"}
)

// ProviderNotice is something the agent must know about where provider credentials go.
type ProviderNotice string

// Notices about where provider credentials go (ProviderAccount.Notice).
const (
	// NoticeMoved: the provider's address changed since the agent signed in; the stored
	// credentials were dropped and the agent signs in again.
	NoticeMoved ProviderNotice = "moved"
	// NoticeInsecure: the provider's address is plain http to another machine; Parley sends it
	// no credentials.
	NoticeInsecure ProviderNotice = "insecure"
)

// Storage is where a provider account's credentials are kept.
type Storage string

// Storages.
const (
	StorageKeychain Storage = "keychain"
	StorageSession  Storage = "session"
)

// KeychainProblem is why the keychain could not keep a provider account's credentials.
type KeychainProblem string

// Keychain problems.
const (
	KeychainLocked      KeychainProblem = "locked"
	KeychainUnavailable KeychainProblem = "unavailable"
)

// ProviderAccount is the agent's sign-in to one external provider.
type ProviderAccount struct {
	SignedIn bool   `json:"signed_in"`
	Username string `json:"username,omitempty"`
	// Storage is StorageKeychain or StorageSession (for this session only) while signed in.
	Storage Storage `json:"storage,omitempty"`
	// Problem is "locked" or "unavailable" when the keychain could not be used, so the UI offers
	// to keep the credentials for this session only.
	Problem KeychainProblem `json:"problem,omitempty"`
	// Host is where Parley sends these credentials (the host of the provider's verify and
	// session URLs), shown to the agent before and after signing in.
	Host   string         `json:"host,omitempty"`
	Notice ProviderNotice `json:"notice,omitempty"`
	// PreviousHost is, with NoticeMoved, the host the dropped credentials were for ("" when
	// they were kept before Parley recorded it).
	PreviousHost string `json:"previous_host,omitempty"`
}

// VisualView is the state of visual engagement for the UI.
type VisualView struct {
	// Settings are the organisation's providers; Known is false until the hub has said them.
	Settings wire.VisualSettings `json:"settings"`
	Known    bool                `json:"known"`
	// Accounts are the agent's sign-ins, by kind, for kinds with an external provider.
	Accounts map[wire.VisualKind]ProviderAccount `json:"accounts"`
	// Engagements are the latest engagement of each conversation (open, or the last one ended).
	Engagements []wire.Visual `json:"engagements"`
}

// KeychainStore keeps provider credentials (Config.Keychain); keychain.NewOS by default.
type KeychainStore = keychain.Store

// Visual is the agent's visual engagement service, bound to the UI.
type Visual struct {
	c *core
	// keys is the OS keychain; session keeps what the agent chose to keep for this session only.
	keys    keychain.Store
	session *keychain.Session
	http    *http.Client

	mu       sync.Mutex
	settings wire.VisualSettings
	known    bool
	accounts map[wire.VisualKind]ProviderAccount
	// creds are the signed-in credentials, by kind (in memory while the app runs), with the
	// origin they are bound to.
	creds map[wire.VisualKind]credentials
	// engagements are the latest engagement of each conversation.
	engagements map[wire.ConversationID]wire.Visual
	// subs get every visual frame (the built-in co-browse and screen-share views).
	subs []func(wire.Envelope)
	// screens runs the built-in screen shares (app/screenshare.go).
	screens *screenShares
}

func newVisual(c *core, keys keychain.Store) *Visual {
	if keys == nil {
		keys = keychain.NewOS(nil, keychain.DefaultTimeout)
	}
	// Redirects are not followed: the provider's password goes to the URL the agent was shown,
	// never on to wherever that URL points (a plain-http one included).
	noRedirects := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	v := &Visual{c: c, keys: keys, session: keychain.NewSession(), http: &http.Client{Timeout: 10 * time.Second, CheckRedirect: noRedirects}}
	v.drop()
	v.screens = v.attachScreenShares()
	return v
}

// drop forgets the signed-out session's state (the credentials stay in the keychain).
func (v *Visual) drop() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.settings, v.known = wire.VisualSettings{}, false
	v.accounts = map[wire.VisualKind]ProviderAccount{}
	v.creds = map[wire.VisualKind]credentials{}
	v.engagements = map[wire.ConversationID]wire.Visual{}
	if v.screens != nil {
		// The hub ends the engagements of an agent that went; free the calls now.
		v.screens.do(v.screens.closeAll)
	}
}

// subscribe adds f to the receivers of every visual frame from the hub. f runs on the goroutine
// that reads the hub connection, with the core locked: it must not block or call back into it.
func (v *Visual) subscribe(f func(wire.Envelope)) {
	v.mu.Lock()
	v.subs = append(v.subs, f)
	v.mu.Unlock()
}

// onHub takes one visual frame from the hub. It runs with the core locked, so it never touches
// the keychain or the network itself.
func (v *Visual) onHub(ev wire.Envelope) {
	v.mu.Lock()
	subs := v.subs
	switch ev.Type {
	case wire.TypeVisualSettings:
		var s wire.VisualSettings
		if ev.Unmarshal(&s) == nil {
			v.settings, v.known = s, true
			go v.loadAccounts()
		}
	case wire.TypeVisualState:
		var st wire.Visual
		if ev.Unmarshal(&st) == nil {
			v.engagements[st.Conv] = st
			v.c.log.Info("visual engagement", "conv", st.Conv, "visual", st.ID, "kind", st.Kind, "state", st.State, "reason", st.Reason)
		}
	}
	v.mu.Unlock()
	for _, f := range subs {
		f(ev)
	}
	switch ev.Type {
	case wire.TypeVisualSettings, wire.TypeVisualState:
		v.emit()
	case wire.TypeVisualEvent:
		var fr wire.VisualEvent
		if ev.Unmarshal(&fr) == nil {
			v.c.events.emit(EventVisualFrame, fr)
		}
	case wire.TypeVisualResult:
		var r wire.VisualResult
		if ev.Unmarshal(&r) == nil {
			v.c.log.Info("cobrowse command refused by the page", "visual", r.Visual, "action", r.Action, "code", r.Code)
			v.c.events.emit(EventVisualResult, r)
		}
	}
}

func (v *Visual) viewLocked() VisualView {
	view := VisualView{Settings: v.settings, Known: v.known, Accounts: map[wire.VisualKind]ProviderAccount{}, Engagements: []wire.Visual{}}
	for k, a := range v.accounts {
		view.Accounts[k] = a
	}
	for _, e := range v.engagements {
		view.Engagements = append(view.Engagements, e)
	}
	return view
}

// emit tells the UI the current state. The view is taken and queued under mu, so the last one
// emitted is never older than the last change, whichever goroutine emits.
func (v *Visual) emit() VisualView {
	v.mu.Lock()
	defer v.mu.Unlock()
	view := v.viewLocked()
	v.c.events.emit(EventVisual, view)
	return view
}

// View returns the current state.
func (v *Visual) View() VisualView {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.viewLocked()
}

// provider returns the organisation's provider of kind.
func (v *Visual) provider(kind wire.VisualKind) (wire.ProviderConfig, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	pc := v.settings.Cobrowse
	switch kind {
	case wire.VisualCobrowse:
	case wire.VisualScreenShare:
		pc = v.settings.ScreenShare
	default:
		return pc, wire.Errorf(wire.EINVALID, "kind must be cobrowse or screenshare")
	}
	if pc.Provider == wire.ProviderNone || (pc.Provider == wire.ProviderExternal && pc.External == nil) {
		return pc, ErrNoProvider
	}
	return pc, nil
}

// account is the keychain account of the signed-in member's external provider: one per hub,
// organisation and provider.
func (v *Visual) account(p *wire.ExternalProvider) string {
	v.c.mu.Lock()
	defer v.c.mu.Unlock()
	org := ""
	if u := v.c.session.User; u != nil {
		org = string(u.Org)
	}
	return v.c.session.HubURL + " " + org + " " + p.Name
}

// credentials are what the keychain keeps for an account. Origin binds them to where they may
// be sent: the keychain entry is named by hub, organisation and provider name, which an admin can
// keep while pointing the provider's URLs somewhere else.
type credentials struct {
	Username string `json:"u"`
	Password string `json:"p"`
	Origin   string `json:"o"`
}

// credentialOrigin is where a provider's credentials go: the origins of its verify and session
// URLs (its sign-in page's when it has neither), space-separated, and their hosts for the agent
// to read. It refuses a provider any of whose URLs is plain http to another machine.
func credentialOrigin(p *wire.ExternalProvider) (origin, hosts string, err error) {
	urls := []string{p.VerifyURL, p.SessionURL}
	if p.VerifyURL == "" && p.SessionURL == "" {
		urls = []string{p.SignInURL}
	}
	var origins, names []string
	for _, raw := range urls {
		if raw == "" {
			continue
		}
		u, perr := url.Parse(raw)
		if perr != nil || !wire.SecureProviderURL(raw) {
			return "", hostOf(raw), ErrProviderInsecure
		}
		o := u.Scheme + "://" + strings.ToLower(u.Host)
		if !slices.Contains(origins, o) {
			origins, names = append(origins, o), append(names, u.Host)
		}
	}
	return strings.Join(origins, " "), strings.Join(names, ", "), nil
}

// hostOf is the host part of a URL or origin list, for the agent to read.
func hostOf(raw string) string {
	var hosts []string
	for _, f := range strings.Fields(raw) {
		if u, err := url.Parse(f); err == nil && u.Host != "" {
			hosts = append(hosts, u.Host)
		}
	}
	return strings.Join(hosts, ", ")
}

// loadAccounts looks up the stored credentials of each external provider (off the hub reader:
// the keychain may take its whole timeout).
func (v *Visual) loadAccounts() {
	for _, kind := range []wire.VisualKind{wire.VisualCobrowse, wire.VisualScreenShare} {
		pc, err := v.provider(kind)
		if err != nil || pc.Provider != wire.ProviderExternal {
			continue
		}
		acct := v.account(pc.External)
		origin, host, oerr := credentialOrigin(pc.External)
		a := ProviderAccount{Host: host}
		var cr credentials
		raw, err := v.session.Get(keychainService, acct)
		storage := StorageSession
		if errors.Is(err, keychain.ErrNotFound) {
			raw, err = v.keys.Get(keychainService, acct)
			storage = StorageKeychain
		}
		switch {
		case oerr != nil:
			// Nothing is sent to a plain-http provider, stored credentials or not.
			a.Notice = NoticeInsecure
		case err == nil && json.Unmarshal([]byte(raw), &cr) == nil && cr.Origin != origin:
			// The provider now points elsewhere: the password was given for the old address, so
			// it is dropped rather than sent to the new one.
			a.Notice, a.PreviousHost = NoticeMoved, hostOf(cr.Origin)
			_ = v.session.Delete(keychainService, acct)
			_ = v.keys.Delete(keychainService, acct)
			v.c.log.Warn("provider address changed: stored credentials dropped", "provider", pc.External.Name, "kind", kind, "from", a.PreviousHost, "to", host)
		case err == nil && cr.Username != "":
			a.SignedIn, a.Username, a.Storage = true, cr.Username, storage
		case errors.Is(err, keychain.ErrLocked):
			a.Problem = KeychainLocked
		case errors.Is(err, keychain.ErrUnavailable):
			a.Problem = KeychainUnavailable
		}
		v.mu.Lock()
		v.accounts[kind] = a
		delete(v.creds, kind)
		if a.SignedIn {
			v.creds[kind] = cr
		}
		v.mu.Unlock()
	}
	v.emit()
}

// SignIn signs the agent in to the external provider of kind: it checks the credentials with
// the provider (when it has a VerifyURL) and keeps them in the OS keychain, or in memory for this
// session only when sessionOnly is set. A locked or missing keychain returns ErrKeychainLocked or
// ErrKeychainUnavailable, and the view's account says so.
func (v *Visual) SignIn(kind wire.VisualKind, username, password string, sessionOnly bool) (VisualView, error) {
	pc, err := v.provider(kind)
	if err != nil {
		return v.View(), err
	}
	if pc.Provider != wire.ProviderExternal {
		return v.View(), wire.Errorf(wire.EINVALID, "the built-in provider needs no sign-in")
	}
	username = strings.TrimSpace(username)
	if username == "" || password == "" || len(username) > 200 || len(password) > 1000 {
		return v.View(), wire.Errorf(wire.EINVALID, "username and password are required")
	}
	log := v.c.log.With("provider", pc.External.Name, "kind", kind)
	origin, host, err := credentialOrigin(pc.External)
	if err != nil {
		log.Warn("provider sign-in refused: plain http", "host", host)
		return v.View(), err
	}
	if pc.External.VerifyURL != "" {
		if err := v.verify(pc.External.VerifyURL, username, password); err != nil {
			log.Info("provider sign-in refused", "code", wire.ErrorCode(err))
			return v.View(), err
		}
	}
	cr := credentials{Username: username, Password: password, Origin: origin}
	raw, _ := json.Marshal(cr)
	acct := v.account(pc.External)
	a := ProviderAccount{SignedIn: true, Username: username, Storage: StorageKeychain, Host: host}
	if sessionOnly {
		_ = v.session.Set(keychainService, acct, string(raw))
		a.Storage = StorageSession
	} else if err := v.keys.Set(keychainService, acct, string(raw)); err != nil {
		a = ProviderAccount{Problem: KeychainUnavailable, Host: host}
		werr := ErrKeychainUnavailable
		if errors.Is(err, keychain.ErrLocked) {
			a.Problem, werr = KeychainLocked, ErrKeychainLocked
		}
		log.Warn("keeping provider credentials in the keychain failed", "problem", a.Problem)
		v.mu.Lock()
		v.accounts[kind] = a
		v.mu.Unlock()
		return v.emit(), werr
	}
	v.mu.Lock()
	v.accounts[kind] = a
	v.creds[kind] = cr
	v.mu.Unlock()
	log.Info("signed in to the provider", "storage", a.Storage, "host", host)
	return v.emit(), nil
}

// SignOut forgets the external provider's credentials of kind, in the keychain too.
func (v *Visual) SignOut(kind wire.VisualKind) (VisualView, error) {
	pc, err := v.provider(kind)
	if err != nil || pc.Provider != wire.ProviderExternal {
		return v.View(), err
	}
	acct := v.account(pc.External)
	_ = v.session.Delete(keychainService, acct)
	err = v.keys.Delete(keychainService, acct)
	_, host, _ := credentialOrigin(pc.External)
	v.mu.Lock()
	delete(v.creds, kind)
	v.accounts[kind] = ProviderAccount{Host: host}
	v.mu.Unlock()
	view := v.emit()
	switch {
	case errors.Is(err, keychain.ErrLocked):
		return view, ErrKeychainLocked
	case err != nil:
		return view, ErrKeychainUnavailable
	}
	v.c.log.Info("signed out of the provider", "provider", pc.External.Name, "kind", kind)
	return view, nil
}

// verify checks credentials with the provider's VerifyURL.
func (v *Visual) verify(u, username, password string) error {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return ErrProviderUnreachable
	}
	req.SetBasicAuth(username, password)
	resp, err := v.http.Do(req)
	if err != nil {
		return ErrProviderUnreachable
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return ErrProviderSignIn
	case resp.StatusCode/100 != 2:
		return ErrProviderUnreachable
	}
	return nil
}

// Start creates a session and invites the customer of conv: with the built-in provider the hub
// makes the PIN; with an external provider that has a SessionURL, the app creates the session
// there with the stored credentials and passes its PIN and id on. For an external provider whose
// PIN the agent reads on its session page, use StartWithPIN.
func (v *Visual) Start(conv wire.ConversationID, kind wire.VisualKind) (wire.Visual, error) {
	pc, err := v.provider(kind)
	if err != nil {
		return wire.Visual{}, err
	}
	if pc.Provider != wire.ProviderExternal {
		return v.invite(wire.VisualInvite{Conv: conv, Kind: kind})
	}
	if pc.External.SessionURL == "" {
		return wire.Visual{}, wire.Errorf(wire.EINVALID, "this provider's PIN is read on its session page: type it in")
	}
	v.mu.Lock()
	cr, ok := v.creds[kind]
	v.mu.Unlock()
	if !ok {
		return wire.Visual{}, wire.Errorf(wire.EUNAUTHORIZED, "sign in to the provider first")
	}
	// The settings may have changed since sign-in (an admin edit arrives as visual.settings while
	// the app runs): the password goes only where the agent gave it for.
	if origin, _, err := credentialOrigin(pc.External); err != nil {
		return wire.Visual{}, err
	} else if origin != cr.Origin {
		go v.loadAccounts() // drops them and tells the agent why
		return wire.Visual{}, ErrProviderMoved
	}
	session, pin, err := v.createSession(pc.External, cr.Username, cr.Password)
	if err != nil {
		v.c.log.Info("creating a provider session failed", "provider", pc.External.Name, "code", wire.ErrorCode(err))
		return wire.Visual{}, err
	}
	return v.invite(wire.VisualInvite{Conv: conv, Kind: kind, PIN: pin, Session: session})
}

// StartWithPIN invites the customer of conv to an external provider's session whose PIN (and
// id, if the join page needs it) the agent read in the provider tab.
func (v *Visual) StartWithPIN(conv wire.ConversationID, kind wire.VisualKind, pin, session string) (wire.Visual, error) {
	pc, err := v.provider(kind)
	if err != nil {
		return wire.Visual{}, err
	}
	if pc.Provider != wire.ProviderExternal {
		return wire.Visual{}, wire.Errorf(wire.EINVALID, "the built-in provider makes its own PIN")
	}
	return v.invite(wire.VisualInvite{Conv: conv, Kind: kind, PIN: strings.TrimSpace(pin), Session: strings.TrimSpace(session)})
}

func (v *Visual) invite(m wire.VisualInvite) (wire.Visual, error) {
	ack, err := v.c.request(wire.TypeVisualInvite, m)
	if err != nil {
		return wire.Visual{}, err
	}
	// The hub sends the state right after the Ack; wait briefly for it so the caller has the PIN.
	deadline := time.Now().Add(requestTimeout)
	for time.Now().Before(deadline) {
		v.mu.Lock()
		e, ok := v.engagements[m.Conv]
		v.mu.Unlock()
		if ok && e.ID == ack.Visual {
			return e, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return wire.Visual{ID: ack.Visual, Conv: m.Conv, Kind: m.Kind, State: wire.VisualInvited}, nil
}

// createSession POSTs to the provider's SessionURL with basic auth and reads the session id and
// PIN from its JSON answer.
func (v *Visual) createSession(p *wire.ExternalProvider, username, password string) (session, pin string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.SessionURL, bytes.NewReader([]byte("{}")))
	if err != nil {
		return "", "", ErrProviderUnreachable
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(username, password)
	resp, err := v.http.Do(req)
	if err != nil {
		return "", "", ErrProviderUnreachable
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case err != nil:
		return "", "", ErrProviderUnreachable
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", "", ErrProviderSignIn
	case resp.StatusCode/100 != 2:
		return "", "", ErrProviderUnreachable
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", "", ErrProviderUnreachable
	}
	if p.SessionIDPointer != "" {
		if session, err = pointer(doc, p.SessionIDPointer); err != nil {
			return "", "", ErrProviderUnreachable
		}
	}
	if p.PINPointer != "" {
		if pin, err = pointer(doc, p.PINPointer); err != nil {
			return "", "", ErrProviderUnreachable
		}
	}
	return session, pin, nil
}

// pointer resolves an RFC 6901 JSON pointer to a string or number in doc.
func pointer(doc any, ptr string) (string, error) {
	if !strings.HasPrefix(ptr, "/") {
		return "", fmt.Errorf("pointer %q does not start with /", ptr)
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch node := cur.(type) {
		case map[string]any:
			next, ok := node[tok]
			if !ok {
				return "", fmt.Errorf("no %q", tok)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(node) {
				return "", fmt.Errorf("no index %q", tok)
			}
			cur = node[i]
		default:
			return "", fmt.Errorf("no %q", tok)
		}
	}
	switch val := cur.(type) {
	case string:
		return val, nil
	case float64:
		return strconv.FormatFloat(val, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("pointer %q is not a string or number", ptr)
}

// SharePIN posts the PIN of conv's engagement into the chat, as text with "{pin}" replaced (the
// UI passes the sentence in the agent's language).
func (v *Visual) SharePIN(conv wire.ConversationID, text string) (MessageView, error) {
	v.mu.Lock()
	e, ok := v.engagements[conv]
	v.mu.Unlock()
	if !ok || e.State != wire.VisualInvited || e.PIN == "" {
		return MessageView{}, ErrNoPIN
	}
	if !strings.Contains(text, "{pin}") {
		text = "PIN: {pin}"
	}
	return (&Conversations{c: v.c}).Send(conv, strings.ReplaceAll(text, "{pin}", e.PIN))
}

// Stop ends conv's open engagement.
func (v *Visual) Stop(conv wire.ConversationID) error {
	v.mu.Lock()
	e, ok := v.engagements[conv]
	v.mu.Unlock()
	if !ok || e.State == wire.VisualEnded {
		return nil
	}
	_, err := v.c.request(wire.TypeVisualStop, wire.VisualRef{Visual: e.ID})
	return err
}

// Pointer moves or hides the laser pointer in the customer's view.
func (v *Visual) Pointer(p wire.VisualPointer) error {
	_, err := v.c.request(wire.TypeVisualPointer, p)
	return err
}

// Command clicks, types, scrolls or navigates in a co-browsed page (only while the customer grants
// control; the hub refuses it otherwise).
func (v *Visual) Command(cmd wire.VisualCommand) error {
	_, err := v.c.request(wire.TypeVisualCommand, cmd)
	return err
}

// JoinURL fills an external provider's join URL template, as the customer's portal does; tools
// and tests use it.
func JoinURL(template, pin string) string {
	return strings.ReplaceAll(template, "{pin}", url.QueryEscape(pin))
}
