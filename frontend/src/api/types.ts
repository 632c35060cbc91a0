// The shapes the Go services hand the UI, for the rest of the UI to import from one place. The
// services' own types are generated from package app (app.gen.ts: go generate ./app), the wire's
// from package wire (web/wire.gen.ts): none is written by hand.
export type * from './app.gen';
export type {
  AgentState,
  AgentSummary,
  CallKind,
  CallsAllowed,
  ConversationID,
  MonitorMode,
  OfferID,
  Presence,
  UserID,
  VisualCommand,
  VisualID,
  VisualKind,
  VisualPointer,
} from '../../../web/wire.gen';
