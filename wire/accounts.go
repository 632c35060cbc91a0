package wire

// Accounts: signing in (password or the organisation's identity provider), sessions, setup
// links, and the admin console's API (members, organisation settings, single sign-on, audit log).
// All under /api/v1; failures answer with an [Error] body.

// Limits on account fields.
const (
	// MinPasswordLength is the shortest password a member may set, in characters (the EWEAKPASSWORD
	// sentences in web/locales say it).
	MinPasswordLength = 10
	// MaxPasswordBytes is the longest password, in UTF-8 bytes (bcrypt reads no further).
	MaxPasswordBytes = 72
	// MinCapacity and MaxCapacity bound a member's chat capacity.
	MinCapacity = 1
	MaxCapacity = 20
)

// SignInOptions is what GET /api/v1/orgs/{org}/signin tells a sign-in form about an
// organisation: how its members sign in.
type SignInOptions struct {
	Org  OrgID  `json:"org"`
	Name string `json:"name"`
	// Password is true when members may sign in with a password.
	Password bool `json:"password"`
	// SSO names the organisation's identity provider when it has one, e.g. "Contoso Login".
	SSO string `json:"sso,omitempty"`
	// Language is the organisation's default language.
	Language string `json:"language"`
}

// LogoutRequest is the body of POST /api/v1/logout (optional): the bearer token is revoked.
type LogoutRequest struct{}

// RenewResponse answers POST /api/v1/token/renew: the session's new token (the old one stops
// working; connections made with it stay up).
type RenewResponse struct {
	Token string `json:"token"`
	// ExpiresAt is Unix milliseconds.
	ExpiresAt int64 `json:"expires_at"`
}

// Me answers GET /api/v1/me: who the bearer token belongs to.
type Me struct {
	User User `json:"user"`
	// OrgName is the organisation's display name.
	OrgName string `json:"org_name"`
	// Session is the token's session id.
	Session string `json:"session"`
	// ExpiresAt is Unix milliseconds.
	ExpiresAt int64 `json:"expires_at"`
}

// SetupRequest is the body of POST /api/v1/setup/info (Password empty) and POST /api/v1/setup.
type SetupRequest struct {
	// Token is the secret of the setup link (its fragment).
	Token    string `json:"token"`
	Password string `json:"password,omitempty"`
}

// SetupInfo answers POST /api/v1/setup/info: whose link it is, before they choose a password.
type SetupInfo struct {
	Org         OrgID  `json:"org"`
	OrgName     string `json:"org_name"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        Role   `json:"role"`
	// Purpose is "invite" or "reset".
	Purpose string `json:"purpose"`
	// ExpiresAt is Unix milliseconds.
	ExpiresAt int64 `json:"expires_at"`
}

// SetupDone answers POST /api/v1/setup. An admin is signed in to the console at once (Login set).
type SetupDone struct {
	Info  SetupInfo      `json:"info"`
	Login *LoginResponse `json:"login,omitempty"`
}

// Member is an organisation member as the admin console shows it.
type Member struct {
	ID          UserID `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email,omitempty"`
	Role        Role   `json:"role"`
	Capacity    int    `json:"capacity"`
	Disabled    bool   `json:"disabled"`
	// PasswordSet is false until the member used their setup link.
	PasswordSet bool `json:"password_set"`
	// SSO is true when the member is linked to the identity provider.
	SSO bool `json:"sso"`
	// CreatedAt and LastSignIn are Unix milliseconds (LastSignIn 0 when never).
	CreatedAt  int64 `json:"created_at"`
	LastSignIn int64 `json:"last_signin"`
}

// MemberList answers GET /api/v1/orgs/{org}/members?q=&role=&offset=&limit=.
type MemberList struct {
	Members []Member `json:"members"`
	// Total is how many members match, across all pages.
	Total int `json:"total"`
}

// MemberInvite is the body of POST /api/v1/orgs/{org}/members.
type MemberInvite struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email,omitempty"`
	Role        Role   `json:"role"`
	Capacity    int    `json:"capacity"`
}

// MemberPatch is the body of PATCH /api/v1/orgs/{org}/members/{id}: the fields to change.
type MemberPatch struct {
	DisplayName *string `json:"display_name,omitempty"`
	Email       *string `json:"email,omitempty"`
	Role        *Role   `json:"role,omitempty"`
	Capacity    *int    `json:"capacity,omitempty"`
}

// SetupLinkResponse answers an invitation or a password reset: the one-time link, shown once.
type SetupLinkResponse struct {
	Member Member `json:"member"`
	// URL is the setup link; the hub keeps only a hash of its secret.
	URL string `json:"url"`
	// ExpiresAt is Unix milliseconds.
	ExpiresAt int64 `json:"expires_at"`
}

// Session is one of a member's sessions, as an admin sees it.
type Session struct {
	ID string `json:"id"`
	// CreatedAt and ExpiresAt are Unix milliseconds.
	CreatedAt int64 `json:"created_at"`
	ExpiresAt int64 `json:"expires_at"`
	// Addr is the address it signed in from.
	Addr string `json:"addr"`
	// Client is "app", "console", "agent" or "cli"; Method "password", "sso" or "token".
	Client string `json:"client"`
	Method string `json:"method"`
	// Current is true for the session making the request.
	Current bool `json:"current,omitempty"`
}

// OrgSettings is GET and PUT /api/v1/orgs/{org}: the organisation's own settings.
type OrgSettings struct {
	ID   OrgID  `json:"id"`
	Name string `json:"name"`
	// Region is where calls may be relayed: "na", "eu"... or "gcc" (government cloud).
	Region   string       `json:"region"`
	Calls    CallsAllowed `json:"calls"`
	Language string       `json:"language"`
}

// SSOSettings is GET and PUT /api/v1/orgs/{org}/settings/sso: the organisation's OpenID Connect
// provider and how its accounts map to members.
type SSOSettings struct {
	// Enabled offers "Sign in with Name" on the sign-in forms.
	Enabled bool `json:"enabled"`
	// Name is what the button says, e.g. "Contoso Login".
	Name string `json:"name"`
	// Issuer is the provider's issuer URL (its discovery document is at
	// Issuer/.well-known/openid-configuration).
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	// ClientSecret is write-only: PUT sets it (empty keeps the stored one), GET never returns it.
	ClientSecret string `json:"client_secret,omitempty"`
	// ClientSecretSet says whether a secret is stored.
	ClientSecretSet bool `json:"client_secret_set"`
	// AllowedDomains are the email domains whose accounts may sign in (e.g. "example.com"); empty
	// allows any verified address.
	AllowedDomains []string `json:"allowed_domains"`
	// RoleClaim is the ID token claim that carries group names (default "groups").
	RoleClaim string `json:"role_claim"`
	// AdminGroups, SupervisorGroups and AgentGroups are the claim values that make an account an
	// admin, supervisor or agent (the first that matches, in that order).
	AdminGroups      []string `json:"admin_groups"`
	SupervisorGroups []string `json:"supervisor_groups"`
	AgentGroups      []string `json:"agent_groups"`
	// DefaultRole is the role of an account in none of the groups; empty refuses it.
	DefaultRole Role `json:"default_role,omitempty"`
	// PasswordSignIn allows members to sign in with a password too. Switching it off needs a
	// working provider; `parley-hub org set --password-signin=true` is the way back.
	PasswordSignIn bool `json:"password_signin"`
	// RedirectURL is the address to register at the provider (read-only).
	RedirectURL string `json:"redirect_url,omitempty"`
}

// AuditEntry is one line of the audit log, GET /api/v1/orgs/{org}/audit?before=&limit= (and as
// CSV at /api/v1/orgs/{org}/audit.csv?since=&until=).
type AuditEntry struct {
	ID int64 `json:"id"`
	// At is Unix milliseconds.
	At        int64  `json:"at"`
	Actor     UserID `json:"actor,omitempty"`
	ActorName string `json:"actor_name"`
	Action    string `json:"action"`
	Target    string `json:"target"`
	Detail    string `json:"detail"`
	Addr      string `json:"addr"`
}

// AuditPage answers GET /api/v1/orgs/{org}/audit.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	// More is true when older entries remain (ask with before = the last ID).
	More bool `json:"more"`
}

// TokenExchange is the body of POST /api/v1/sso/token: the one-time code a sign-in through the
// identity provider handed to the app or the console, and the PKCE verifier of its challenge.
type TokenExchange struct {
	Code         string `json:"code"`
	CodeVerifier string `json:"code_verifier"`
}
