// The agent's side of the built-in co-browse, without Svelte: rrweb's Replayer rebuilds the
// customer's page from the recorded events inside a sandboxed iframe (sandbox="allow-same-origin",
// never allow-scripts: nothing from the customer's page runs in the agent app), and turns the
// agent's pointer, clicks, keys and wheel into laser-pointer positions and commands.
import { Replayer } from 'rrweb';
import { Assembler } from '../../../../web/cobrowse';
import type * as wire from '../../../../web/wire.gen';

/** EventType.Meta: rrweb starts a recording, and each checkout, with it (then a full snapshot). */
const META = 4;

/**
 * Mirror is the replayed page shown to the agent. rrweb's live replayer keeps every event it was
 * given, so a co-browse left open all shift would grow without end; the recorder takes a full
 * snapshot every 30 s (a checkout: Meta, then FullSnapshot), and at each the mirror starts a fresh
 * replayer from it, hidden, shows it once it has drawn the snapshot and drops the old one. Memory
 * holds the events since the last checkout, whatever the length of the session.
 */
export class Mirror {
  /** replayer is the replay shown. */
  private replayer: Replayer | null = null;
  /** next is the replay being built from the latest checkout, shown once it has drawn it. */
  private next: Replayer | null = null;
  private readonly assembler = new Assembler();
  /** rebuilds counts the replays started from a checkout (for tests). */
  rebuilds = 0;
  /** width and height are the customer's viewport, in CSS pixels (0 until the first snapshot). */
  width = 0;
  height = 0;
  /** focused is the node the agent last clicked, where keys go. */
  focused = 0;
  /** onResize is told when the customer's viewport changes size. */
  onResize: (w: number, h: number) => void = () => {};
  /** onError is told the code of a malformed or oversized batch (it is dropped). */
  onError: (code: string) => void = () => {};

  constructor(private readonly root: HTMLElement) {}

  /** push takes one visual.event frame. */
  push(ev: wire.VisualEvent): void {
    let events: unknown[] | null;
    try {
      events = this.assembler.push({ seq: ev.seq, part: ev.part, parts: ev.parts, data: ev.data });
    } catch (e) {
      this.onError(e instanceof Error ? e.message : 'EINVALID');
      return;
    }
    if (!events) return;
    for (const e of events as { type: number; timestamp: number; data: { width?: number; height?: number } }[]) {
      if (e.type === META) {
        if (!this.replayer) {
          // A replay starts at a Meta event followed by a full snapshot.
          this.replayer = this.start(e.timestamp, true);
        } else {
          // A checkout: replay from it afresh (see Mirror), replacing a rebuild still pending.
          this.next?.destroy();
          this.next = this.start(e.timestamp, false);
          this.rebuilds++;
        }
      }
      if (!this.replayer) continue;
      if (e.type === META && e.data.width && e.data.height) this.resize(e.data.width, e.data.height);
      try {
        (this.next ?? this.replayer).addEvent(e as never);
      } catch {
        this.onError('EINVALID');
      }
    }
  }

  /** events is how many events the replays hold (the shown one and the one being built). */
  get events(): number {
    const n = (r: Replayer | null) => r?.service.state.context.events.length ?? 0;
    return n(this.replayer) + n(this.next);
  }

  /** swap shows the replay built from the last checkout and drops the old one with its events. */
  private swap(next: Replayer): void {
    if (next !== this.next || !this.replayer) return;
    const old = this.replayer;
    this.replayer = next;
    this.next = null;
    old.iframe.removeAttribute('data-testid');
    next.iframe.setAttribute('data-testid', 'cobrowse-frame');
    next.wrapper.style.visibility = '';
    old.destroy();
  }

  private start(baseline: number, shown: boolean): Replayer {
    const replayer = new Replayer([], {
      root: this.root,
      liveMode: true,
      mouseTail: false,
      showWarning: false,
      triggerFocus: false,
      UNSAFE_replayCanvas: false,
      useVirtualDom: false,
      // The customer's own cursor is drawn by rrweb; nothing else is added to the page.
      insertStyleRules: ['* { animation-play-state: paused !important; }'],
    });
    // Sandbox: rrweb makes its iframe allow-same-origin only (no scripts); say so again in case.
    replayer.iframe.setAttribute('sandbox', 'allow-same-origin');
    // Both replays sit in the same place; the one being built stays invisible until it has drawn.
    replayer.wrapper.style.position = 'absolute';
    replayer.wrapper.style.left = '0';
    replayer.wrapper.style.top = '0';
    if (shown) replayer.iframe.setAttribute('data-testid', 'cobrowse-frame');
    else {
      replayer.wrapper.style.visibility = 'hidden';
      replayer.on('fullsnapshot-rebuilded', () => this.swap(replayer));
    }
    replayer.on('resize', (d) => {
      if (replayer !== this.replayer && replayer !== this.next) return;
      const { width, height } = d as { width: number; height: number };
      this.resize(width, height);
    });
    replayer.startLive(baseline - 500);
    return replayer;
  }

  private resize(w: number, h: number): void {
    if (w === this.width && h === this.height) return;
    this.width = w;
    this.height = h;
    this.onResize(w, h);
  }

  /** nodeAt returns rrweb's id of the element at fractions (fx, fy) of the customer's viewport,
   * or 0 when there is none. */
  nodeAt(fx: number, fy: number): number {
    const doc = this.replayer?.iframe.contentDocument;
    if (!doc) return 0;
    const el = doc.elementFromPoint(fx * this.width, fy * this.height);
    if (!el) return 0;
    const id = this.replayer!.getMirror().getId(el);
    return id > 0 ? id : 0;
  }

  /** scrollBy returns the page scroll position after moving it by dx, dy in the replay. */
  scrollTarget(dx: number, dy: number): { x: number; y: number } {
    const win = this.replayer?.iframe.contentWindow;
    const x = Math.max(0, (win?.scrollX ?? 0) + dx);
    const y = Math.max(0, (win?.scrollY ?? 0) + dy);
    return { x, y };
  }

  /** destroy removes the replay. */
  destroy(): void {
    this.next?.destroy();
    this.replayer?.destroy();
    this.replayer = this.next = null;
  }
}

/** keyText turns a key press into what a type command carries: the character, "\b" for
 * Backspace, "\n" for Enter; "" for keys that type nothing. */
export function keyText(e: { key: string; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean }): string {
  if (e.ctrlKey || e.metaKey || e.altKey) return '';
  if (e.key === 'Backspace') return '\b';
  if (e.key === 'Enter') return '\n';
  return [...e.key].length === 1 ? e.key : '';
}
