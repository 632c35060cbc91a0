// The shapes the Go services (app/views.go) hand the UI. Keep in step with app/views.go.
import type * as wire from '../../../web/wire.gen';

export type Connection = 'offline' | 'online' | 'reconnecting';

export interface SessionView {
  signed_in: boolean;
  hub_url: string;
  user?: wire.User;
  connection: Connection;
  max_text_bytes: number;
}

export interface Prefill {
  hub_url: string;
  org: string;
  username: string;
}

/** SignInOptionsView is app.SignInOptionsView: how an organisation's members sign in. */
export interface SignInOptionsView {
  hub_url: string;
  org: string;
  name: string;
  password: boolean;
  sso?: string;
}

export interface OfferView {
  id: wire.OfferID;
  conv: wire.ConversationID;
  customer_name: string;
  preview?: string;
  received_at: number;
  expires_at: number;
  /** queue_name is the queue it comes from; transfer carries a colleague's note; message: a left message. */
  queue_name?: string;
  transfer?: wire.TransferInfo;
  message?: boolean;
}

export interface ConversationView {
  id: wire.ConversationID;
  state: wire.ConvState;
  customer_name: string;
  agent_id?: string;
  agent_name?: string;
  last_seq: number;
  created_at: number;
  accepted_at?: number;
  ended_at?: number;
  ended_by?: wire.Author;
  unread: number;
  last_text?: string;
  last_at?: number;
  customer_typing: boolean;
  delivered_seq: number;
  read_seq: number;
  calls?: wire.CallsAllowed;
  /** customer is here, away (tab hidden) or gone (no connection for a while), since customer_since. */
  customer?: wire.CustomerPresence;
  customer_since?: number;
  /** closes_at is when the hub closes it for inactivity; close_warning asks the agent to keep it. */
  closes_at?: number;
  close_warning?: boolean;
  end_reason?: wire.EndReason;
  /** queue is the queue it is in or came from; transfer its last transfer with the note for this agent. */
  queue?: string;
  queue_name?: string;
  transfer?: wire.TransferInfo;
  /** moved: no longer this agent's (back in the queue, or another agent's); read-only. */
  moved?: boolean;
}

export interface MessageView {
  conv: wire.ConversationID;
  seq: number;
  author: wire.Author;
  author_name: string;
  text: string;
  at: number;
  /** event is what a system line reports, for its translation. */
  event?: wire.Event;
}

export interface SupervisorView {
  agents: wire.AgentSummary[];
  conversations: ConversationView[];
  updated_at: number;
  /** stats are the hub's handle-time figures of the last 24 hours. */
  stats: wire.Stats;
  /** queues are each queue's waiting-time figures, now and over the last 24 hours. */
  queues: wire.QueueStats[];
}

/** Report names a supervisor's CSV export (app.ReportConversations, app.ReportCalls). */
export type Report = 'conversations' | 'calls';

export interface Notice {
  kind: 'offer_revoked' | 'connection_lost' | 'signed_out';
  reason?: string;
  /** next is where a withdrawn offer's conversation went: 'agent' or 'queue'. */
  next?: 'agent' | 'queue';
  code?: wire.Code;
}

export type { AgentState, Presence, AgentSummary, ConversationID, OfferID, UserID, Code } from '../../../web/wire.gen';
