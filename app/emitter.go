package app

import "log/slog"

// Emitter hands events to the UI. In the desktop app it wraps the Wails runtime's EventsEmit; in
// cmd/parley-agent and in tests it logs or records. Emit must not block for long: it is called
// from the goroutine that reads the hub connection.
type Emitter interface {
	Emit(event string, data any)
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
)

// EmitterFunc adapts a function to the Emitter interface.
type EmitterFunc func(event string, data any)

// Emit calls f(event, data).
func (f EmitterFunc) Emit(event string, data any) { f(event, data) }

// LogEmitter logs every event at debug level; cmd/parley-agent wraps it.
type LogEmitter struct {
	Log *slog.Logger
}

// Emit logs the event.
func (e LogEmitter) Emit(event string, data any) {
	e.Log.Debug("event", "event", event, "data", data)
}
