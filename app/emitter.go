package app

import (
	"log/slog"

	"github.com/parleyhq/parley/wire"
)

// Emitter hands events to the UI. In the desktop app it wraps the Wails runtime's EventsEmit; in
// cmd/parley-agent and in tests it logs, acts or records. The services call it from one goroutine
// at a time, in the order of Event.Rev, holding none of their locks (app/events.go): it may call
// the services back; while it runs, later events wait.
type Emitter interface {
	Emit(Event)
}

// Event is one event for the UI: its name (the Event* constants), its number and its data.
type Event struct {
	Name string `json:"name"`
	// Rev counts up by one from 1, in the order the services' state changed. The Wails dev server
	// writes each event from its own goroutine, so events can overtake one another on the way to
	// a page; the UI puts them back in this order (frontend/src/api/backend.ts).
	Rev  uint64 `json:"rev"`
	Data any    `json:"data"`
}

// Events the services emit. Each carries the whole current state of its domain, except
// EventMessage, which carries one new message, so the UI replaces rather than patches.
const (
	// EventSession carries a SessionView whenever sign-in or the connection changes.
	EventSession = "session"
	// EventAgent carries the signed-in agent's wire.AgentState (presence, load, capacity).
	EventAgent = "agent"
	// EventOffers carries the pending []OfferView.
	EventOffers = "offers"
	// EventConversations carries the []ConversationView, newest first.
	EventConversations = "conversations"
	// EventActive carries the id of the conversation just opened, so every view of the app shows
	// the same one (the headless agent opens what it accepts).
	EventActive = "active"
	// EventMessage carries one new MessageView, live or replayed, never twice.
	EventMessage = "message"
	// EventSupervisor carries the supervisor's SupervisorView.
	EventSupervisor = "supervisor"
	// EventNotice carries a Notice: something the agent should know that no request caused.
	EventNotice = "notice"
	// EventWatched carries the wire.Watched of the conversation a supervisor follows
	// (Supervisor.Watch): who is typing, and its last message's seq.
	EventWatched = "supervisor.watched"
)

// eventTypes is the Go type of each event's data. frontend/src/api/app.gen.ts is generated from
// it (go generate ./app), and the tests check every event the services emit against it.
var eventTypes = map[string]any{
	EventSession:       SessionView{},
	EventAgent:         wire.AgentState{},
	EventOffers:        []OfferView{},
	EventConversations: []ConversationView{},
	EventActive:        wire.ConversationID(""),
	EventMessage:       MessageView{},
	EventSupervisor:    SupervisorView{},
	EventNotice:        Notice{},
	EventWatched:       wire.Watched{},
	EventCall:          (*CallView)(nil),
	EventCallQuality:   QualityView{},
	EventVisual:        VisualView{},
	EventVisualFrame:   wire.VisualEvent{},
	EventVisualResult:  wire.VisualResult{},
	EventScreenShare:   ScreenShareView{},
	EventWindow:        WindowNotice{},
	EventSetup:         SetupView{},
	EventMonitor:       MonitorView{},
}

// EmitterFunc adapts a function to the Emitter interface.
type EmitterFunc func(Event)

// Emit calls f(e).
func (f EmitterFunc) Emit(e Event) { f(e) }

// LogEmitter logs every event at debug level; cmd/parley-agent wraps it.
type LogEmitter struct {
	Log *slog.Logger
}

// Emit logs the event.
func (e LogEmitter) Emit(ev Event) {
	e.Log.Debug("event", "event", ev.Name, "rev", ev.Rev, "data", ev.Data)
}
