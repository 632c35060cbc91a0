// The chat's side of the built-in co-browse: it runs in the portal (the widget's iframe, or the
// chat page itself) and joins the recorder on the customer's page to the hub. In the widget the
// recorder runs on the host page, which the loader (widget.js) sets up when asked and joins to us
// with a private MessagePort; on the chat page itself the recorder runs here.
//
// Use: once the engagement is active (visual.state, state "active", provider builtin-cobrowse),
//   const b = await startCobrowse(proto, visual.id, { embedded });
// then hand it every visual.* event (b.handle(env)), let the customer grant or take back control
// with b.setControl(granted), and b.stop() to end.
import * as wire from '../../web/wire.gen';
import type { Command, FromRecorder, Pointer, ToRecorder } from '../../web/cobrowse';
import { toHost } from '../src/host';

/** Proto is the chat's hub connection, as the call module gets it. */
export interface Proto {
  request(type: wire.Type, data: unknown): Promise<unknown>;
  notify(type: wire.Type, data: unknown): boolean;
}

/** Options say where the recorder runs. */
export interface Options {
  /** embedded is true in the widget's iframe: the recorder then runs on the host page. */
  embedded: boolean;
  /** connect overrides how the recorder's port is obtained (tests). */
  connect?: () => Promise<MessagePort>;
  /** timeoutMs bounds the wait for the host page's recorder (default 15 s). */
  timeoutMs?: number;
  /** onControl is told when the customer took control back on the page itself. */
  onControl?: (granted: boolean) => void;
  /** onStopped is told when the recorder ended by itself, with a code when it had to. */
  onStopped?: (code?: string) => void;
}

/** CobrowseBridge is a running co-browse seen from the chat. */
export interface CobrowseBridge {
  /** handle takes visual.pointer, visual.command and visual.state frames of this engagement. */
  handle(env: wire.Envelope): void;
  /** setControl grants (or takes back) the agent's control, on the page and at the hub. */
  setControl(granted: boolean): Promise<void>;
  /** stop ends the recorder (the chat sends visual.stop itself). */
  stop(): void;
}

/** startCobrowse starts the recorder and returns the bridge, or rejects with an Error whose
 * message is EUNAVAILABLE when the recorder could not start (the host page blocked the script). */
export async function startCobrowse(proto: Proto, visual: wire.VisualID, opts: Options): Promise<CobrowseBridge> {
  const port = await (opts.connect ? opts.connect() : opts.embedded ? hostPort(opts.timeoutMs ?? 15_000) : localPort());
  let live = true;
  // The action of each command sent, by id, until its result comes back.
  const pending = new Map<string, wire.VisualAction>();
  let nextId = 0;
  const tell = (m: ToRecorder) => live && port.postMessage(m);
  // The loader on the host page keeps the co-browse going on the site's next page until told it
  // ended (widget.ts); a page that unloads tells nothing, so the next one resumes.
  const ended = () => opts.embedded && !opts.connect && toHost({ parley: 'cobrowse-end' });
  const setControl = async (granted: boolean) => {
    tell({ op: 'control', granted });
    await proto.request(wire.TypeVisualControl, { visual, granted } satisfies wire.VisualControl);
  };
  port.onmessage = (e: MessageEvent<FromRecorder>) => {
    const m = e.data;
    if (!live || !m || typeof m !== 'object') return;
    switch (m.op) {
      case 'chunk':
        proto.notify(wire.TypeVisualEvent, { visual, ...m.chunk } satisfies wire.VisualEvent);
        break;
      case 'result': {
        // The page refused a command: the agent is told why nothing happened.
        const action = m.id ? pending.get(m.id) : undefined;
        if (m.id) pending.delete(m.id);
        if (action && !m.result.ok && m.result.code) {
          proto.notify(wire.TypeVisualResult, { visual, action, code: m.result.code } satisfies wire.VisualResult);
        }
        break;
      }
      case 'control':
        // The customer pressed "Take back control" on the page: it already refuses commands.
        proto.request(wire.TypeVisualControl, { visual, granted: m.granted } satisfies wire.VisualControl).catch(() => {});
        opts.onControl?.(m.granted);
        break;
      case 'stopped':
        live = false;
        ended();
        opts.onStopped?.(m.code);
        break;
    }
  };
  port.start?.();
  const stop = () => {
    tell({ op: 'stop' });
    live = false;
    ended();
  };
  return {
    handle(env) {
      const d = env.data as Record<string, unknown> | undefined;
      if (!d || d.visual !== visual) return; // another engagement's frame: not ours
      switch (env.type) {
        case wire.TypeVisualPointer: {
          const p = d as unknown as wire.VisualPointer;
          tell({ op: 'pointer', pointer: { x: p.x, y: p.y, visible: p.visible } satisfies Pointer });
          break;
        }
        case wire.TypeVisualCommand: {
          const c = d as unknown as wire.VisualCommand;
          const command: Command = { action: c.action as Command['action'], node: c.node, text: c.text, x: c.x, y: c.y, url: c.url };
          const id = String(++nextId);
          if (pending.size > 100) pending.clear(); // a recorder that stopped answering
          pending.set(id, c.action);
          tell({ op: 'command', id, command });
          break;
        }
        case wire.TypeVisualState: {
          const v = d as unknown as wire.Visual;
          if (v.state === 'ended') stop();
          else {
            tell({ op: 'control', granted: v.control === true });
            // The state is sent again when the conversation moves to another agent: their view
            // starts from nothing, so the page is sent whole.
            tell({ op: 'snapshot' });
          }
          break;
        }
      }
    },
    setControl,
    stop,
  };
}

/** localPort runs the recorder on this page (the chat page opened directly). */
async function localPort(): Promise<MessagePort> {
  const { startRecorder } = await import('./recorder');
  const ch = new MessageChannel();
  startRecorder(ch.port1);
  return ch.port2;
}

/** hostPort asks the widget loader on the host page to start the recorder there and waits for
 * the port it sends back. */
function hostPort(timeoutMs: number): Promise<MessagePort> {
  return new Promise((resolve, reject) => {
    const done = (f: () => void) => {
      clearTimeout(timer);
      window.removeEventListener('message', onMessage);
      f();
    };
    const onMessage = (e: MessageEvent) => {
      if (e.source !== window.parent || !e.data || typeof e.data !== 'object') return;
      if (e.data.parley === 'cobrowse-port' && e.ports[0]) done(() => resolve(e.ports[0]));
      if (e.data.parley === 'cobrowse-failed') done(() => reject(new Error('EUNAVAILABLE')));
    };
    const timer = setTimeout(() => done(() => reject(new Error('EUNAVAILABLE'))), timeoutMs);
    window.addEventListener('message', onMessage);
    toHost({ parley: 'cobrowse' });
  });
}
