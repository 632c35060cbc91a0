// Package store defines what the hub keeps on disk, behind an interface with one implementation
// per database engine (hub/sqlite today; Postgres can follow without touching the hub).
package store

import (
	"context"
	"time"

	"github.com/parleyhq/parley/wire"
)

// Org is an organisation.
type Org struct {
	ID wire.OrgID
	// Name is the display name the portal shows, e.g. "Demo Company".
	Name      string
	CreatedAt time.Time
	// Region is where the organisation's calls may be relayed: a geography ("na", "eu"...), or
	// "gcc" for the government cloud, whose calls go relay-only through North America (hub/relay).
	Region string
	// Calls is which calls agents may start: voice and video (the default), voice only, or none.
	Calls wire.CallsAllowed
	// Language is the organisation's default language ("en", "es"): the portal's and the
	// console's when the browser prefers none of theirs.
	Language string
}

// User is an organisation member: an agent, supervisor or admin.
type User struct {
	ID          wire.UserID
	Org         wire.OrgID
	Username    string
	DisplayName string
	Role        wire.Role
	// Email is the member's email address, when known (single sign-on matches on it).
	Email string
	// PasswordHash is a bcrypt hash; the password itself is never stored. Empty until the member
	// sets one through a setup link (or for members who sign in only with the identity provider).
	PasswordHash string
	// Capacity is how many capacity units the member can carry at once (a chat costs 1).
	Capacity int
	// Disabled members cannot sign in, and have no sessions.
	Disabled bool
	// ExternalID links the member to an identity provider's account: "issuer subject".
	ExternalID string
	CreatedAt  time.Time
	// LastSignIn is when the member last signed in; zero if never.
	LastSignIn time.Time
}

// Wire returns the member as the protocol shows it (without the password hash).
func (u User) Wire() wire.User {
	return wire.User{ID: u.ID, Org: u.Org, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role}
}

// Token is a bearer credential: a member's session, or a customer's hold on a conversation. Only
// a hash of the token is stored.
type Token struct {
	// Hash is the SHA-256 of the token, hex.
	Hash string
	// ID names the session without revealing the token (admins see it, and end sessions by it);
	// it survives renewals.
	ID  string
	Org wire.OrgID
	// Role is the holder's role; a customer token has RoleCustomer and Conv set, a member token
	// has User set.
	Role      wire.Role
	User      wire.UserID
	Conv      wire.ConversationID
	CreatedAt time.Time
	ExpiresAt time.Time
	// Addr is the address the session signed in from.
	Addr string
	// Client says what signed in: "app", "console", "agent" (the headless agent) or "cli".
	Client string
	// Method is how: "password", "sso" or "token".
	Method string
}

// Appended is the result of storing one message with AppendMessages.
type Appended struct {
	Message wire.Message
	// Dup is true when the message's ClientID was already stored; Message is the stored one.
	Dup bool
}

// Receipt is the furthest delivery marker one side has set in a conversation.
type Receipt struct {
	By   wire.Author
	Kind wire.ReceiptKind
	Seq  int64
}

// Store keeps organisations, members, tokens, conversations and messages. Implementations are safe
// for concurrent use. Missing rows are reported with [ErrNotFound]; unique clashes with [ErrConflict].
type Store interface {
	// CreateOrg adds an organisation; ErrConflict when it exists.
	CreateOrg(ctx context.Context, o Org) error
	// Org returns an organisation.
	Org(ctx context.Context, id wire.OrgID) (Org, error)

	// CreateUser adds a member; ErrConflict when the username is taken in the organisation.
	CreateUser(ctx context.Context, u User) error
	// User returns a member by id.
	User(ctx context.Context, id wire.UserID) (User, error)
	// UserByName returns a member by organisation and username.
	UserByName(ctx context.Context, org wire.OrgID, username string) (User, error)
	// Users lists an organisation's members.
	Users(ctx context.Context, org wire.OrgID) ([]User, error)

	// CreateToken stores a token's hash.
	CreateToken(ctx context.Context, t Token) error
	// Token returns the token with this hash, expired or not.
	Token(ctx context.Context, hash string) (Token, error)
	// DeleteExpiredTokens removes tokens and grants that expired before now.
	DeleteExpiredTokens(ctx context.Context, now time.Time) error

	// CreateConversation adds a conversation.
	CreateConversation(ctx context.Context, c wire.Conversation) error
	// StartConversation stores a customer's new conversation with its token, routing and first
	// queue visit in one transaction: a start costs one commit, and a crash keeps all or none.
	// ErrConflict when the conversation or token exists, ErrNotFound when the organisation does not.
	StartConversation(ctx context.Context, st Start) error
	// Conversation returns a conversation (QueuePosition is not stored).
	Conversation(ctx context.Context, id wire.ConversationID) (wire.Conversation, error)
	// UpdateConversation saves a conversation's state, agent, times, customer presence, end
	// reason and outcome. ActivityAt only moves forward (a message stored meanwhile may be newer).
	UpdateConversation(ctx context.Context, c wire.Conversation) error
	// SetWrapUp stores an ended conversation's wrap-up: outcome code, note and wrap-up time;
	// ErrNotFound when there is no such conversation.
	SetWrapUp(ctx context.Context, id wire.ConversationID, code, note string, wrapMS int64) error
	// OpenConversations lists the waiting and active conversations of every organisation, oldest
	// first, so a restarted hub picks them up again.
	OpenConversations(ctx context.Context) ([]wire.Conversation, error)

	// AppendMessage stores m with the conversation's next sequence number and returns it with Seq
	// and At set; a message not by AuthorSystem moves the conversation's ActivityAt to At. When m.ClientID was already stored in the conversation, it returns the stored
	// message and dup = true, and stores nothing.
	AppendMessage(ctx context.Context, m wire.Message) (stored wire.Message, dup bool, err error)
	// AppendMessages stores several messages in one transaction, in order, as AppendMessage would
	// one by one; all are stored or none.
	AppendMessages(ctx context.Context, ms []wire.Message) ([]Appended, error)
	// UpdateConversationWith saves c as UpdateConversation does and then stores ms as
	// AppendMessages does, in one transaction: an agent taking a conversation and the line that
	// says so cost one commit, and a failure of either stores neither.
	UpdateConversationWith(ctx context.Context, c wire.Conversation, ms []wire.Message) ([]Appended, error)
	// Messages returns up to limit messages of conv with Seq > after, in order.
	Messages(ctx context.Context, conv wire.ConversationID, after int64, limit int) ([]wire.Message, error)
	// FirstMessage returns the first message of conv by author, or ErrNotFound.
	FirstMessage(ctx context.Context, conv wire.ConversationID, author wire.Author) (wire.Message, error)

	// SetReceipt records that r.By has r.Kind every message up to r.Seq; markers only move forward.
	SetReceipt(ctx context.Context, conv wire.ConversationID, r Receipt) error
	// Receipts returns a conversation's markers.
	Receipts(ctx context.Context, conv wire.ConversationID) ([]Receipt, error)

	// OrgSetting returns the JSON value of an organisation's setting (e.g. "visual"), or
	// ErrNotFound when it was never set.
	OrgSetting(ctx context.Context, org wire.OrgID, key string) (string, error)
	// SetOrgSetting stores the JSON value of an organisation's setting.
	SetOrgSetting(ctx context.Context, org wire.OrgID, key, value string) error

	// CallStore keeps calls and sums them up for supervisors (calls.go).
	CallStore
	// AccountStore keeps accounts, sessions, setup links and the audit log (accounts.go).
	AccountStore
	// RoutingStore keeps queues, skills, quick replies and the figures' visits (routing.go).
	RoutingStore

	// Close releases the database.
	Close() error
}
