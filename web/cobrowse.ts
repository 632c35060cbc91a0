// The messages between the co-browse recorder (on the customer's page) and the chat (the portal,
// which holds the hub connection), over a private MessagePort. The same shapes travel to and from
// the agent inside visual.event / visual.pointer / visual.command payloads.

/** MAX_CHUNK_BYTES bounds one chunk of serialized events, in UTF-8 bytes once JSON-escaped, so a
 * visual.event frame stays well under the hub's 16 KB frame limit. */
export const MAX_CHUNK_BYTES = 10 * 1024;

/** MAX_EVENT_BYTES is the largest single recorded event (a full snapshot of a big page); a bigger
 * one stops the co-browse with ETOOLARGE rather than flood the link. */
export const MAX_EVENT_BYTES = 4 << 20;

/** MAX_BACKLOG_BYTES is how much may wait unsent before the co-browse stops with ETOOLARGE. */
export const MAX_BACKLOG_BYTES = 8 << 20;

/** BATCH_MS is how long events gather before they are sent together. */
export const BATCH_MS = 100;

/** Chunk is one piece of a batch of rrweb events, serialized as a JSON array. A batch bigger than
 * MAX_CHUNK_BYTES is cut into parts that share seq. */
export interface Chunk {
  /** seq numbers batches from 1 within a co-browse. */
  seq: number;
  /** part counts from 0 to parts-1. */
  part: number;
  parts: number;
  /** data is this part's slice of the batch's JSON text. */
  data: string;
}

/** Pointer is where the agent points, as fractions (0..1) of the customer's viewport
 * (wire.VisualPointer without the engagement id). */
export interface Pointer {
  x: number;
  y: number;
  /** visible false hides the laser dot (the agent's pointer left the view or the laser is off). */
  visible: boolean;
}

/** Command is an action the agent asks to run in the customer's page (wire.VisualCommand without
 * the engagement id). node is rrweb's id of the target element, as the agent's replay knows it.
 * type appends text to the field; a "\b" in text deletes the character before the caret's end and
 * a "\n" submits the field's form (a new line in a textarea). scroll moves the page (or the node)
 * to x, y in CSS pixels. navigate opens an http or https URL. */
export interface Command {
  action: 'click' | 'type' | 'scroll' | 'navigate';
  node?: number;
  text?: string;
  x?: number;
  y?: number;
  url?: string;
}

/** CommandResult answers a command: ok, or a code (EFORBIDDEN: no control or a masked target;
 * ENOTFOUND: no such element; EINVALID: a command that makes no sense). */
export interface CommandResult {
  ok: boolean;
  code?: 'EFORBIDDEN' | 'ENOTFOUND' | 'EINVALID';
}

/** ToRecorder is what the chat sends the recorder. */
export type ToRecorder =
  | { op: 'pointer'; pointer: Pointer }
  | { op: 'command'; id?: string; command: Command }
  | { op: 'control'; granted: boolean }
  // snapshot asks for a fresh full snapshot: the engagement's state changed, e.g. a transfer
  // handed it to another agent whose view starts empty.
  | { op: 'snapshot' }
  | { op: 'stop' };

/** FromRecorder is what the recorder sends the chat. */
export type FromRecorder =
  | { op: 'chunk'; chunk: Chunk }
  | { op: 'result'; id?: string; result: CommandResult }
  /** control: the customer took control back (granted false) on the page. */
  | { op: 'control'; granted: boolean }
  /** stopped: the recorder ended, with a code when it had to (ETOOLARGE). */
  | { op: 'stopped'; code?: string };

/** chunkText cuts text into pieces whose JSON-escaped UTF-8 size is at most max bytes, never
 * splitting a surrogate pair. */
export function chunkText(text: string, max = MAX_CHUNK_BYTES): string[] {
  const enc = new TextEncoder();
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let n = Math.min(text.length - i, max);
    for (;;) {
      let end = i + n;
      // Do not cut between a high and a low surrogate.
      if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1])) end--;
      const piece = text.slice(i, end);
      if (enc.encode(JSON.stringify(piece)).length - 2 <= max || end - i <= 1) {
        out.push(piece);
        i = end;
        break;
      }
      n = Math.max(1, Math.floor(n / 2));
    }
  }
  return out;
}

/** Assembler puts chunks back together into batches of events, in order. Chunks of a batch must
 * arrive in order (they do: one WebSocket); a missing part drops that batch. */
export class Assembler {
  private seq = 0;
  private parts: string[] = [];
  private bytes = 0;
  /** maxBytes bounds one reassembled batch. */
  constructor(private readonly maxBytes = MAX_EVENT_BYTES * 2) {}

  /** push adds a chunk and returns the batch's events once complete, or throws an Error whose
   * message is a code (EINVALID, ETOOLARGE) for a malformed chunk or batch. */
  push(c: unknown): unknown[] | null {
    if (!validChunk(c)) throw new Error('EINVALID');
    if (c.part === 0) {
      this.seq = c.seq;
      this.parts = [];
      this.bytes = 0;
    } else if (c.seq !== this.seq || c.part !== this.parts.length) {
      this.parts = [];
      throw new Error('EINVALID');
    }
    this.bytes += c.data.length;
    if (this.bytes > this.maxBytes) {
      this.parts = [];
      throw new Error('ETOOLARGE');
    }
    this.parts.push(c.data);
    if (this.parts.length < c.parts) return null;
    const text = this.parts.join('');
    this.parts = [];
    let events: unknown;
    try {
      events = JSON.parse(text);
    } catch {
      throw new Error('EINVALID');
    }
    if (!Array.isArray(events)) throw new Error('EINVALID');
    for (const e of events) if (!validEvent(e)) throw new Error('EINVALID');
    return events;
  }
}

function validChunk(c: unknown): c is Chunk {
  if (!c || typeof c !== 'object') return false;
  const k = c as Record<string, unknown>;
  return (
    Number.isInteger(k.seq) &&
    Number.isInteger(k.part) &&
    Number.isInteger(k.parts) &&
    (k.part as number) >= 0 &&
    (k.parts as number) >= 1 &&
    (k.parts as number) <= 1024 &&
    (k.part as number) < (k.parts as number) &&
    typeof k.data === 'string'
  );
}

/** validEvent checks the outline of one rrweb event: a known numeric type, a timestamp, an object
 * of data. The replayer trusts nothing else about it. */
export function validEvent(e: unknown): boolean {
  if (!e || typeof e !== 'object' || Array.isArray(e)) return false;
  const k = e as Record<string, unknown>;
  return (
    Number.isInteger(k.type) &&
    (k.type as number) >= 0 &&
    (k.type as number) <= 6 &&
    typeof k.timestamp === 'number' &&
    !!k.data &&
    typeof k.data === 'object'
  );
}
