package wire

// Visual engagement: while chatting, the agent asks to see the customer's screen (screen share) or
// page (co-browse). An organisation's admin picks a provider for each kind: Parley's built-in one,
// which needs no licence, or a generic external provider described by URL templates
// ([VisualSettings]).
//
// The flow: the agent sends TypeVisualInvite and gets an Ack with the visual id. For the built-in
// provider the hub makes a 6-digit PIN that expires after PINTTLSeconds; for an external provider
// the agent's app created a session with the provider and passes its PIN (if any) and session id.
// Both sides get TypeVisualState (invited); only the agent's copy carries the PIN, which the agent
// shares in the chat. The customer types it and sends TypeVisualAccept: a wrong PIN is
// EUNAUTHORIZED, an expired one ECONFLICT (the engagement then ends with reason "pin_expired"), and
// after MaxPINAttempts wrong ones the engagement ends ("pin_attempts"). Accepted, it is active
// until either side sends TypeVisualStop, the customer declines, or the conversation ends.
//
// While active, the built-in co-browse streams the customer's page as TypeVisualEvent frames
// (customer→agent, masked before they leave the browser), the agent points with TypeVisualPointer,
// and, once the customer grants control with TypeVisualControl, drives the page with
// TypeVisualCommand. The built-in screen share negotiates its WebRTC connection with
// TypeVisualSignal, as calls do. External providers carry their media themselves: Parley only
// invites, checks the PIN, opens the provider's join page for the customer and keeps the state.

import (
	"net/netip"
	"net/url"
)

// VisualID identifies one visual engagement within a conversation.
type VisualID string

// VisualKind is what the agent asked to see.
type VisualKind string

// Visual kinds.
const (
	// VisualCobrowse mirrors the customer's page (the portal, or a site embedding the widget).
	VisualCobrowse VisualKind = "cobrowse"
	// VisualScreenShare shows a screen, window or tab the customer picks.
	VisualScreenShare VisualKind = "screenshare"
)

// ProviderKind names the kind of provider behind a visual engagement.
type ProviderKind string

// Provider kinds.
const (
	// ProviderNone: the organisation does not offer this kind of engagement.
	ProviderNone ProviderKind = ""
	// ProviderBuiltinCobrowse is Parley's own co-browse (a DOM recorder in the customer's browser).
	ProviderBuiltinCobrowse ProviderKind = "builtin-cobrowse"
	// ProviderBuiltinScreenShare is Parley's own screen share (getDisplayMedia to the agent's Go
	// media engine).
	ProviderBuiltinScreenShare ProviderKind = "builtin-screenshare"
	// ProviderExternal is a third-party service configured by URL templates ([ExternalProvider]).
	ProviderExternal ProviderKind = "external"
)

// VisualState is where a visual engagement is in its life.
type VisualState string

// Visual engagement states.
const (
	VisualInvited VisualState = "invited"
	VisualActive  VisualState = "active"
	VisualEnded   VisualState = "ended"
)

// Visual message types.
const (
	// TypeVisualInvite (agent→hub, [VisualInvite]) invites the customer; the Ack's Visual is the
	// new engagement's id.
	TypeVisualInvite Type = "visual.invite"
	// TypeVisualState (hub→agent and customer, [Visual]) reports an engagement's new state.
	TypeVisualState Type = "visual.state"
	// TypeVisualAccept (customer→hub, [VisualAccept]) accepts, with the PIN when one is required.
	TypeVisualAccept Type = "visual.accept"
	// TypeVisualDecline (customer→hub, [VisualRef]) refuses the invitation.
	TypeVisualDecline Type = "visual.decline"
	// TypeVisualStop (agent or customer→hub, [VisualRef]) ends the engagement at once.
	TypeVisualStop Type = "visual.stop"
	// TypeVisualControl (customer→hub, [VisualControl]) grants or takes back the agent's control of
	// a co-browsed page.
	TypeVisualControl Type = "visual.control"
	// TypeVisualEvent (customer→hub→agent, [VisualEvent]) carries recorded DOM events of a
	// co-browsed page, already masked.
	TypeVisualEvent Type = "visual.event"
	// TypeVisualPointer (agent→hub→customer, [VisualPointer]) moves or hides the laser pointer.
	TypeVisualPointer Type = "visual.pointer"
	// TypeVisualCommand (agent→hub→customer, [VisualCommand]) clicks, types, scrolls or navigates
	// in the co-browsed page; refused (EFORBIDDEN) unless the customer granted control.
	TypeVisualCommand Type = "visual.command"
	// TypeVisualResult (customer→hub→agent, [VisualResult]) says the customer's page refused a
	// command: the agent learns why nothing happened.
	TypeVisualResult Type = "visual.result"
	// TypeVisualSignal (both ways, [VisualSignal]) carries the built-in screen share's SDP and ICE.
	TypeVisualSignal Type = "visual.signal"
	// TypeVisualSettings (hub→agent, [VisualSettings]) tells the agent's app the organisation's
	// providers: on connect, and again when an admin changes them.
	TypeVisualSettings Type = "visual.settings"
)

// VisualInvite asks the hub to invite the customer of Conv.
type VisualInvite struct {
	Conv ConversationID `json:"conv"`
	Kind VisualKind     `json:"kind"`
	// PIN is the PIN or password an external provider gave the agent's session, when it has one;
	// the hub then checks the customer types the same. Ignored for built-in providers (the hub
	// makes their PIN).
	PIN string `json:"pin,omitempty"`
	// Session is the external provider's session id, substituted for {session} in its join URL.
	Session string `json:"session,omitempty"`
}

// VisualRef names a visual engagement.
type VisualRef struct {
	Visual VisualID `json:"visual"`
}

// VisualAccept accepts an invitation.
type VisualAccept struct {
	Visual VisualID `json:"visual"`
	// PIN is what the customer typed; required when the engagement's PINRequired is true.
	PIN string `json:"pin,omitempty"`
}

// VisualControl grants (true) or takes back (false) the agent's control of a co-browsed page.
type VisualControl struct {
	Visual  VisualID `json:"visual"`
	Granted bool     `json:"granted"`
}

// Visual is the state of one visual engagement, as each party sees it.
type Visual struct {
	ID       VisualID       `json:"id"`
	Conv     ConversationID `json:"conv"`
	Kind     VisualKind     `json:"kind"`
	Provider ProviderKind   `json:"provider"`
	// ProviderName is what the customer is told they share with, e.g. "Parley" or "AcmeView".
	ProviderName string      `json:"provider_name,omitempty"`
	State        VisualState `json:"state"`
	// PINRequired says the customer must type a PIN to accept.
	PINRequired bool `json:"pin_required"`
	// PIN is the PIN to share in the chat. Only the agent's copy carries it.
	PIN string `json:"pin,omitempty"`
	// PINExpiresAt is when the PIN stops being accepted, Unix milliseconds; zero when it does not
	// expire.
	PINExpiresAt int64 `json:"pin_expires_at,omitempty"`
	// JoinURL is, for an external provider, the page the customer's browser opens once accepted,
	// with {session} filled in; the portal fills {pin} (URL-escaped) with what the customer typed.
	JoinURL string `json:"join_url,omitempty"`
	// Control is true while the customer lets the agent drive a co-browsed page.
	Control bool `json:"control"`
	// EndedBy says who ended it; Reason is a short code: "stopped", "declined", "pin_expired",
	// "pin_attempts", "conversation_ended", "reassigned", "transferred".
	EndedBy Author `json:"ended_by,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// ICE holds the STUN/TURN servers for the built-in screen share, for the party receiving it.
	ICE *ICEConfig `json:"ice,omitempty"`
	// Times are Unix milliseconds; zero when not yet.
	CreatedAt  int64 `json:"created_at"`
	AcceptedAt int64 `json:"accepted_at,omitempty"`
	EndedAt    int64 `json:"ended_at,omitempty"`
}

// VisualEvent is one frame of a co-browse recording. A batch of recorded events is the JSON array
// text made by concatenating the Data of parts 0..Parts-1 of one Seq, in order; small batches
// have one part. Senders split on UTF-8 boundaries so each frame stays under MaxFrameBytes.
type VisualEvent struct {
	Visual VisualID `json:"visual"`
	// Seq numbers the batches of one engagement from 1.
	Seq   int64 `json:"seq"`
	Part  int   `json:"part"`
	Parts int   `json:"parts"`
	// Data is at most MaxVisualEventBytes bytes of the batch's JSON text.
	Data string `json:"data"`
}

// VisualPointer places the agent's laser pointer. X and Y are fractions (0..1) of the shared view:
// the customer's viewport in co-browse, the captured surface in screen share.
type VisualPointer struct {
	Visual VisualID `json:"visual"`
	X      float64  `json:"x"`
	Y      float64  `json:"y"`
	// Visible is false to hide the pointer.
	Visible bool `json:"visible"`
}

// VisualAction is what a [VisualCommand] does.
type VisualAction string

// Co-browse commands.
const (
	ActionClick    VisualAction = "click"
	ActionType     VisualAction = "type"
	ActionScroll   VisualAction = "scroll"
	ActionNavigate VisualAction = "navigate"
)

// VisualCommand is the agent acting in the customer's co-browsed page. The customer's browser
// executes it only while control is granted, and never into a masked field.
type VisualCommand struct {
	Visual VisualID     `json:"visual"`
	Action VisualAction `json:"action"`
	// Node is the recorder's id of the target element (click, type; scroll when not the page).
	Node int64 `json:"node,omitempty"`
	// Text is what to type (at most MaxVisualTextBytes).
	Text string `json:"text,omitempty"`
	// X and Y are the scroll position in CSS pixels.
	X float64 `json:"x,omitempty"`
	Y float64 `json:"y,omitempty"`
	// URL is where to navigate: an http or https URL of at most MaxVisualURLBytes.
	URL string `json:"url,omitempty"`
}

// VisualResult is the customer's page refusing a command: Code is EFORBIDDEN (control taken
// back, or a protected target: masked or sensitive field, the widget), ENOTFOUND (the element is
// gone) or EINVALID (the command makes no sense there).
type VisualResult struct {
	Visual VisualID     `json:"visual"`
	Action VisualAction `json:"action"`
	Code   Code         `json:"code"`
}

// VisualSignal carries one SDP description or one ICE candidate of the built-in screen share.
type VisualSignal struct {
	Visual    VisualID      `json:"visual"`
	SDP       *SDP          `json:"sdp,omitempty"`
	Candidate *ICECandidate `json:"candidate,omitempty"`
	// From is filled by the hub.
	From Author `json:"from,omitempty"`
}

// Limits of visual engagement.
const (
	// MaxVisualEventBytes is the most Data one VisualEvent carries.
	MaxVisualEventBytes = 12 << 10
	// MaxVisualParts is the most parts one batch of events is split into.
	MaxVisualParts = 512
	// MaxVisualTextBytes is the longest text a command types.
	MaxVisualTextBytes = 1000
	// MaxVisualURLBytes is the longest URL a command navigates to, or a provider template.
	MaxVisualURLBytes = 2048
	// MaxPINAttempts is how many wrong PINs end an invitation.
	MaxPINAttempts = 5
	// PINTTLSeconds is how long a built-in provider's PIN is accepted.
	PINTTLSeconds = 600
)

// VisualSettings is an organisation's choice of providers: the body of GET and PUT
// /api/v1/orgs/{org}/settings/visual (PUT is for admins; members may read it, since the agent's
// app needs the provider's URLs).
type VisualSettings struct {
	Cobrowse    ProviderConfig `json:"cobrowse"`
	ScreenShare ProviderConfig `json:"screenshare"`
}

// ProviderConfig is the provider of one kind of engagement.
type ProviderConfig struct {
	// Provider is ProviderNone, the built-in provider of the kind, or ProviderExternal.
	Provider ProviderKind `json:"provider"`
	// External describes the external provider; required when Provider is ProviderExternal.
	External *ExternalProvider `json:"external,omitempty"`
}

// SecureProviderURL reports whether raw may be an external provider's URL: https, or http to a
// loopback host (a provider running on the agent's own machine, as in development and tests).
// The agent's provider password travels to some of these URLs, and the agent types into others:
// plain http across a network would hand both to anyone on the path.
func SecureProviderURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		if h == "localhost" {
			return true
		}
		ip, err := netip.ParseAddr(h)
		return err == nil && ip.IsLoopback()
	}
	return false
}

// ExternalProvider is a third-party co-browse or screen-share service described by URL templates,
// so a real service can be wired in by configuration. Every URL is https, or http to loopback
// ([SecureProviderURL]).
type ExternalProvider struct {
	// Name is shown to the agent and the customer, e.g. "AcmeView".
	Name string `json:"name"`
	// SignInURL is the provider's page the agent's provider tab shows (sandboxed) to sign in to
	// its own console.
	SignInURL string `json:"sign_in_url"`
	// VerifyURL, when set, checks the credentials the agent gives Parley: a GET with them as HTTP
	// basic auth answers 2xx when they are right.
	VerifyURL string `json:"verify_url,omitempty"`
	// SessionURL, when set, creates a session: the agent's app POSTs to it (with the stored
	// credentials as HTTP basic auth) and reads the session id and PIN from the JSON answer at
	// SessionIDPointer and PINPointer (RFC 6901 JSON pointers, e.g. "/session/pin").
	SessionURL       string `json:"session_url,omitempty"`
	SessionIDPointer string `json:"session_id_pointer,omitempty"`
	PINPointer       string `json:"pin_pointer,omitempty"`
	// SessionPageURL, used when SessionURL is empty, is a page in the provider tab where the agent
	// creates a session and reads its PIN, then types it into Parley.
	SessionPageURL string `json:"session_page_url,omitempty"`
	// JoinURL is the customer's join page, with {pin} and {session} placeholders.
	JoinURL string `json:"join_url"`
}
