// The only module that talks to the Go side: the services bound by main.go (window.go.app.*) and
// the Wails runtime's events (window.runtime.EventsOn). Everything else imports from here, so the
// UI runs in unit tests with a fake backend and in a plain browser against a Wails dev server.
import type * as v from './types';
import type { Routing } from '../../../web/wire.gen';

/** UIError is a failed call: a wire code the UI translates, and a message for the console. */
export interface UIError {
  code: v.Code | 'NETWORK';
  message: string;
}

type Fn = (...args: unknown[]) => Promise<unknown>;
type Service = Record<string, Fn>;

interface WailsWindow {
  go?: { app?: Record<string, Service> };
  runtime?: { EventsOn(name: string, cb: (data: unknown) => void): () => void };
}

const w = (): WailsWindow => globalThis as unknown as WailsWindow;

/** toUIError normalises whatever a rejected call carries: the {code, message} main.go's error formatter sends, or a string. */
export function toUIError(e: unknown): UIError {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as UIError).code === 'string') {
    return { code: (e as UIError).code, message: String((e as UIError).message ?? '') };
  }
  const text = e instanceof Error ? e.message : String(e ?? '');
  const m = /^([A-Z]{4,}): (.*)$/s.exec(text);
  if (m) return { code: m[1] as v.Code, message: m[2] };
  return { code: 'EINTERNAL', message: text };
}

async function call<T>(service: string, method: string, ...args: unknown[]): Promise<T> {
  await ready();
  const fn = w().go?.app?.[service]?.[method];
  if (!fn) throw { code: 'EINTERNAL', message: `no binding ${service}.${method}` } satisfies UIError;
  try {
    return (await fn(...args)) as T;
  } catch (e) {
    throw toUIError(e);
  }
}

let readyPromise: Promise<void> | undefined;

/** ready resolves once the Wails bindings exist (at once in the app; a moment later over a dev server). */
export function ready(timeoutMs = 10000): Promise<void> {
  readyPromise ??= new Promise((resolve, reject) => {
    const start = Date.now();
    const check = () => {
      if (w().go?.app && w().runtime) return resolve();
      if (Date.now() - start > timeoutMs) return reject({ code: 'EUNAVAILABLE', message: 'Wails bindings missing' });
      setTimeout(check, 25);
    };
    check();
  });
  return readyPromise;
}

/** UIEvent is how main.go sends every event: its name, a revision counting up by one, the data. */
interface UIEvent {
  name: string;
  rev: number;
  data: unknown;
}

/** Events that carry one item of a stream rather than the whole state of their domain. */
const streams = new Set(['message', 'notice', 'visual.event', 'visual.result']);

/** How long a gap in the revisions may hold later events back (an event lost on the way). */
export const gapMs = 250;

const listeners = new Map<string, Set<(data: unknown) => void>>();
const held = new Map<number, UIEvent>();
let next = 0; // the revision to deliver next; 0 until the first events have had a moment to line up
let gapTimer: ReturnType<typeof setTimeout> | undefined;
let subscribed = false;

function deliver(e: UIEvent): void {
  for (const cb of listeners.get(e.name) ?? []) cb(e.data);
}

function drain(): void {
  for (let e = held.get(next); e; e = held.get(next)) {
    held.delete(next);
    next++;
    deliver(e);
  }
  if (held.size === 0) {
    clearTimeout(gapTimer);
    gapTimer = undefined;
  } else {
    gapTimer ??= setTimeout(() => {
      gapTimer = undefined;
      next = Math.min(...held.keys()); // give up on the missing ones
      drain();
    }, gapMs);
  }
}

/**
 * receive puts the services' events back in the order they were emitted: the Wails dev server
 * writes each from its own goroutine, so one can overtake another, and a snapshot that overtook
 * a newer one would put back an older state (an ended conversation shown as active).
 */
export function receive(e: UIEvent): void {
  if (typeof e?.rev !== 'number') return;
  // The first events a page sees are held like a gap: the first to arrive may not be the first sent.
  if (next !== 0 && e.rev < next) {
    // Later than a gap we stopped waiting for: a stream item still counts, a snapshot is stale.
    if (streams.has(e.name)) deliver(e);
    return;
  }
  held.set(e.rev, e);
  drain();
}

/** on subscribes to an event the services emit (app/emitter.go) and returns the unsubscribe function. */
export async function on<T>(event: string, cb: (data: T) => void): Promise<() => void> {
  await ready();
  if (!subscribed) {
    subscribed = true;
    w().runtime!.EventsOn('parley', (e) => receive(e as UIEvent));
  }
  const set = listeners.get(event) ?? new Set();
  listeners.set(event, set);
  const f = (d: unknown) => cb(d as T);
  set.add(f);
  return () => set.delete(f);
}

export const session = {
  prefill: () => call<v.Prefill>('Session', 'Prefill'),
  current: () => call<v.SessionView>('Session', 'Current'),
  signIn: (hub: string, org: string, user: string, password: string) =>
    call<v.SessionView>('Session', 'SignIn', hub, org, user, password),
  options: (hub: string, org: string) => call<v.SignInOptionsView>('Session', 'Options', hub, org),
  signInSSO: (hub: string, org: string) => call<v.SessionView>('Session', 'SignInSSO', hub, org),
  cancelSSO: () => call<void>('Session', 'CancelSSO'),
  signOut: () => call<void>('Session', 'SignOut'),
};

export const presence = {
  current: () => call<v.AgentState>('Presence', 'Current'),
  set: (p: v.Presence) => call<void>('Presence', 'Set', p),
};

export const offers = {
  list: () => call<v.OfferView[]>('Offers', 'List'),
  accept: (id: v.OfferID) => call<v.ConversationView>('Offers', 'Accept', id),
  decline: (id: v.OfferID) => call<void>('Offers', 'Decline', id),
};

export const conversations = {
  list: () => call<v.ConversationView[]>('Conversations', 'List'),
  active: () => call<v.ConversationID>('Conversations', 'Active'),
  open: (id: v.ConversationID) => call<v.ConversationView>('Conversations', 'Open', id),
  close: () => call<void>('Conversations', 'Close'),
  messages: (id: v.ConversationID) => call<v.MessageView[]>('Conversations', 'Messages', id),
  send: (id: v.ConversationID, text: string) => call<v.MessageView>('Conversations', 'Send', id, text),
  typing: (id: v.ConversationID, typing: boolean) => call<void>('Conversations', 'Typing', id, typing),
  end: (id: v.ConversationID) => call<void>('Conversations', 'End', id),
  keepOpen: (id: v.ConversationID) => call<void>('Conversations', 'KeepOpen', id),
  /** transferTargets lists the organisation's queues and members (wire.Routing). */
  transferTargets: () => call<Routing>('Conversations', 'TransferTargets'),
  /** transfer moves a conversation to a queue or an agent (one of the two) with a note. */
  transfer: (id: v.ConversationID, queue: string, agent: string, note: string) => call<void>('Conversations', 'Transfer', id, queue, agent, note),
};

export const supervisor = {
  snapshot: () => call<v.SupervisorView>('Supervisor', 'Snapshot'),
  assign: (conv: v.ConversationID, agent: v.UserID) => call<void>('Supervisor', 'Assign', conv, agent),
  close: (conv: v.ConversationID) => call<void>('Supervisor', 'Close', conv),
  /** transcript reads a conversation's messages after seq `after`, read-only (no receipts). */
  transcript: (conv: v.ConversationID, after = 0) => call<v.MessageView[] | null>('Supervisor', 'Transcript', conv, after),
  /** fetchCSV returns a report's CSV text; saveCSV writes it to the downloads folder and returns the path. */
  fetchCSV: (report: v.Report) => call<string>('Supervisor', 'FetchCSV', report),
  saveCSV: (report: v.Report) => call<string>('Supervisor', 'SaveCSV', report),
};

/** appWindow is the Window service: the page reports each load, so a crash can be recovered from. */
export const appWindow = {
  ready: () => call<void>('Window', 'Ready'),
};

export const visual = {
  view: () => call<unknown>('Visual', 'View'),
  signIn: (kind: string, user: string, password: string, sessionOnly: boolean) =>
    call<unknown>('Visual', 'SignIn', kind, user, password, sessionOnly),
  signOut: (kind: string) => call<unknown>('Visual', 'SignOut', kind),
  start: (conv: v.ConversationID, kind: string) => call<unknown>('Visual', 'Start', conv, kind),
  startWithPIN: (conv: v.ConversationID, kind: string, pin: string, session: string) =>
    call<unknown>('Visual', 'StartWithPIN', conv, kind, pin, session),
  sharePIN: (conv: v.ConversationID, text: string) => call<v.MessageView>('Visual', 'SharePIN', conv, text),
  stop: (conv: v.ConversationID) => call<void>('Visual', 'Stop', conv),
  pointer: (p: unknown) => call<void>('Visual', 'Pointer', p),
  command: (c: unknown) => call<void>('Visual', 'Command', c),
  screenShare: (id: string) => call<ScreenShareView>('Visual', 'ScreenShare', id),
};

/** ScreenShareView is app.ScreenShareView: the customer's screen as a loopback MJPEG URL. */
export interface ScreenShareView {
  visual: string;
  url: string;
  connection: string;
  frames: boolean;
  width: number;
  height: number;
}

export const calls = {
  current: () => call<unknown>('Calls', 'Current'),
  start: (conv: v.ConversationID, kind: 'voice' | 'video') => call<unknown>('Calls', 'Start', conv, kind),
  end: () => call<void>('Calls', 'End'),
  setMuted: (muted: boolean) => call<void>('Calls', 'SetMuted', muted),
  setVideo: (on: boolean) => call<void>('Calls', 'SetVideo', on),
  devices: () => call<unknown>('Calls', 'Devices'),
  selectDevice: (kind: string, id: string) => call<void>('Calls', 'SelectDevice', kind, id),
};

/** copyText puts text on the clipboard: through the Wails runtime in the app, the browser's API elsewhere. */
export async function copyText(text: string): Promise<void> {
  const rt = w().runtime as { ClipboardSetText?: (t: string) => Promise<boolean> } | undefined;
  if (rt?.ClipboardSetText) {
    if (await rt.ClipboardSetText(text)) return;
    throw { code: 'EINTERNAL', message: 'clipboard refused the text' } satisfies UIError;
  }
  await navigator.clipboard.writeText(text);
}
