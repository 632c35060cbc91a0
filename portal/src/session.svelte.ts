// ChatSession is the customer's side of one conversation: it loads the organisation's widget
// settings, starts a conversation over HTTP, keeps the conversation token in sessionStorage (per
// organisation) so a reload resumes it, and runs the WebSocket client. App.svelte only renders it.
import * as wire from '../../web/wire.gen';
import { Client, WireError, hubSocketURL, type ConnState, type SocketFactory } from '../../web/client';
import type { Translator } from '../../web/i18n';
import { upsertMessage, applyReceipt, type Item } from '../../web/transcript';
import type { Component } from 'svelte';
import type { CallSession } from './call/call.svelte';
import { visualHook } from './visual/hook';
import { toHost } from './host';
import type { VisualSession } from './visual/visual.svelte';

/** Phase is which screen the portal shows. */
export type Phase = 'loading' | 'unavailable' | 'prechat' | 'chat';

/** Saved is what sessionStorage keeps per organisation. */
interface Saved {
  token: string;
  conv: wire.ConversationID;
  name?: string;
}

/** Deps are the browser facilities a session uses, injected for tests. */
export interface Deps {
  fetch: typeof fetch;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  socketURL?: string;
  socket?: SocketFactory;
}

const TYPING_IDLE_MS = 4000;
const TYPING_REPEAT_MS = 3000;
const AGENT_TYPING_TTL_MS = 8000;

/** utf8Length counts the bytes the hub measures a text by. */
export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** ChatSession is the state of the portal, reactive for Svelte. */
export class ChatSession {
  phase = $state<Phase>('loading');
  config = $state<wire.WidgetConfig | null>(null);
  conv = $state<wire.Conversation | null>(null);
  items = $state<Item[]>([]);
  conn = $state<ConnState>('closed');
  queuePosition = $state(0);
  /** queueWait is the estimated wait in ms (0: not enough data, "a few minutes"). */
  queueWait = $state(0);
  /** overflow is true once the customer has waited the queue's maximum: they may leave a message. */
  overflow = $state(false);
  agentTyping = $state(false);
  /** problem is a translated sentence for the screen-level error (unavailable, cannot start). */
  problem = $state('');
  /** starting is true while the pre-chat form's request is out. */
  starting = $state(false);
  name = $state('');
  /** choice is the customer's answer to the pre-chat question (a choice id; '' for none yet). */
  choice = $state('');
  /** shown is false while the widget's panel is closed on the host page (only in the iframe). */
  shown = true;
  /** call is the current call; the call module (call/) loads on the first call event. */
  call = $state.raw<CallSession | null>(null);
  /** callView renders the call, from the same lazily loaded module. */
  callView = $state.raw<Component<{ call: CallSession; t: Translator; agent: string }> | null>(null);
  private callLoad: Promise<void> | null = null;
  /** callQueue keeps call events that arrive while the call module loads (the agent's offer). */
  private callQueue: wire.Envelope[] = [];
  /** visual is the visual engagement (co-browse, screen share); its module (visual/) loads on the
   * first invitation, with its view visualView. */
  visual = $state.raw<VisualSession | null>(null);
  visualView = $state.raw<Component<{ visual: VisualSession; t: Translator }> | null>(null);
  private visualFrame: ((env: wire.Envelope) => void) | null = null;

  /** prechatQueue is where a chat started now would go: the chosen answer's queue, else the
   * widget's (null before the configuration is loaded). */
  get prechatQueue(): wire.QueueInfo | null {
    const cfg = this.config;
    return (cfg?.prechat?.choices.find((c) => c.id === this.choice)?.queue ?? cfg?.queue) || null;
  }

  /** nobodyAvailable is true while none of the queue's agents is available (from the widget's
   * configuration before the chat, then from the queue position). */
  nobodyAvailable = $state(false);

  /** queueAway is true when that queue is open but none of its agents is available right now. */
  get queueAway(): boolean {
    return this.prechatQueue?.open !== false && !!this.prechatQueue?.nobody_available;
  }

  /** queueClosed is true when that queue is outside its working hours. */
  get queueClosed(): boolean {
    return this.prechatQueue?.open === false;
  }

  private client: Client | null = null;
  private saved: Saved | null = null;
  private typingSentAt = 0;
  private typingIdle: ReturnType<typeof setTimeout> | null = null;
  private agentTypingTimer: ReturnType<typeof setTimeout> | null = null;
  private lastTheirSeq = 0;
  private readSeq = 0;
  private maxText = wire.MaxTextBytes;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private loadAttempts = 0;
  /** hidden is whether the page's tab is hidden; the hub shows the agent the customer as away. */
  private hidden = false;

  constructor(
    readonly org: wire.OrgID,
    private t: Translator,
    private deps: Deps,
    /** queue is the queue the widget names (data-queue), "" for none. */
    readonly queue = '',
  ) {}

  /** limit is the largest message, in UTF-8 bytes. */
  get limit(): number {
    return this.maxText;
  }

  private get key(): string {
    return `parley.chat.${this.org}`;
  }

  /**
   * load fetches the widget settings and resumes a saved conversation, if any. When the hub cannot be
   * reached it says so and tries again by itself, less and less often.
   */
  async load(quiet = false): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!quiet) {
      this.phase = 'loading';
      this.problem = '';
    }
    try {
      const q = this.queue ? `?queue=${encodeURIComponent(this.queue)}` : '';
      const cfg = await this.api<wire.WidgetConfig>('GET', `/api/v1/orgs/${encodeURIComponent(this.org)}/widget${q}`);
      this.config = cfg;
      if (cfg.max_text_bytes > 0) this.maxText = cfg.max_text_bytes;
    } catch (e) {
      this.phase = 'unavailable';
      this.problem = this.sentence(e);
      const code = e instanceof WireError ? e.code : 'NETWORK';
      if (code === 'NETWORK' || code === 'EUNAVAILABLE') {
        const delay = Math.min(30_000, 2_000 * 2 ** this.loadAttempts++);
        this.retryTimer = setTimeout(() => this.load(true), delay);
      }
      return;
    }
    this.loadAttempts = 0;
    this.problem = '';
    this.saved = this.readSaved();
    if (this.saved) {
      this.name = this.saved.name ?? '';
      this.connect();
    } else {
      this.phase = 'prechat';
    }
  }

  /**
   * start begins a new conversation with the name from the pre-chat form (may be empty), the
   * answer to the pre-chat question (a choice id), or, outside the queue's hours, a message left
   * for the next agent with how to reach the customer.
   */
  async start(name: string, opts: { choice?: string; message?: string; contact?: string } = {}): Promise<void> {
    if (this.starting) return;
    this.starting = true;
    this.problem = '';
    name = name.trim();
    try {
      const body: wire.StartConversation = name ? { name } : {};
      if (this.queue) body.queue = this.queue;
      if (opts.choice) body.choice = opts.choice;
      if (opts.message?.trim()) body.message = opts.message.trim();
      if (opts.contact?.trim()) body.contact = opts.contact.trim();
      const started = await this.api<wire.StartedConversation>(
        'POST',
        `/api/v1/orgs/${encodeURIComponent(this.org)}/conversations`,
        body,
      );
      this.name = name;
      this.saved = { token: started.token, conv: started.conversation.id, name };
      this.deps.storage.setItem(this.key, JSON.stringify(this.saved));
      this.conv = started.conversation;
      this.queuePosition = started.conversation.queue_position ?? 0;
      this.queueWait = 0;
      this.overflow = false;
      this.connect();
    } catch (e) {
      this.problem = this.sentence(e);
    } finally {
      this.starting = false;
    }
  }

  /**
   * leaveMessage turns the waiting chat into a message for the next agent (after a long wait): the
   * customer may then go, and the agent's reply waits here. It returns a sentence on failure.
   */
  async leaveMessage(contact: string): Promise<string> {
    const conv = this.conv;
    if (!this.client || !conv) return '';
    try {
      const lm: wire.LeaveMessage = { conv: conv.id };
      if (contact.trim()) lm.contact = contact.trim();
      await this.client.request(wire.TypeConvMessage, lm);
      this.conv = { ...conv, message: true, contact: lm.contact };
      this.overflow = false;
      return '';
    } catch (e) {
      return this.sentence(e);
    }
  }

  /** tooLong says whether text is over the hub's limit. */
  tooLong(text: string): boolean {
    return utf8Length(text) > this.maxText;
  }

  /** send posts a message; it shows at once and is re-sent after a reconnect until stored. */
  send(text: string): boolean {
    const conv = this.conv;
    if (!this.client || !conv || conv.state === 'ended') return false;
    text = text.trim();
    if (!text || this.tooLong(text)) return false;
    this.stopTyping();
    const { clientID, done } = this.client.sendChat(conv.id, text);
    this.items = [
      ...this.items,
      { key: clientID, clientID, author: 'customer', name: this.name, text, at: Date.now(), status: 'sending' },
    ];
    done.then(
      (ack) => {
        this.items = this.items.map((it) =>
          it.clientID === clientID ? { ...it, seq: ack.seq ?? it.seq, status: it.status === 'sending' ? 'sent' : it.status } : it,
        );
      },
      (e: unknown) => {
        const error = this.sentence(e);
        this.items = this.items.map((it) => (it.clientID === clientID ? { ...it, status: 'failed', error } : it));
      },
    );
    return true;
  }

  /** typed tells the agent the customer is typing; it repeats while they type and stops when idle. */
  typed(text: string): void {
    const conv = this.conv;
    if (!this.client || !conv || conv.state === 'ended') return;
    if (!text.trim()) {
      this.stopTyping();
      return;
    }
    const now = Date.now();
    if (now - this.typingSentAt > TYPING_REPEAT_MS) {
      this.typingSentAt = now;
      this.client.notify(wire.TypeChatTyping, { conv: conv.id, typing: true } satisfies wire.Typing);
    }
    if (this.typingIdle) clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private stopTyping(): void {
    if (this.typingIdle) clearTimeout(this.typingIdle);
    this.typingIdle = null;
    if (this.typingSentAt && this.client && this.conv) {
      this.client.notify(wire.TypeChatTyping, { conv: this.conv.id, typing: false } satisfies wire.Typing);
    }
    this.typingSentAt = 0;
  }

  /** leave ends the conversation from the customer's side. */
  async leave(): Promise<string> {
    const conv = this.conv;
    if (!this.client || !conv) return '';
    try {
      if (this.call?.live) await this.call.hangup();
      await this.client.request(wire.TypeConvLeave, { conv: conv.id } satisfies wire.ConvRef);
      this.conv = { ...conv, state: 'ended', ended_by: 'customer', ended_at: Date.now() };
      return '';
    } catch (e) {
      return this.sentence(e);
    }
  }

  /** newChat forgets the ended conversation and shows the pre-chat form again. */
  newChat(): void {
    this.client?.close();
    this.client = null;
    this.deps.storage.removeItem(this.key);
    this.saved = null;
    this.conv = null;
    this.items = [];
    this.queuePosition = 0;
    this.queueWait = 0;
    this.overflow = false;
    this.agentTyping = false;
    this.lastTheirSeq = this.readSeq = 0;
    this.conn = 'closed';
    this.phase = 'prechat';
  }

  /** markRead tells the agent the customer has seen their messages (the page has focus). */
  markRead(): void {
    if (!this.shown || !this.client || !this.conv || this.lastTheirSeq <= this.readSeq) return;
    if (typeof document !== 'undefined' && (document.visibilityState === 'hidden' || !document.hasFocus())) return;
    const r: wire.Receipt = { conv: this.conv.id, seq: this.lastTheirSeq, kind: 'read' };
    if (this.client.notify(wire.TypeChatReceipt, r)) this.readSeq = this.lastTheirSeq;
  }

  /**
   * visibility tells the hub whether the tab is hidden, so the agent sees the customer as away
   * (a new connection counts as shown: welcome repeats a hidden state).
   */
  visibility(hidden: boolean): void {
    if (hidden === this.hidden) return;
    this.hidden = hidden;
    this.sendPresence();
  }

  private sendPresence(): void {
    const conv = this.conv;
    if (!this.client || !conv || conv.state === 'ended') return;
    this.client.notify(wire.TypeCustomerPresence, { conv: conv.id, hidden: this.hidden } satisfies wire.CustomerPresenceSet);
  }

  /** reconnectNow retries at once (the browser came back online). */
  reconnectNow(): void {
    this.client?.reconnectNow();
  }

  /** dispose closes the connection. */
  dispose(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.client?.close();
    this.client = null;
  }

  private connect(): void {
    const saved = this.saved!;
    this.phase = 'chat';
    this.client?.close();
    const client = new Client({
      url: this.deps.socketURL ?? hubSocketURL(),
      token: saved.token,
      socket: this.deps.socket,
      onState: (s) => (this.conn = s),
      onWelcome: (w) => this.welcome(w),
      onMessage: (m) => this.message(m),
      onEvent: (env) => this.event(env),
      onFatal: (e) => this.fatal(e),
    });
    this.client = client;
    client.start();
  }

  private welcome(w: wire.Welcome): void {
    if (w.max_text_bytes > 0) this.maxText = w.max_text_bytes;
    const mine = w.conversations?.find((c) => c.id === this.saved?.conv) ?? w.conversations?.[0];
    if (mine) {
      this.setConv(mine);
      if (this.hidden) this.sendPresence();
    } else if (this.saved) {
      // Not among the open conversations: it ended while we were away. Fetch its transcript.
      const id = this.saved.conv;
      if (!this.conv) this.conv = { id, org: this.org, state: 'ended', customer_name: this.name, last_seq: 0, created_at: 0 };
      else if (this.conv.state !== 'ended') this.conv = { ...this.conv, state: 'ended' };
      this.client?.request(wire.TypeSync, { conv: id, after: this.client.lastSeq(id) } satisfies wire.Sync).catch(() => {});
    }
  }

  private setConv(c: wire.Conversation): void {
    if (this.saved && c.id !== this.saved.conv) return;
    this.conv = c;
    this.queuePosition = c.state === 'waiting' ? (c.queue_position ?? this.queuePosition) : 0;
    if (c.state !== 'active') this.agentTyping = false;
    // A chat that ends ends its call too (the hub does the same; this frees the devices at once).
    if (c.state === 'ended' && this.call?.live) void this.call.hangup();
  }

  private message(m: wire.Message): void {
    if (this.saved && m.conv !== this.saved.conv) return;
    this.items = upsertMessage(this.items, m, 'customer');
    if (m.author !== 'customer' && m.seq > this.lastTheirSeq) {
      this.lastTheirSeq = m.seq;
      if (m.author === 'agent') this.agentTyping = false;
      this.client?.notify(wire.TypeChatReceipt, { conv: m.conv, seq: m.seq, kind: 'delivered' } satisfies wire.Receipt);
      if (this.shown) this.markRead();
      else if (m.author === 'agent') toHost({ parley: 'unread' });
    }
  }

  private event(env: wire.Envelope): void {
    switch (env.type) {
      case wire.TypeConvState:
        this.setConv(env.data as wire.Conversation);
        return;
      case wire.TypeQueuePosition: {
        const q = env.data as wire.QueuePosition;
        if (this.conv && q.conv !== this.conv.id) return;
        this.queuePosition = q.position;
        this.queueWait = q.estimated_wait_ms ?? 0;
        this.overflow = !!q.overflow;
        this.nobodyAvailable = !!q.nobody_available;
        return;
      }
      case wire.TypeChatTyping: {
        const ty = env.data as wire.Typing;
        if (ty.author === 'customer' || (this.conv && ty.conv !== this.conv.id)) return;
        this.agentTyping = ty.typing;
        if (this.agentTypingTimer) clearTimeout(this.agentTypingTimer);
        if (ty.typing) this.agentTypingTimer = setTimeout(() => (this.agentTyping = false), AGENT_TYPING_TTL_MS);
        return;
      }
      case wire.TypeChatReceipt: {
        const r = env.data as wire.Receipt;
        if (r.by === 'customer' || (this.conv && r.conv !== this.conv.id)) return;
        this.items = applyReceipt(this.items, r.seq, r.kind, 'customer');
        return;
      }
      case wire.TypeCallState:
      case wire.TypeCallSignal:
      case wire.TypeCallMedia:
        this.callEvent(env);
        return;
      case wire.TypeVisualState:
      case wire.TypeVisualPointer:
      case wire.TypeVisualCommand:
      case wire.TypeVisualSignal:
        this.visualEvent(env);
        return;
    }
  }

  /** visualEvent hands a visual engagement frame to the visual module (visual/hook.ts). */
  private visualEvent(env: wire.Envelope): void {
    if (env.type === wire.TypeVisualState && this.conv && (env.data as wire.Visual).conv !== this.conv.id) return;
    this.visualFrame ??= visualHook({
      proto: () => ({
        request: (type, data) => (this.client ? this.client.request(type, data) : Promise.reject(new WireError('NETWORK', 'offline'))),
        notify: (type, data) => this.client?.notify(type, data) ?? false,
      }),
      t: this.t,
      embedded: typeof window !== 'undefined' && window.parent !== window,
      loaded: (v, view) => {
        this.visualView = view;
        this.visual = v;
      },
    });
    this.visualFrame(env);
  }

  /** callEvent hands a call event to the call module, loading it when a call starts ringing. */
  private callEvent(env: wire.Envelope): void {
    if (env.type === wire.TypeCallState) {
      const c = env.data as wire.Call;
      if (this.conv && c.conv !== this.conv.id) return;
      // A call ringing while the widget is closed lights the launcher.
      if (c.state === 'ringing' && !this.shown) toHost({ parley: 'unread' });
      if (!this.callLoad && c.state !== 'ringing') return;
    } else if (!this.callLoad) {
      return;
    }
    if (this.call) {
      this.call.handle(env);
      return;
    }
    this.callQueue.push(env);
    if (this.callLoad) return;
    this.callLoad = import('./call/index').then(
      (m) => {
        const call = m.createCall(
          {
            request: (type, data) => (this.client ? this.client.request(type, data) : Promise.reject(new WireError('NETWORK', 'offline'))),
            notify: (type, data) => this.client?.notify(type, data) ?? false,
          },
          this.t,
        );
        for (const e of this.callQueue.splice(0)) call.handle(e);
        this.callView = m.CallView;
        this.call = call;
      },
      () => {
        // The module could not load (offline): the next ringing call tries again.
        this.callLoad = null;
        this.callQueue = [];
      },
    );
  }

  private fatal(e: WireError): void {
    // The token is no longer good (expired, or the conversation is gone): start over.
    this.deps.storage.removeItem(this.key);
    this.saved = null;
    this.client = null;
    this.conv = null;
    this.items = [];
    this.phase = 'prechat';
    this.problem = this.sentence(e);
  }

  private readSaved(): Saved | null {
    try {
      const raw = this.deps.storage.getItem(this.key);
      if (!raw) return null;
      const s = JSON.parse(raw) as Saved;
      return typeof s.token === 'string' && typeof s.conv === 'string' ? s : null;
    } catch {
      return null;
    }
  }

  /** sentence translates any failure into a sentence for the customer. */
  sentence(e: unknown): string {
    if (e instanceof WireError) return this.t.error(e.code, { limit: this.maxText });
    return this.t.error('NETWORK');
  }

  private async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await this.deps.fetch(path, {
        method,
        headers: body ? { 'Content-Type': 'application/json' } : undefined,
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw new WireError('NETWORK', 'hub unreachable');
    }
    let data: unknown = null;
    try {
      data = await res.json();
    } catch {
      // A non-JSON answer (a proxy's error page) is a failure like any other.
    }
    if (!res.ok) {
      const e = (data ?? {}) as Partial<wire.Error>;
      throw new WireError(e.code ?? (res.status >= 500 ? 'EUNAVAILABLE' : 'EINTERNAL'), e.message ?? `HTTP ${res.status}`);
    }
    return data as T;
  }
}
