package store

import (
	"context"
	"time"

	"github.com/parleyhq/parley/wire"
)

// SetupLink is a one-time link that lets a member set their password: made when an admin
// invites them or resets their password. Only a hash of the link's secret is stored.
type SetupLink struct {
	// Hash is the SHA-256 of the link's secret, hex.
	Hash string
	Org  wire.OrgID
	User wire.UserID
	// Purpose is why the link was made: "invite" or "reset".
	Purpose string
	// CreatedBy is the admin who made it; empty for the command line.
	CreatedBy wire.UserID
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when the member used it; zero while unused.
	UsedAt time.Time
}

// AuditEntry is one line of an organisation's audit log: who did what, when, from where.
type AuditEntry struct {
	// ID orders the log; set by the store.
	ID  int64
	Org wire.OrgID
	At  time.Time
	// Actor is the member who acted; empty for the command line and for the hub itself.
	Actor wire.UserID
	// ActorName is how the log names the actor: a username, or "parley-hub" for the command line.
	ActorName string
	// Action says what happened, e.g. "member.invite" (hub/audit.go lists them).
	Action string
	// Target is what it happened to, e.g. a member's username.
	Target string
	// Detail is a short description, e.g. "role agent → supervisor".
	Detail string
	// Addr is the address the request came from; empty for the command line.
	Addr string
}

// UserQuery selects members for the admin console's list.
type UserQuery struct {
	// Search matches usernames, display names and email addresses, case-insensitively.
	Search string
	// Role, when set, keeps members with that role.
	Role wire.Role
	// Offset and Limit page through the members, ordered by username; Limit 0 means all.
	Offset, Limit int
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	// Before, when non-zero, keeps entries with a smaller ID (the next page).
	Before int64
	// Since and Until, when non-zero, keep entries at or after Since and before Until.
	Since, Until time.Time
	// Limit bounds how many are returned; 0 means all.
	Limit int
}

// Grant is a short-lived, one-time value the hub keeps between two steps of a sign-in: the
// pending state of an OpenID Connect sign-in, or the code an app exchanges for its token.
type Grant struct {
	// Hash is the SHA-256 of the grant's secret, hex.
	Hash string
	// Kind says which step the grant is for, e.g. "oidc.state".
	Kind string
	Org  wire.OrgID
	// Data is the step's JSON.
	Data      string
	ExpiresAt time.Time
}

// Setting is one organisation setting.
type Setting struct {
	Org   wire.OrgID
	Key   string
	Value string
}

// SessionRef names one session of a member.
type SessionRef struct {
	User wire.UserID
	ID   string
}

// Change is a set of writes to organisations, members, sessions and setup links, with the audit
// entries that record them. A store applies a Change in one transaction, in the order of the
// fields below: all of it, or none of it.
type Change struct {
	// CreateOrg adds an organisation; ErrConflict when the id is taken.
	CreateOrg *Org
	// UpdateOrg saves an organisation's name, region, call setting and language; ErrNotFound when
	// it does not exist.
	UpdateOrg *Org
	// CreateUser adds a member; ErrConflict when the username (or external id) is taken in the
	// organisation.
	CreateUser *User
	// UpdateUser saves a member's display name, email, role, capacity, disabled flag, password
	// hash and external id; ErrNotFound when it does not exist. ErrLastAdmin when the organisation
	// had an active admin and would have none.
	UpdateUser *User
	// EndSessions deletes every session of this member.
	EndSessions wire.UserID
	// EndSession deletes one session of a member; ErrNotFound when there is no such session.
	EndSession *SessionRef
	// RevokeLinks deletes this member's unused setup links.
	RevokeLinks wire.UserID
	// CreateLink stores a setup link.
	CreateLink *SetupLink
	// CreateToken stores a session's token.
	CreateToken *Token
	// SignedIn records that this member signed in now (the console shows when they last did).
	SignedIn wire.UserID
	// SetSetting stores an organisation setting's JSON value (see Store.SetOrgSetting).
	SetSetting *Setting
	// Audit is appended to the audit log.
	Audit []AuditEntry
}

// AccountStore keeps what deploying the hub needs: members' accounts and sessions, setup links,
// the audit log, and the short-lived grants of single sign-on.
type AccountStore interface {
	// Apply makes a Change in one transaction.
	Apply(ctx context.Context, ch Change) error

	// Orgs lists every organisation, by id.
	Orgs(ctx context.Context) ([]Org, error)
	// ListUsers returns one page of an organisation's members and how many match in all.
	ListUsers(ctx context.Context, org wire.OrgID, q UserQuery) ([]User, int, error)
	// UserByExternalID returns the member an identity provider's account is linked to.
	UserByExternalID(ctx context.Context, org wire.OrgID, externalID string) (User, error)

	// SetupLink returns the link with this hash, used or not, expired or not.
	SetupLink(ctx context.Context, hash string) (SetupLink, error)
	// UseSetupLink sets the member's password hash through the link with this hash and marks it
	// used, in one transaction with audit: ErrNotFound when there is no such link, ErrLinkUsed
	// once it was used, ErrLinkExpired after it expired (at now), ErrDisabled when the member is
	// disabled. Using a link also revokes the member's other links and ends their sessions.
	UseSetupLink(ctx context.Context, hash, passwordHash string, now time.Time, audit AuditEntry) (User, error)

	// Sessions lists a member's sessions that have not expired at now, newest first.
	Sessions(ctx context.Context, user wire.UserID, now time.Time) ([]Token, error)
	// DeleteToken ends the session whose token has this hash.
	DeleteToken(ctx context.Context, hash string) error
	// RenewToken replaces the hash and expiry of the session whose token has oldHash, keeping its
	// ID; ErrNotFound when there is none.
	RenewToken(ctx context.Context, oldHash, newHash string, expiresAt time.Time) error
	// ExpireConversationTokens makes the customer tokens of conv expire at at, unless they expire
	// sooner.
	ExpireConversationTokens(ctx context.Context, conv wire.ConversationID, at time.Time) error

	// AuditLog returns an organisation's audit entries, newest first.
	AuditLog(ctx context.Context, org wire.OrgID, q AuditQuery) ([]AuditEntry, error)
	// AuditSince returns the entries of every organisation with an ID above after, oldest first,
	// at most limit: how a hub learns of changes made by another process (the command line).
	AuditSince(ctx context.Context, after int64, limit int) ([]AuditEntry, error)
	// LastAuditID is the ID of the newest audit entry of any organisation, 0 when there is none.
	LastAuditID(ctx context.Context) (int64, error)

	// SetSetupResult keeps a member's last "Test my setup" result (wire.SetupResult, At set).
	SetSetupResult(ctx context.Context, user wire.UserID, r wire.SetupResult) error
	// SetupResults returns the last "Test my setup" result of each member of org who has one.
	SetupResults(ctx context.Context, org wire.OrgID) (map[wire.UserID]wire.SetupResult, error)

	// PutGrant stores a grant.
	PutGrant(ctx context.Context, g Grant) error
	// TakeGrant returns the grant with this hash and kind and deletes it; ErrNotFound when there
	// is none or it expired at now.
	TakeGrant(ctx context.Context, hash, kind string, now time.Time) (Grant, error)
}
