// The model of a chat transcript shared by both UIs: messages from the hub merged with the ones
// this client is still sending, in sequence order, each once.
import type * as wire from './wire.gen';

/** Status is how far one of our own messages got. */
export type Status = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

/** Item is one line of a transcript. */
export interface Item {
  /** key is stable for the life of the line (client_id for our messages, else the seq). */
  key: string;
  seq?: number;
  clientID?: string;
  author: wire.Author;
  name: string;
  text: string;
  /** at is Unix milliseconds. */
  at: number;
  status?: Status;
  /** error is a translated sentence saying why a message failed. */
  error?: string;
  /** event is what a system line reports, for its translation. */
  event?: wire.Event;
}

const rank: Record<Status, number> = { failed: 0, sending: 1, sent: 2, delivered: 3, read: 4 };

/** upsertMessage merges a hub message into items: it replaces our pending copy, or is inserted in order. */
export function upsertMessage(items: Item[], m: wire.Message, mine: wire.Author): Item[] {
  const idx = items.findIndex((it) => (m.client_id && it.clientID === m.client_id) || it.seq === m.seq);
  const status: Status | undefined = m.author === mine ? 'sent' : undefined;
  const line: Item = {
    key: m.client_id || `s${m.seq}`,
    seq: m.seq,
    clientID: m.client_id,
    author: m.author,
    name: m.author_name,
    text: m.text,
    at: m.at,
    status,
    event: m.event,
  };
  if (idx >= 0) {
    const prev = items[idx];
    const next = items.slice();
    next[idx] = { ...line, key: prev.key, status: better(prev.status, status) };
    return next;
  }
  const next = items.slice();
  // Insert after the last line with a lower seq; pending lines (no seq) stay at the end.
  let at = next.length;
  while (at > 0 && (next[at - 1].seq === undefined || next[at - 1].seq! > m.seq)) at--;
  next.splice(at, 0, line);
  return next;
}

function better(a: Status | undefined, b: Status | undefined): Status | undefined {
  if (!a) return b;
  if (!b) return a;
  return rank[a] >= rank[b] ? a : b;
}

/** applyReceipt marks our messages up to seq delivered or read. */
export function applyReceipt(items: Item[], seq: number, kind: wire.ReceiptKind, mine: wire.Author): Item[] {
  return items.map((it) =>
    it.author === mine && it.seq !== undefined && it.seq <= seq ? { ...it, status: better(it.status, kind) } : it,
  );
}
