// The browser side of Parley's WebSocket protocol (see wire/wire.go), shared by the portal and the
// agent UI: Hello with a token and a resume map, requests answered by Ack/Error with the same RID,
// automatic reconnect with backoff, resume from the last sequence number with duplicates dropped,
// chat messages still unacknowledged re-sent with the same client_id, and a ping that notices dead
// links.
import * as wire from './wire.gen';

/** ConnState is what a "reconnecting" indicator shows. */
export type ConnState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** ErrorCode is a wire code, or NETWORK when the hub could not be reached at all. */
export type ErrorCode = wire.Code | 'NETWORK';

/** WireError is a failed request: a code the UI translates, and a message for developers. */
export class WireError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'WireError';
    this.code = code;
  }
}

/** SocketLike is the part of the browser WebSocket the client uses (a fake one in unit tests). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** SocketFactory opens a socket to a URL. */
export type SocketFactory = (url: string) => SocketLike;

/** ClientOptions configure a Client. */
export interface ClientOptions {
  /** url is the hub's WebSocket endpoint, e.g. wss://hub.example/ws. */
  url: string;
  /** token is sent in Hello: an agent's login token or a customer's conversation token. */
  token: string;
  /** resume seeds the last sequence number known per conversation (e.g. after a reload). */
  resume?: Record<wire.ConversationID, number>;
  /** socket opens sockets; the browser WebSocket by default. */
  socket?: SocketFactory;
  /** minBackoffMs and maxBackoffMs bound the wait between reconnect attempts. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** pingIntervalMs is how often a live link is checked; pingTimeoutMs how long an answer may take. */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** random is injected so tests are deterministic. */
  random?: () => number;
  onState?(state: ConnState): void;
  onWelcome?(welcome: wire.Welcome): void;
  /** onMessage receives each chat message exactly once, live or replayed. */
  onMessage?(msg: wire.Message): void;
  /** onEvent receives every other event the hub sends (typing, receipts, state, queue, offers…). */
  onEvent?(env: wire.Envelope): void;
  /** onFatal reports that the hub refused the Hello (e.g. an expired token); the client stops. */
  onFatal?(err: WireError): void;
}

/** RequestOptions shape one request. */
export interface RequestOptions {
  /**
   * retry keeps the request across reconnects until the hub answers it (use it only for requests
   * the hub makes idempotent, like chat.send with its client_id). Other requests fail with NETWORK
   * when the link drops.
   */
  retry?: boolean;
}

interface Pending {
  type: wire.Type;
  data: unknown;
  retry: boolean;
  /** sent is true once written to the current socket. */
  sent: boolean;
  /** backoff is the wait before the next try after ERATELIMITED, ms. */
  backoff?: number;
  resolve(v: unknown): void;
  reject(e: WireError): void;
}

/** Seqs tracks which sequence numbers of one conversation this client has. */
class Seqs {
  /** contiguous is the highest n such that every message 1..n has been seen. */
  contiguous = 0;
  /** above holds the seen numbers above contiguous (messages that arrived after a gap). */
  above = new Set<number>();

  has(seq: number): boolean {
    return seq <= this.contiguous || this.above.has(seq);
  }

  add(seq: number): void {
    if (this.has(seq)) return;
    this.above.add(seq);
    while (this.above.delete(this.contiguous + 1)) this.contiguous++;
  }
}

const OPEN = 1;
// The close code of a hub node handing its connections over (draining, or the organisation's
// node gone, hub/cluster.go): reconnect at once, without back-off; the next node serves.
export const CLOSE_RECONNECT = 4002;
// Codes with which a refused Hello means "stop": trying again cannot help.
const FATAL: readonly string[] = [wire.EUNAUTHORIZED, wire.EFORBIDDEN, wire.ENOTFOUND, wire.EINVALID];

let ridCounter = 0;

/** newClientID returns an id unique to one outgoing chat message. */
export function newClientID(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${(ridCounter++).toString(36)}`;
}

/** Client is one logical connection to the hub that survives dropped sockets. */
export class Client {
  private opts: Required<Pick<ClientOptions, 'minBackoffMs' | 'maxBackoffMs' | 'pingIntervalMs' | 'pingTimeoutMs' | 'random'>> & ClientOptions;
  private ws: SocketLike | null = null;
  /** welcomed is true once the current socket's Hello was accepted. */
  private welcomed = false;
  private stopped = false;
  private everOpen = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pingDeadline: ReturnType<typeof setTimeout> | null = null;
  private pending = new Map<string, Pending>();
  private seqs = new Map<wire.ConversationID, Seqs>();
  private _state: ConnState = 'closed';
  private rid = 0;

  constructor(opts: ClientOptions) {
    this.opts = {
      minBackoffMs: 500,
      maxBackoffMs: 10_000,
      pingIntervalMs: 20_000,
      pingTimeoutMs: 10_000,
      random: Math.random,
      ...opts,
    };
    for (const [conv, seq] of Object.entries(opts.resume ?? {})) {
      const s = this.seqsOf(conv);
      s.contiguous = seq;
    }
  }

  /** state is the connection's current state. */
  get state(): ConnState {
    return this._state;
  }

  /** start opens the connection. */
  start(): void {
    this.stopped = false;
    this.setState('connecting');
    this.open();
  }

  /** close stops the client for good; requests still waiting fail with NETWORK. */
  close(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      ws.close(1000, 'bye');
    }
    this.failPending(true);
    this.setState('closed');
  }

  /** reconnectNow skips the current backoff wait (e.g. when the browser reports it is online). */
  reconnectNow(): void {
    if (this.stopped || this.ws) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.open();
  }

  /** lastSeq is the sequence number up to which this client has every message of conv. */
  lastSeq(conv: wire.ConversationID): number {
    return this.seqs.get(conv)?.contiguous ?? 0;
  }

  /** request sends a request and resolves with the hub's Ack (or rejects with a WireError). */
  request<T = wire.Ack>(type: wire.Type, data?: unknown, ro: RequestOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.stopped) {
        reject(new WireError('NETWORK', 'client is closed'));
        return;
      }
      if (!ro.retry && !this.welcomed) {
        reject(new WireError('NETWORK', 'not connected'));
        return;
      }
      const rid = `r${++this.rid}`;
      const p: Pending = { type, data, retry: !!ro.retry, sent: false, resolve: resolve as (v: unknown) => void, reject };
      this.pending.set(rid, p);
      if (this.welcomed) this.write(rid, p);
    });
  }

  /**
   * sendChat posts a chat message; it is re-sent with the same client_id after a reconnect until
   * the hub acknowledges it, so it is stored exactly once.
   */
  sendChat(conv: wire.ConversationID, text: string, clientID = newClientID()): { clientID: string; done: Promise<wire.Ack> } {
    const send: wire.ChatSend = { conv, text, client_id: clientID };
    const done = this.request<wire.Ack>(wire.TypeChatSend, send, { retry: true }).then((ack) => {
      if (ack.conv && ack.seq) this.seqsOf(ack.conv).add(ack.seq);
      return ack;
    });
    return { clientID, done };
  }

  /** notify sends an event that needs no answer (typing, receipts); it is dropped while offline. */
  notify(type: wire.Type, data: unknown): boolean {
    if (!this.welcomed || !this.ws || this.ws.readyState !== OPEN) return false;
    this.ws.send(JSON.stringify({ type, data }));
    return true;
  }

  private seqsOf(conv: wire.ConversationID): Seqs {
    let s = this.seqs.get(conv);
    if (!s) {
      s = new Seqs();
      this.seqs.set(conv, s);
    }
    return s;
  }

  private setState(s: ConnState): void {
    if (this._state === s) return;
    this._state = s;
    this.opts.onState?.(s);
  }

  private open(): void {
    const factory: SocketFactory = this.opts.socket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    let ws: SocketLike;
    try {
      ws = factory(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    ws.onopen = () => {
      const resume: Record<string, number> = {};
      for (const [conv, s] of this.seqs) resume[conv] = s.contiguous;
      const hello: wire.Hello = { token: this.opts.token, resume };
      ws.send(JSON.stringify({ type: wire.TypeHello, data: hello }));
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let env: wire.Envelope;
      try {
        env = JSON.parse(ev.data) as wire.Envelope;
      } catch {
        return;
      }
      this.handle(ws, env);
    };
    ws.onerror = () => {
      // A close event follows; reconnecting happens there.
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.dropped((ev as { code?: number } | undefined)?.code === CLOSE_RECONNECT);
    };
  }

  private handle(ws: SocketLike, env: wire.Envelope): void {
    switch (env.type) {
      case wire.TypeWelcome:
        this.welcome(env.data as wire.Welcome);
        return;
      case wire.TypeAck:
      case wire.TypeError: {
        if (env.type === wire.TypeAck && env.rid === 'ping') {
          if (this.pingDeadline) clearTimeout(this.pingDeadline);
          this.pingDeadline = null;
          return;
        }
        const p = env.rid ? this.pending.get(env.rid) : undefined;
        if (p) {
          this.pending.delete(env.rid!);
          if (env.type === wire.TypeAck) p.resolve((env.data ?? {}) as wire.Ack);
          else if (p.retry && (env.data as Partial<wire.Error> | undefined)?.code === wire.ERATELIMITED) {
            // Sent faster than the hub takes: nothing was stored. Wait, then send it again.
            const rid = env.rid!;
            p.backoff = Math.min((p.backoff ?? 50) * 2, 2000);
            p.sent = false;
            setTimeout(() => {
              if (this.stopped) return;
              this.pending.set(rid, p);
              if (this.welcomed) this.write(rid, p);
            }, p.backoff);
          } else {
            const e = (env.data ?? {}) as Partial<wire.Error>;
            p.reject(new WireError(e.code ?? wire.EINTERNAL, e.message ?? ''));
          }
          return;
        }
        if (env.type === wire.TypeError && !this.welcomed) {
          // The Hello was refused.
          const e = (env.data ?? {}) as Partial<wire.Error>;
          const err = new WireError(e.code ?? wire.EINTERNAL, e.message ?? '');
          if (FATAL.includes(err.code)) {
            this.close();
            this.opts.onFatal?.(err);
          } else {
            ws.close();
          }
          return;
        }
        if (env.type === wire.TypeError) this.opts.onEvent?.(env);
        return;
      }
      case wire.TypeChatMessage: {
        const m = env.data as wire.Message;
        const s = this.seqsOf(m.conv);
        if (s.has(m.seq)) return;
        s.add(m.seq);
        this.opts.onMessage?.(m);
        return;
      }
      default:
        this.opts.onEvent?.(env);
    }
  }

  private welcome(w: wire.Welcome): void {
    const known = new Set(this.seqs.keys());
    this.welcomed = true;
    this.everOpen = true;
    this.attempt = 0;
    this.setState('open');
    this.opts.onWelcome?.(w);
    // Conversations this client had no record of are fetched from the start; the others were
    // replayed by the hub from the Hello's resume map.
    for (const c of w.conversations ?? []) {
      if (!known.has(c.id) && c.last_seq > this.lastSeq(c.id)) {
        this.seqsOf(c.id);
        const sync: wire.Sync = { conv: c.id, after: this.lastSeq(c.id) };
        this.request(wire.TypeSync, sync).catch(() => {});
      }
    }
    // Requests kept across the drop go out again, in their original order.
    for (const [rid, p] of this.pending) if (!p.sent) this.write(rid, p);
    this.startPing();
  }

  private write(rid: string, p: Pending): void {
    if (!this.ws || this.ws.readyState !== OPEN) return;
    p.sent = true;
    this.ws.send(JSON.stringify({ type: p.type, rid, data: p.data }));
  }

  private startPing(): void {
    this.clearPing();
    this.pingTimer = setInterval(() => {
      if (!this.ws || !this.welcomed || this.pingDeadline) return;
      this.ws.send(JSON.stringify({ type: wire.TypePing, rid: 'ping' }));
      this.pingDeadline = setTimeout(() => {
        // No answer: the link is dead even if the socket has not noticed.
        this.pingDeadline = null;
        const ws = this.ws;
        if (ws) {
          ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
          ws.close();
          this.dropped();
        }
      }, this.opts.pingTimeoutMs);
    }, this.opts.pingIntervalMs);
  }

  private clearPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pingDeadline) clearTimeout(this.pingDeadline);
    this.pingTimer = this.pingDeadline = null;
  }

  private clearTimers(): void {
    this.clearPing();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  /** dropped handles the loss of the current socket. */
  private dropped(now = false): void {
    this.ws = null;
    this.welcomed = false;
    this.clearPing();
    this.failPending(false);
    if (this.stopped) return;
    this.setState(this.everOpen || this.attempt > 0 ? 'reconnecting' : 'connecting');
    if (now) this.attempt = 0;
    this.scheduleReconnect(now);
  }

  /** failPending rejects the requests that cannot survive a drop; retried ones wait for the next socket. */
  private failPending(all: boolean): void {
    for (const [rid, p] of this.pending) {
      if (p.retry && !all) {
        p.sent = false;
        continue;
      }
      this.pending.delete(rid);
      p.reject(new WireError('NETWORK', 'connection lost'));
    }
  }

  private scheduleReconnect(now = false): void {
    if (this.stopped || this.reconnectTimer) return;
    const base = Math.min(this.opts.maxBackoffMs, this.opts.minBackoffMs * 2 ** this.attempt);
    // Handed over (CLOSE_RECONNECT): at once, with a little jitter to spread a node's clients.
    const delay = now ? 20 * this.opts.random() : base / 2 + (base / 2) * this.opts.random();
    this.attempt++;
    if (this.attempt > 1) this.setState('reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.open();
    }, delay);
  }
}

/** hubSocketURL is the WebSocket endpoint of the hub that served this page. */
export function hubSocketURL(loc: { protocol: string; host: string } = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}
