package hub

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Accounts: organisations and their members, setup links, and the audit entry every change
// writes in the same transaction. parley-hub's subcommands, the admin console's API and the demo
// seed all come through here, so they check the same things.

// Actor is who makes an account change: an admin signed in to the console (with the address the
// request came from), or the command line.
type Actor struct {
	User wire.UserID
	// Name is how the audit log names the actor.
	Name string
	// Addr is the address the request came from.
	Addr string
}

// CommandLine is the actor of parley-hub's subcommands.
var CommandLine = Actor{Name: "parley-hub"}

// Audit actions.
const (
	AuditOrgCreate       = "org.create"
	AuditOrgUpdate       = "org.update"
	AuditMemberInvite    = "member.invite"
	AuditMemberUpdate    = "member.update"
	AuditMemberDisable   = "member.disable"
	AuditMemberEnable    = "member.enable"
	AuditMemberReset     = "member.reset"
	AuditPasswordSet     = "member.password_set"
	AuditSignIn          = "session.signin"
	AuditSignOut         = "session.signout"
	AuditSessionEnd      = "session.end"
	AuditSSOUpdate       = "settings.sso"
	AuditVisualUpdate    = "settings.visual"
	AuditAutoCloseUpdate = "settings.autoclose"
	AuditSSOSignInError  = "session.sso_refused"
)

// DefaultSetupLinkTTL is how long a setup link works when Config.SetupLinkTTL is zero.
const DefaultSetupLinkTTL = 72 * time.Hour

var (
	orgIDPattern    = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)
	usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@+-]{0,99}$`)
)

// CheckOrgID refuses an organisation id that is not 1 to 40 lower-case letters, digits and
// hyphens (not at either end): it appears in the portal's and the console's URLs.
func CheckOrgID(id wire.OrgID) error {
	if !orgIDPattern.MatchString(string(id)) {
		return wire.Errorf(wire.EINVALID, "organisation id %q must be 1 to 40 lower-case letters, digits and hyphens, e.g. acme or acme-support", id)
	}
	return nil
}

// NormalizeUsername lower-cases and trims a username: usernames are not case-sensitive.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CheckUsername refuses a username that is not 1 to 100 lower-case letters, digits and . _ @ + -,
// starting with a letter or digit (an email address is a valid username).
func CheckUsername(u string) error {
	if !usernamePattern.MatchString(u) {
		return wire.Errorf(wire.EINVALID, "username %q must be 1 to 100 lower-case letters, digits and . _ @ + -", u)
	}
	return nil
}

// checkName refuses a display name that is empty, over wire.MaxNameBytes, or has control
// characters.
func checkName(what, name string) error {
	if name == "" {
		return wire.Errorf(wire.EINVALID, "%s is required", what)
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, isControl) {
		return wire.Errorf(wire.EINVALID, "%s has characters that are not allowed", what)
	}
	if len(name) > wire.MaxNameBytes {
		return wire.Errorf(wire.ETOOLARGE, "%s is over %d bytes", what, wire.MaxNameBytes)
	}
	return nil
}

func checkEmail(e string) error {
	if e == "" {
		return nil
	}
	at := strings.LastIndexByte(e, '@')
	if len(e) > 254 || at < 1 || at == len(e)-1 || strings.ContainsAny(e, " \t\r\n<>,;\"") || !utf8.ValidString(e) {
		return wire.Errorf(wire.EINVALID, "email %q is not an email address", e)
	}
	return nil
}

func checkRole(r wire.Role) error {
	switch r {
	case wire.RoleAgent, wire.RoleSupervisor, wire.RoleAdmin:
		return nil
	}
	return wire.Errorf(wire.EINVALID, "role must be agent, supervisor or admin, not %q", r)
}

func checkCapacity(c int) error {
	if c < wire.MinCapacity || c > wire.MaxCapacity {
		return wire.Errorf(wire.EINVALID, "capacity must be %d to %d, not %d", wire.MinCapacity, wire.MaxCapacity, c)
	}
	return nil
}

func checkLanguage(l string) error {
	switch l {
	case "en", "es":
		return nil
	}
	return wire.Errorf(wire.EINVALID, "language must be en or es, not %q", l)
}

var regionPattern = regexp.MustCompile(`^[a-z]{2,10}(?:-[a-z0-9]{1,20}){0,2}$`)

func checkRegion(r string) error {
	if r == "" {
		return nil
	}
	if rg := relay.Region(r); !regionPattern.MatchString(r) || (!rg.Government() && rg.Geo() == "") {
		return wire.Errorf(wire.EINVALID, "region %q is not a region such as na, eu-west or gcc", r)
	}
	return nil
}

func checkCalls(c wire.CallsAllowed) error {
	switch c {
	case wire.CallsVoiceVideo, wire.CallsVoiceOnly, wire.CallsNone:
		return nil
	}
	return wire.Errorf(wire.EINVALID, "calls must be voice_video, voice or none, not %q", c)
}

// NewOrg is an organisation to create.
type NewOrg struct {
	ID       wire.OrgID
	Name     string
	Region   string
	Calls    wire.CallsAllowed
	Language string
}

// NewMember is a member to create.
type NewMember struct {
	Username    string
	DisplayName string
	Email       string
	Role        wire.Role
	Capacity    int
	// Password, when set, is the member's password (the demo seed); otherwise the member sets it
	// through the setup link the hub makes.
	Password string
	// weakOK lets the demo seed give its members the well-known demo password.
	weakOK bool
}

// Invite is a setup link just made: its URL is shown once, the hub keeps only a hash.
type Invite struct {
	Member    store.User
	URL       string
	ExpiresAt time.Time
}

// normalize fills a new member's defaults and checks every field.
func (m *NewMember) normalize(org wire.OrgID) error {
	m.Username = NormalizeUsername(m.Username)
	m.DisplayName = strings.TrimSpace(m.DisplayName)
	m.Email = strings.TrimSpace(m.Email)
	if m.DisplayName == "" {
		m.DisplayName = m.Username
	}
	if m.Role == "" {
		m.Role = wire.RoleAgent
	}
	if m.Capacity == 0 {
		m.Capacity = 3
	}
	for _, err := range []error{CheckUsername(m.Username), checkName("display name", m.DisplayName), checkEmail(m.Email),
		checkRole(m.Role), checkCapacity(m.Capacity)} {
		if err != nil {
			return err
		}
	}
	if m.Password != "" && !m.weakOK {
		return CheckPassword(m.Password, m.Username, org)
	}
	return nil
}

// newUser makes the store record of a checked member.
func (s *Server) newUser(org wire.OrgID, m NewMember) (store.User, error) {
	u := store.User{ID: wire.UserID(newID("u")), Org: org, Username: m.Username, DisplayName: m.DisplayName, Email: m.Email,
		Role: m.Role, Capacity: m.Capacity, CreatedAt: s.now()}
	if m.Password != "" {
		h, err := HashPassword(m.Password, s.cfg.BcryptCost)
		if err != nil {
			return u, err
		}
		u.PasswordHash = h
	}
	return u, nil
}

// newLink makes a setup link for u: the store record and the URL with its secret.
func (s *Server) newLink(u store.User, purpose string, by Actor, base string) (store.SetupLink, string) {
	secret, hash := newToken()
	l := store.SetupLink{Hash: hash, Org: u.Org, User: u.ID, Purpose: purpose, CreatedBy: by.User, ExpiresAt: s.now().Add(s.cfg.SetupLinkTTL)}
	if base == "" {
		base = s.cfg.PublicURL
	}
	// The secret travels in the fragment, which browsers never send: it stays out of access
	// logs, proxies and Referer headers.
	return l, strings.TrimRight(base, "/") + "/setup#" + secret
}

func (a Actor) entry(org wire.OrgID, action, target, detail string) store.AuditEntry {
	return store.AuditEntry{Org: org, Actor: a.User, ActorName: a.Name, Action: action, Target: target, Detail: detail, Addr: a.Addr}
}

// CreateOrganisation creates an organisation and, when admin is not nil, its first admin with a
// setup link (or admin.Password), all in one transaction. base is the hub's public URL for the
// link ("" uses Config.PublicURL).
func (s *Server) CreateOrganisation(ctx context.Context, by Actor, o NewOrg, admin *NewMember, base string) (store.Org, *Invite, error) {
	o.Name = strings.TrimSpace(o.Name)
	if o.Region == "" {
		o.Region = "na"
	}
	if o.Calls == "" {
		o.Calls = wire.CallsVoiceVideo
	}
	if o.Language == "" {
		o.Language = "en"
	}
	for _, err := range []error{CheckOrgID(o.ID), checkName("organisation name", o.Name), checkRegion(o.Region), checkCalls(o.Calls), checkLanguage(o.Language)} {
		if err != nil {
			return store.Org{}, nil, err
		}
	}
	rec := store.Org{ID: o.ID, Name: o.Name, Region: o.Region, Calls: o.Calls, Language: o.Language}
	ch := store.Change{CreateOrg: &rec, Audit: []store.AuditEntry{by.entry(o.ID, AuditOrgCreate, string(o.ID), o.Name)}}
	var inv *Invite
	if admin != nil {
		admin.Role = wire.RoleAdmin
		if err := admin.normalize(o.ID); err != nil {
			return store.Org{}, nil, err
		}
		u, err := s.newUser(o.ID, *admin)
		if err != nil {
			return store.Org{}, nil, err
		}
		ch.CreateUser = &u
		ch.Audit = append(ch.Audit, by.entry(o.ID, AuditMemberInvite, u.Username, "role admin"))
		inv = &Invite{Member: u}
		if admin.Password == "" {
			l, link := s.newLink(u, "invite", by, base)
			ch.CreateLink = &l
			inv.URL, inv.ExpiresAt = link, l.ExpiresAt
		}
	}
	if err := s.store.Apply(ctx, ch); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.Org{}, nil, wire.Errorf(wire.ECONFLICT, "organisation %q exists already", o.ID)
		}
		return store.Org{}, nil, err
	}
	s.log.Info("organisation created", "org", o.ID, "by", by.Name)
	return rec, inv, nil
}

// orgRecord reads an organisation, ErrOrgNotFound when it does not exist.
func (s *Server) orgRecord(ctx context.Context, org wire.OrgID) (store.Org, error) {
	o, err := s.store.Org(ctx, org)
	if errors.Is(err, store.ErrNotFound) {
		return o, ErrOrgNotFound
	}
	return o, err
}

// UpdateOrganisation saves an organisation's name, region, call setting and language and tells
// the live hub.
func (s *Server) UpdateOrganisation(ctx context.Context, by Actor, o wire.OrgSettings) (store.Org, error) {
	rec, err := s.orgRecord(ctx, o.ID)
	if err != nil {
		return rec, err
	}
	o.Name = strings.TrimSpace(o.Name)
	for _, err := range []error{checkName("organisation name", o.Name), checkRegion(o.Region), checkCalls(o.Calls), checkLanguage(o.Language)} {
		if err != nil {
			return rec, err
		}
	}
	var changes []string
	if o.Name != rec.Name {
		changes = append(changes, fmt.Sprintf("name %q → %q", rec.Name, o.Name))
	}
	if o.Region != rec.Region {
		changes = append(changes, fmt.Sprintf("region %s → %s", orNone(rec.Region), orNone(o.Region)))
	}
	if o.Calls != rec.Calls {
		changes = append(changes, fmt.Sprintf("calls %s → %s", rec.Calls, o.Calls))
	}
	if o.Language != rec.Language {
		changes = append(changes, fmt.Sprintf("language %s → %s", rec.Language, o.Language))
	}
	if len(changes) == 0 {
		return rec, nil
	}
	rec.Name, rec.Region, rec.Calls, rec.Language = o.Name, o.Region, o.Calls, o.Language
	if err := s.store.Apply(ctx, store.Change{UpdateOrg: &rec, Audit: []store.AuditEntry{by.entry(o.ID, AuditOrgUpdate, string(o.ID), strings.Join(changes, ", "))}}); err != nil {
		return rec, err
	}
	s.orgChanged(rec)
	return rec, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// InviteMember adds a member to org and makes their setup link.
func (s *Server) InviteMember(ctx context.Context, by Actor, org wire.OrgID, m NewMember, base string) (Invite, error) {
	if _, err := s.orgRecord(ctx, org); err != nil {
		return Invite{}, err
	}
	if err := m.normalize(org); err != nil {
		return Invite{}, err
	}
	u, err := s.newUser(org, m)
	if err != nil {
		return Invite{}, err
	}
	ch := store.Change{CreateUser: &u, Audit: []store.AuditEntry{by.entry(org, AuditMemberInvite, u.Username, fmt.Sprintf("role %s, capacity %d", u.Role, u.Capacity))}}
	inv := Invite{Member: u}
	if m.Password == "" {
		l, link := s.newLink(u, "invite", by, base)
		ch.CreateLink = &l
		inv.URL, inv.ExpiresAt = link, l.ExpiresAt
	}
	if err := s.store.Apply(ctx, ch); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return Invite{}, wire.Errorf(wire.ECONFLICT, "username %q is taken in %s", u.Username, org)
		}
		return Invite{}, err
	}
	s.memberChanged(u)
	s.log.Info("member invited", "org", org, "user", u.ID, "role", u.Role, "by", by.Name)
	return inv, nil
}

// member reads a member of org by id or username; another organisation's members do not exist.
func (s *Server) memberOf(ctx context.Context, org wire.OrgID, idOrName string) (store.User, error) {
	if _, err := s.orgRecord(ctx, org); err != nil {
		return store.User{}, err
	}
	u, err := s.store.User(ctx, wire.UserID(idOrName))
	if errors.Is(err, store.ErrNotFound) {
		u, err = s.store.UserByName(ctx, org, NormalizeUsername(idOrName))
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Org != org) {
		return store.User{}, wire.Errorf(wire.ENOTFOUND, "no member %q in %s", idOrName, org)
	}
	return u, err
}

// UpdateMember changes a member's display name, email, role or capacity.
func (s *Server) UpdateMember(ctx context.Context, by Actor, org wire.OrgID, who string, p wire.MemberPatch) (store.User, error) {
	u, err := s.memberOf(ctx, org, who)
	if err != nil {
		return u, err
	}
	var changes []string
	if p.DisplayName != nil {
		name := strings.TrimSpace(*p.DisplayName)
		if err := checkName("display name", name); err != nil {
			return u, err
		}
		if name != u.DisplayName {
			changes = append(changes, fmt.Sprintf("name %q → %q", u.DisplayName, name))
			u.DisplayName = name
		}
	}
	if p.Email != nil {
		e := strings.TrimSpace(*p.Email)
		if err := checkEmail(e); err != nil {
			return u, err
		}
		if e != u.Email {
			changes = append(changes, fmt.Sprintf("email %s → %s", orNone(u.Email), orNone(e)))
			u.Email = e
		}
	}
	if p.Role != nil {
		if err := checkRole(*p.Role); err != nil {
			return u, err
		}
		if *p.Role != u.Role {
			changes = append(changes, fmt.Sprintf("role %s → %s", u.Role, *p.Role))
			u.Role = *p.Role
		}
	}
	if p.Capacity != nil {
		if err := checkCapacity(*p.Capacity); err != nil {
			return u, err
		}
		if *p.Capacity != u.Capacity {
			changes = append(changes, fmt.Sprintf("capacity %d → %d", u.Capacity, *p.Capacity))
			u.Capacity = *p.Capacity
		}
	}
	if len(changes) == 0 {
		return u, nil
	}
	ch := store.Change{UpdateUser: &u, Audit: []store.AuditEntry{by.entry(org, AuditMemberUpdate, u.Username, strings.Join(changes, ", "))}}
	if p.Role != nil && strings.Contains(ch.Audit[0].Detail, "role ") {
		// A new role is a new set of permissions: the member signs in again to get it.
		ch.EndSessions = u.ID
	}
	if err := s.store.Apply(ctx, ch); err != nil {
		return u, err
	}
	if ch.EndSessions != "" {
		s.sessionsEnded(u.ID, "", "role changed")
	}
	s.memberChanged(u)
	return u, nil
}

// DisableMember stops a member from signing in: their sessions end at once, their unused setup
// links stop working, and the conversations they hold go back to the queue.
func (s *Server) DisableMember(ctx context.Context, by Actor, org wire.OrgID, who string) (store.User, error) {
	u, err := s.memberOf(ctx, org, who)
	if err != nil || u.Disabled {
		return u, err
	}
	u.Disabled = true
	err = s.store.Apply(ctx, store.Change{UpdateUser: &u, EndSessions: u.ID, RevokeLinks: u.ID,
		Audit: []store.AuditEntry{by.entry(org, AuditMemberDisable, u.Username, "sessions ended")}})
	if err != nil {
		return u, err
	}
	s.sessionsEnded(u.ID, "", "disabled")
	s.memberChanged(u)
	s.log.Info("member disabled", "org", org, "user", u.ID, "by", by.Name)
	return u, nil
}

// EnableMember lets a disabled member sign in again.
func (s *Server) EnableMember(ctx context.Context, by Actor, org wire.OrgID, who string) (store.User, error) {
	u, err := s.memberOf(ctx, org, who)
	if err != nil || !u.Disabled {
		return u, err
	}
	u.Disabled = false
	if err := s.store.Apply(ctx, store.Change{UpdateUser: &u, Audit: []store.AuditEntry{by.entry(org, AuditMemberEnable, u.Username, "")}}); err != nil {
		return u, err
	}
	s.memberChanged(u)
	return u, nil
}

// ResetMember clears a member's password, ends their sessions and makes a new setup link; links
// made before stop working.
func (s *Server) ResetMember(ctx context.Context, by Actor, org wire.OrgID, who, base string) (Invite, error) {
	u, err := s.memberOf(ctx, org, who)
	if err != nil {
		return Invite{}, err
	}
	if u.Disabled {
		return Invite{}, wire.Errorf(wire.EDISABLED, "%s is disabled: enable the member first", u.Username)
	}
	u.PasswordHash = ""
	l, link := s.newLink(u, "reset", by, base)
	err = s.store.Apply(ctx, store.Change{UpdateUser: &u, EndSessions: u.ID, RevokeLinks: u.ID, CreateLink: &l,
		Audit: []store.AuditEntry{by.entry(org, AuditMemberReset, u.Username, "new setup link, sessions ended")}})
	if err != nil {
		return Invite{}, err
	}
	s.sessionsEnded(u.ID, "", "password reset")
	return Invite{Member: u, URL: link, ExpiresAt: l.ExpiresAt}, nil
}

// linkSecret takes the secret from what a person pasted: the whole link or just its secret.
func linkSecret(s string) string {
	s = strings.TrimSpace(s)
	if u, err := url.Parse(s); err == nil && u.Fragment != "" {
		return u.Fragment
	}
	return strings.TrimPrefix(s, "#")
}

// setupLink reads a setup link by its secret and checks it can still be used.
func (s *Server) setupLink(ctx context.Context, secret string) (store.SetupLink, store.User, store.Org, error) {
	secret = linkSecret(secret)
	if secret == "" || len(secret) > 200 {
		return store.SetupLink{}, store.User{}, store.Org{}, wire.Errorf(wire.ENOTFOUND, "no such setup link")
	}
	l, err := s.store.SetupLink(ctx, hashToken(secret))
	if errors.Is(err, store.ErrNotFound) {
		return l, store.User{}, store.Org{}, wire.Errorf(wire.ENOTFOUND, "no such setup link (it may have been replaced by a newer one)")
	}
	if err != nil {
		return l, store.User{}, store.Org{}, err
	}
	switch {
	case !l.UsedAt.IsZero():
		return l, store.User{}, store.Org{}, store.ErrLinkUsed
	case !s.now().Before(l.ExpiresAt):
		return l, store.User{}, store.Org{}, store.ErrLinkExpired
	}
	u, err := s.store.User(ctx, l.User)
	if err != nil {
		return l, u, store.Org{}, err
	}
	if u.Disabled {
		return l, u, store.Org{}, store.ErrDisabled
	}
	o, err := s.orgRecord(ctx, u.Org)
	return l, u, o, err
}

func setupInfo(l store.SetupLink, u store.User, o store.Org) wire.SetupInfo {
	return wire.SetupInfo{Org: o.ID, OrgName: o.Name, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role,
		Purpose: l.Purpose, ExpiresAt: l.ExpiresAt.UnixMilli()}
}

// SetupLinkInfo tells whose a setup link is, or why it no longer works (ELINKUSED, ELINKEXPIRED,
// ENOTFOUND, EDISABLED).
func (s *Server) SetupLinkInfo(ctx context.Context, secret string) (wire.SetupInfo, error) {
	l, u, o, err := s.setupLink(ctx, secret)
	if err != nil {
		return wire.SetupInfo{}, err
	}
	return setupInfo(l, u, o), nil
}

// UseSetupLink sets a member's password through their setup link. The link works once.
func (s *Server) UseSetupLink(ctx context.Context, secret, password, addr string) (wire.SetupInfo, store.User, error) {
	l, u, o, err := s.setupLink(ctx, secret)
	if err != nil {
		return wire.SetupInfo{}, u, err
	}
	if err := CheckPassword(password, u.Username, u.Org); err != nil {
		return wire.SetupInfo{}, u, err
	}
	h, err := HashPassword(password, s.cfg.BcryptCost)
	if err != nil {
		return wire.SetupInfo{}, u, err
	}
	by := Actor{User: u.ID, Name: u.Username, Addr: addr}
	u, err = s.store.UseSetupLink(ctx, l.Hash, h, s.now(), by.entry(u.Org, AuditPasswordSet, u.Username, setupLinkDetail(l.Purpose)))
	if err != nil {
		return wire.SetupInfo{}, u, err
	}
	s.sessionsEnded(u.ID, "", "password set")
	s.log.Info("member set a password", "org", u.Org, "user", u.ID)
	return setupInfo(l, u, o), u, nil
}

// Members returns a page of an organisation's members.
func (s *Server) Members(ctx context.Context, org wire.OrgID, q store.UserQuery) (wire.MemberList, error) {
	if _, err := s.orgRecord(ctx, org); err != nil {
		return wire.MemberList{}, err
	}
	users, total, err := s.store.ListUsers(ctx, org, q)
	if err != nil {
		return wire.MemberList{}, err
	}
	out := wire.MemberList{Members: make([]wire.Member, 0, len(users)), Total: total}
	for _, u := range users {
		out.Members = append(out.Members, memberView(u))
	}
	return out, nil
}

func memberView(u store.User) wire.Member {
	return wire.Member{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Role: u.Role, Capacity: u.Capacity,
		Disabled: u.Disabled, PasswordSet: u.PasswordHash != "", SSO: u.ExternalID != "", CreatedAt: u.CreatedAt.UnixMilli(),
		LastSignIn: msOrZero(u.LastSignIn)}
}

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// MemberSessions lists a member's sessions; current marks the caller's own.
func (s *Server) MemberSessions(ctx context.Context, org wire.OrgID, who, current string) ([]wire.Session, error) {
	u, err := s.memberOf(ctx, org, who)
	if err != nil {
		return nil, err
	}
	ts, err := s.store.Sessions(ctx, u.ID, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]wire.Session, 0, len(ts))
	for _, t := range ts {
		out = append(out, wire.Session{ID: t.ID, CreatedAt: t.CreatedAt.UnixMilli(), ExpiresAt: t.ExpiresAt.UnixMilli(), Addr: t.Addr,
			Client: t.Client, Method: t.Method, Current: t.ID == current})
	}
	return out, nil
}

// EndSession ends one of a member's sessions: its token stops working and its connections close.
func (s *Server) EndSession(ctx context.Context, by Actor, org wire.OrgID, who, id string) error {
	u, err := s.memberOf(ctx, org, who)
	if err != nil {
		return err
	}
	err = s.store.Apply(ctx, store.Change{EndSession: &store.SessionRef{User: u.ID, ID: id},
		Audit: []store.AuditEntry{by.entry(org, AuditSessionEnd, u.Username, "session "+id)}})
	if errors.Is(err, store.ErrNotFound) {
		return wire.Errorf(wire.ENOTFOUND, "no session %q of %s", id, u.Username)
	}
	if err != nil {
		return err
	}
	s.sessionsEnded(u.ID, id, "ended by an admin")
	return nil
}

// AuditLog returns a page of an organisation's audit log, newest first.
func (s *Server) AuditLog(ctx context.Context, org wire.OrgID, q store.AuditQuery) ([]wire.AuditEntry, error) {
	es, err := s.store.AuditLog(ctx, org, q)
	if err != nil {
		return nil, err
	}
	out := make([]wire.AuditEntry, 0, len(es))
	for _, e := range es {
		out = append(out, wire.AuditEntry{ID: e.ID, At: e.At.UnixMilli(), Actor: e.Actor, ActorName: e.ActorName, Action: e.Action,
			Target: e.Target, Detail: e.Detail, Addr: e.Addr})
	}
	return out, nil
}

// setupLinkDetail is the audit detail of a password set through a setup link.
func setupLinkDetail(purpose string) string {
	if purpose == "invite" {
		return "through an invite link"
	}
	return "through a " + purpose + " link"
}
