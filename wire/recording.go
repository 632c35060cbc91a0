package wire

// Recording: an organisation records calls off, when the customer agrees to it on request, or
// always (with a notice the customer accepts before any media flows). The customer's consent
// travels with their answer ([CallAccept].Record); the hub keeps it on the call and refuses to
// start a recording, or to take a recording's upload, without it (ENOCONSENT). The agent's app
// writes both sides' encoded media as it arrives (no re-encoding) and uploads the files to the
// hub when the call ends, where supervisors and admins of the organisation play or download them
// (each is an audit line).
//
// Recording in the transcript: system lines with [EventRecordingStarted] and
// [EventRecordingStopped] (Name: who started or stopped it).

// RecordingMode is an organisation's recording setting.
type RecordingMode string

// Recording settings.
const (
	// RecordingOff: calls are never recorded.
	RecordingOff RecordingMode = "off"
	// RecordingAsk: the customer is asked when they answer; with their yes the agent may start
	// and stop recording from the call control.
	RecordingAsk RecordingMode = "ask"
	// RecordingAlways: the customer is told the call is recorded and accepts that with the call
	// (or keeps chatting without one); recording runs from the answer to the end.
	RecordingAlways RecordingMode = "always"
)

// Recording message types.
const (
	// TypeCallRecord (agent→hub, [CallRecord]) starts or stops recording a call the customer
	// agreed to record; the hub answers with call.state (Recording) to both sides.
	TypeCallRecord Type = "call.record"
)

// Recording transcript events.
const (
	// EventRecordingStarted: "Recording started by Ana".
	EventRecordingStarted EventKind = "recording_started"
	// EventRecordingStopped: "Recording stopped by Ana" (not written when the call's end stops it).
	EventRecordingStopped EventKind = "recording_stopped"
)

// ENOCONSENT refuses a recording the customer has not agreed to: starting one, answering an
// always-recorded call without agreeing, or uploading a recording of a call that was never
// recorded with consent.
const ENOCONSENT Code = "ENOCONSENT"

// CallRecord starts (On) or stops recording a call.
type CallRecord struct {
	Call CallID `json:"call"`
	On   bool   `json:"on"`
}

// RecordingSettings is an organisation's recording setting: the body of GET (any member) and PUT
// (admins) /api/v1/orgs/{org}/settings/recording.
type RecordingSettings struct {
	Mode RecordingMode `json:"mode"`
	// RetentionDays is how long recordings are kept (0: until deleted by hand).
	RetentionDays int `json:"retention_days"`
}

// MaxRetentionDays is the longest retention an organisation may set (ten years).
const MaxRetentionDays = 3650

// RecordingTrack names one file of a call's recording: whose side and which medium. The file
// keeps the codec's packets as they were sent: each side's Opus audio and VP8 or H.264 video in
// one WebM file on the recording's clock (a browser plays it, both sides in step). Earlier apps
// wrote Opus in Ogg, VP8 in IVF and H.264 as Annex B, one file per medium.
type RecordingTrack string

// Recording tracks.
const (
	TrackAgent         RecordingTrack = "agent.webm"
	TrackCustomer      RecordingTrack = "customer.webm"
	TrackAgentAudio    RecordingTrack = "agent-audio.ogg"
	TrackAgentVideo    RecordingTrack = "agent-video.ivf"
	TrackAgentH264     RecordingTrack = "agent-video.h264"
	TrackCustomerAudio RecordingTrack = "customer-audio.ogg"
	TrackCustomerVideo RecordingTrack = "customer-video.ivf"
	TrackCustomerH264  RecordingTrack = "customer-video.h264"
)

// RecordingTracks are the track names the hub accepts.
var RecordingTracks = []RecordingTrack{TrackAgent, TrackCustomer, TrackAgentAudio, TrackAgentVideo, TrackAgentH264,
	TrackCustomerAudio, TrackCustomerVideo, TrackCustomerH264}

// Recording is one stored file of a call's recording, as GET
// /api/v1/orgs/{org}/conversations/{conv}/recordings lists them (supervisors and admins).
type Recording struct {
	Call  CallID         `json:"call"`
	Conv  ConversationID `json:"conv"`
	Track RecordingTrack `json:"track"`
	Bytes int64          `json:"bytes"`
	// SHA256 is the file's checksum (hex), as the agent's app computed it and the hub checked it.
	SHA256 string `json:"sha256"`
	// Agent is who recorded it; StartedAt is when recording began and UploadedAt when the file
	// arrived (Unix milliseconds).
	Agent      UserID `json:"agent"`
	StartedAt  int64  `json:"started_at"`
	UploadedAt int64  `json:"uploaded_at"`
	// URL is where a supervisor or admin plays or downloads it, with their token as Bearer.
	URL string `json:"url"`
}

// Recording uploads: PUT /api/v1/orgs/{org}/conversations/{conv}/calls/{call}/recordings/{track}
// by the call's agent (Bearer token), the body the file, with its checksum in this header.
const (
	// HeaderSHA256 carries the hex SHA-256 of an uploaded recording; a body that does not match
	// is refused (EINVALID) and nothing is kept.
	HeaderSHA256 = "X-Parley-SHA256"
	// MaxRecordingBytes bounds one uploaded file (about 4 hours of 640x480 video).
	MaxRecordingBytes = 4 << 30
)

// Transcript is a conversation with its messages (internal notes included), as GET
// /api/v1/orgs/{org}/conversations/{conv}/transcript serves it to supervisors and admins for
// the recordings' playback page.
type Transcript struct {
	Conversation Conversation `json:"conversation"`
	Messages     []Message    `json:"messages"`
}

// PlaybackRequest is the body of POST .../calls/{call}/playback: empty to start a playback,
// or the playback's Token to renew its links (not audited again).
type PlaybackRequest struct {
	Renew string `json:"renew,omitempty"`
}

// Playback answers POST .../calls/{call}/playback (supervisors and admins): a signed address per
// file of the call that a <video> element loads without a token, streaming and seeking with
// range requests, until ExpiresAt (a few minutes; the page renews them with Token). Starting a
// playback is its audit line; the range requests that follow are not.
type Playback struct {
	Call      CallID         `json:"call"`
	Files     []PlaybackFile `json:"files"`
	ExpiresAt int64          `json:"expires_at"`
	Token     string         `json:"token"`
}

// PlaybackFile is one file's signed address.
type PlaybackFile struct {
	Track RecordingTrack `json:"track"`
	URL   string         `json:"url"`
}

// RecordedCall is one recorded call as GET /api/v1/orgs/{org}/recordings lists them to the
// organisation's supervisors and admins, newest first: the calls whose recording reached the hub,
// whether their conversation is still open or long ended.
type RecordedCall struct {
	Call CallID         `json:"call"`
	Conv ConversationID `json:"conv"`
	Kind CallKind       `json:"kind"`
	// CustomerName, AgentName (the call's agent) and QueueName as the conversation had them.
	CustomerName string `json:"customer_name"`
	Agent        UserID `json:"agent"`
	AgentName    string `json:"agent_name"`
	QueueName    string `json:"queue_name,omitempty"`
	// StartedAt is when the call was answered (or placed), EndedAt when it ended (Unix ms);
	// DurationMS is the answered call's length.
	StartedAt  int64 `json:"started_at"`
	EndedAt    int64 `json:"ended_at"`
	DurationMS int64 `json:"duration_ms"`
	// Page is the playback page of the conversation's recordings (the transcript beside them).
	Page string `json:"page"`
}

// RecordedCalls is a page of GET /api/v1/orgs/{org}/recordings?limit=N&before=CURSOR.
type RecordedCalls struct {
	Calls []RecordedCall `json:"calls"`
	// Next is the cursor of the next, older page (pass it as before); "" on the last page.
	Next string `json:"next,omitempty"`
}

// Recorded calls per page: DefaultRecordedCalls when the request names no limit, at most
// MaxRecordedCalls.
const (
	DefaultRecordedCalls = 25
	MaxRecordedCalls     = 100
)
