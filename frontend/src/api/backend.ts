// The only module that talks to the Go side: the services bound by main.go (window.go.app.*) and
// the Wails runtime's events (window.runtime.EventsOn). Everything else imports from here, so the
// UI runs in unit tests with a fake backend and in a plain browser against a Wails dev server.
// Every binding and event is typed by app.gen.ts, generated from the Go services: a call that does
// not match them fails svelte-check.
import type * as v from './types';
import type { Bindings, Events } from './app.gen';

/** UIError is a failed call: a code the UI translates (the wire's or the app's), and a message for the console. */
export interface UIError {
  code: v.Code | 'NETWORK';
  message: string;
}

type Fn = (...args: unknown[]) => Promise<unknown>;

interface WailsWindow {
  go?: { app?: Record<string, Record<string, Fn>> };
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

type Service = keyof Bindings;
type Method<S extends Service> = keyof Bindings[S] & string;
type Args<S extends Service, M extends Method<S>> = Bindings[S][M] extends (...a: infer A) => unknown ? A : never;
type Result<S extends Service, M extends Method<S>> = Bindings[S][M] extends (...a: never[]) => Promise<infer R> ? R : never;

/** call runs a bound method of the Go services; a failure rejects with a UIError. */
export async function call<S extends Service, M extends Method<S>>(service: S, method: M, ...args: Args<S, M>): Promise<Result<S, M>> {
  await ready();
  const fn = w().go?.app?.[service]?.[method];
  if (!fn) throw { code: 'EINTERNAL', message: `no binding ${service}.${method}` } satisfies UIError;
  try {
    return (await fn(...args)) as Result<S, M>;
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

/** UIEvent is how main.go sends every event (app.Event): its name, its number (rev, counting up by one in the order the services' state changed), its data. */
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
export async function on<K extends keyof Events>(event: K, cb: (data: Events[K]) => void): Promise<() => void> {
  await ready();
  if (!subscribed) {
    subscribed = true;
    w().runtime!.EventsOn('parley', (e) => receive(e as UIEvent));
  }
  const set = listeners.get(event) ?? new Set();
  listeners.set(event, set);
  const f = (d: unknown) => cb(d as Events[K]);
  set.add(f);
  return () => set.delete(f);
}

export const session = {
  prefill: () => call('Session', 'Prefill'),
  current: () => call('Session', 'Current'),
  signIn: (hub: string, org: string, user: string, password: string) => call('Session', 'SignIn', hub, org, user, password),
  options: (hub: string, org: string) => call('Session', 'Options', hub, org),
  signInSSO: (hub: string, org: string) => call('Session', 'SignInSSO', hub, org),
  cancelSSO: () => call('Session', 'CancelSSO'),
  signOut: () => call('Session', 'SignOut'),
};

export const presence = {
  current: () => call('Presence', 'Current'),
  set: (p: v.Presence) => call('Presence', 'Set', p),
};

export const offers = {
  list: () => call('Offers', 'List'),
  accept: (id: v.OfferID) => call('Offers', 'Accept', id),
  decline: (id: v.OfferID) => call('Offers', 'Decline', id),
};

export const conversations = {
  list: () => call('Conversations', 'List'),
  active: () => call('Conversations', 'Active'),
  open: (id: v.ConversationID) => call('Conversations', 'Open', id),
  close: () => call('Conversations', 'Close'),
  messages: (id: v.ConversationID) => call('Conversations', 'Messages', id),
  send: (id: v.ConversationID, text: string) => call('Conversations', 'Send', id, text),
  typing: (id: v.ConversationID, typing: boolean) => call('Conversations', 'Typing', id, typing),
  end: (id: v.ConversationID) => call('Conversations', 'End', id),
  keepOpen: (id: v.ConversationID) => call('Conversations', 'KeepOpen', id),
  /** wrapUp sends the wrap-up of an ended conversation: an outcome code and a note. */
  wrapUp: (id: v.ConversationID, code: string, note: string) => call('Conversations', 'WrapUp', id, code, note),
  /** transferTargets lists the organisation's queues and members (wire.Routing). */
  transferTargets: () => call('Conversations', 'TransferTargets'),
  /** transfer moves a conversation to a queue or an agent (one of the two) with a note. */
  transfer: (id: v.ConversationID, queue: string, agent: string, note: string) => call('Conversations', 'Transfer', id, queue, agent, note),
  /** consult invites a colleague or supervisor to read along and write internal notes. */
  consult: (id: v.ConversationID, user: v.UserID, note: string) => call('Conversations', 'Consult', id, user, note),
  /** stopConsulting stops reading along in a chat this member was invited to. */
  stopConsulting: (id: v.ConversationID) => call('Conversations', 'StopConsulting', id),
  /** sendNote writes an internal note the customer never receives. */
  sendNote: (id: v.ConversationID, text: string) => call('Conversations', 'SendNote', id, text),
  /** quickReplies lists the organisation's, the queues' and the agent's own quick replies. */
  quickReplies: () => call('Conversations', 'QuickReplies'),
  /** saveQuickReply stores one of the agent's own quick replies (id '' for a new one). */
  saveQuickReply: (id: string, shortcut: string, text: string) => call('Conversations', 'SaveQuickReply', id, shortcut, text),
  /** deleteQuickReply removes one of the agent's own quick replies. */
  deleteQuickReply: (id: string) => call('Conversations', 'DeleteQuickReply', id),
};

export const supervisor = {
  snapshot: () => call('Supervisor', 'Snapshot'),
  assign: (conv: v.ConversationID, agent: v.UserID) => call('Supervisor', 'Assign', conv, agent),
  close: (conv: v.ConversationID) => call('Supervisor', 'Close', conv),
  /** transcript reads a conversation's messages after seq `after`, read-only (no receipts). */
  transcript: (conv: v.ConversationID, after = 0) => call('Supervisor', 'Transcript', conv, after),
  /** watch follows a conversation live (on) or stops: 'supervisor.watched' events say who types. */
  watch: (conv: v.ConversationID, on: boolean) => call('Supervisor', 'Watch', conv, on),
  /** fetchCSV returns a report's CSV text; saveCSV writes it to the downloads folder and returns the path. */
  fetchCSV: (report: v.Report) => call('Supervisor', 'FetchCSV', report),
  saveCSV: (report: v.Report) => call('Supervisor', 'SaveCSV', report),
  /** recordings lists a conversation's recorded files; openRecordings opens the hub's playback page in the browser. */
  recordings: (conv: v.ConversationID) => call('Supervisor', 'Recordings', conv),
  openRecordings: (conv: v.ConversationID) => call('Supervisor', 'OpenRecordings', conv),
  /** openRecordedCalls opens the hub's list of the organisation's recorded calls in the browser. */
  openRecordedCalls: () => call('Supervisor', 'OpenRecordedCalls'),
  /** monitor listens to, whispers on or joins an agent's live call ('monitor' events follow it); stopMonitor ends it. */
  monitor: (agent: v.UserID, mode: v.MonitorMode) => call('Supervisor', 'Monitor', agent, mode),
  stopMonitor: () => call('Supervisor', 'StopMonitor'),
};

/**
 * appWindow is the Window service: the page reports each load, so a crash can be recovered from,
 * and whether it can be seen, so that a minimised window is sent no video.
 */
export const appWindow = {
  ready: () => call('Window', 'Ready'),
  setShown: (shown: boolean) => call('Window', 'SetShown', shown),
};

export const visual = {
  view: () => call('Visual', 'View'),
  signIn: (kind: v.VisualKind, user: string, password: string, sessionOnly: boolean) => call('Visual', 'SignIn', kind, user, password, sessionOnly),
  signOut: (kind: v.VisualKind) => call('Visual', 'SignOut', kind),
  start: (conv: v.ConversationID, kind: v.VisualKind) => call('Visual', 'Start', conv, kind),
  startWithPIN: (conv: v.ConversationID, kind: v.VisualKind, pin: string, session: string) => call('Visual', 'StartWithPIN', conv, kind, pin, session),
  sharePIN: (conv: v.ConversationID, text: string) => call('Visual', 'SharePIN', conv, text),
  stop: (conv: v.ConversationID) => call('Visual', 'Stop', conv),
  pointer: (p: v.VisualPointer) => call('Visual', 'Pointer', p),
  command: (c: v.VisualCommand) => call('Visual', 'Command', c),
  screenShare: (id: v.VisualID) => call('Visual', 'ScreenShare', id),
};

export const calls = {
  current: () => call('Calls', 'Current'),
  start: (conv: v.ConversationID, kind: v.CallKind) => call('Calls', 'Start', conv, kind),
  end: () => call('Calls', 'End'),
  setMuted: (muted: boolean) => call('Calls', 'SetMuted', muted),
  setVideo: (on: boolean) => call('Calls', 'SetVideo', on),
  setRecording: (on: boolean) => call('Calls', 'SetRecording', on),
  devices: () => call('Calls', 'Devices'),
  selectDevice: (kind: v.DeviceKind, id: string) => call('Calls', 'SelectDevice', kind, id),
  micLevel: () => call('Calls', 'MicLevel'),
  testSpeaker: () => call('Calls', 'TestSpeaker'),
};

export const setup = {
  current: () => call('Setup', 'Current'),
  start: () => call('Setup', 'Start'),
  stop: () => call('Setup', 'Stop'),
  playTone: () => call('Setup', 'PlayTone'),
  confirmSpeaker: (heard: boolean) => call('Setup', 'ConfirmSpeaker', heard),
  offer: () => call('Setup', 'Offer'),
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
