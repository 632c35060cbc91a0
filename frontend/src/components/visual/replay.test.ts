import { describe, it, expect, vi } from 'vitest';
import { Mirror } from './replay';
import type * as wire from '../../../../web/wire.gen';

// jsdom cannot host rrweb's sandboxed replay (the real one runs in Chromium in
// e2e/cobrowse.test.mjs): this fake keeps what the mirror's logic depends on — its own wrapper and
// iframe in the root, the events it was given, the "fullsnapshot-rebuilded" event, destroy.
const { FakeReplayer, made } = vi.hoisted(() => {
  const made: InstanceType<typeof FakeReplayer>[] = [];
  class FakeReplayer {
    wrapper = document.createElement('div');
    iframe = document.createElement('iframe');
    service = { state: { context: { events: [] as { type: number; data: { node?: { childNodes: unknown[] } } }[] } } };
    private handlers = new Map<string, (d?: unknown) => void>();
    drawn = '';
    constructor(_: unknown[], private config: { root: HTMLElement }) {
      this.wrapper.appendChild(this.iframe);
      config.root.appendChild(this.wrapper);
      made.push(this);
    }
    on(ev: string, f: (d?: unknown) => void) {
      this.handlers.set(ev, f);
      return this;
    }
    startLive() {}
    addEvent(e: { type: number; data: { node?: unknown } }) {
      this.service.state.context.events.push(e as never);
      if (e.type === 2) {
        this.drawn = JSON.stringify(e.data.node);
        // rrweb draws a snapshot after its live delay, then says so.
        setTimeout(() => this.handlers.get('fullsnapshot-rebuilded')?.(), 10);
      }
    }
    destroy() {
      this.config.root.removeChild(this.wrapper);
    }
  }
  return { FakeReplayer, made };
});
vi.mock('rrweb', () => ({ Replayer: FakeReplayer }));

// The agent's replay of a long co-browse: rrweb's live replayer keeps every event it is given, so
// the mirror starts afresh at each checkout (the recorder's periodic full snapshot) and drops the
// old replay once the new one has drawn. A shift-long session then holds a checkout's worth.

let seq = 0;
/** frame wraps rrweb events as the visual.event frame the hub relays. */
function frame(events: unknown[]): wire.VisualEvent {
  return { visual: 'v1', seq: ++seq, part: 0, parts: 1, data: JSON.stringify(events) } as wire.VisualEvent;
}

/** checkout is what rrweb's recorder emits every 30 s: Meta, then a full snapshot of the page. */
function checkout(t: number, text: string): unknown[] {
  return [
    { type: 4, timestamp: t, data: { href: 'https://shop.example/', width: 800, height: 600 } },
    {
      type: 2,
      timestamp: t,
      data: {
        node: {
          type: 0, id: 1, childNodes: [
            { type: 1, id: 2, name: 'html', publicId: '', systemId: '' },
            { type: 2, id: 3, tagName: 'html', attributes: {}, childNodes: [
              { type: 2, id: 4, tagName: 'body', attributes: {}, childNodes: [{ type: 3, id: 5, textContent: text }] },
            ] },
          ],
        },
        initialOffset: { left: 0, top: 0 },
      },
    },
  ];
}

/** typing is an incremental mutation of the text node. */
function typing(t: number, value: string): unknown {
  return { type: 3, timestamp: t, data: { source: 0, texts: [{ id: 5, value }], attributes: [], removes: [], adds: [] } };
}

describe('Mirror', () => {
  it('keeps the old replay on screen until the new one has drawn', async () => {
    const root = document.createElement('div');
    const m = new Mirror(root);
    m.push(frame(checkout(Date.now(), 'first')));
    m.push(frame(checkout(Date.now() + 1, 'second')));
    // Built but not drawn yet: two replays, the new one invisible and not the test's frame.
    const [oldFrame, newFrame] = root.querySelectorAll('iframe');
    expect(oldFrame.getAttribute('data-testid')).toBe('cobrowse-frame');
    expect(newFrame.hasAttribute('data-testid')).toBe(false);
    expect(newFrame.parentElement!.style.visibility).toBe('hidden');
    await vi.waitFor(() => expect(root.querySelectorAll('iframe')).toHaveLength(1));
    expect(root.querySelector('iframe')).toBe(newFrame);
    m.destroy();
  });

  it('holds only the events since the last checkout, and keeps showing the page', async () => {
    const root = document.createElement('div');
    document.body.appendChild(root);
    const m = new Mirror(root);
    const errors: string[] = [];
    m.onError = (c) => errors.push(c);
    const start = Date.now();
    let t = start;
    m.push(frame(checkout(t, 'page 0')));
    for (let round = 1; round <= 5; round++) {
      for (let i = 0; i < 50; i++) m.push(frame([typing(++t, `typed ${round}.${i}`)]));
      m.push(frame(checkout(++t, `page ${round}`)));
    }
    // Each checkout starts a fresh replay; once it has drawn, the old one and its events go.
    await vi.waitFor(() => expect(root.querySelectorAll('iframe')).toHaveLength(1), { timeout: 5000 });
    expect(m.rebuilds).toBe(5);
    expect(m.events).toBeLessThanOrEqual(2 + 50);
    const shown = root.querySelector('iframe')!;
    expect(shown.getAttribute('data-testid')).toBe('cobrowse-frame');
    expect(shown.getAttribute('sandbox')).toBe('allow-same-origin');
    expect(shown.parentElement!.style.visibility).toBe('');
    const live = made.find((r) => r.iframe === shown)!;
    expect(live.drawn).toContain('page 5');
    expect(errors).toEqual([]);

    // Typing after the last checkout goes to the replay shown.
    m.push(frame([typing(++t, 'after')]));
    expect(live.service.state.context.events.at(-1)).toMatchObject({ type: 3 });
    m.destroy();
    expect(root.querySelectorAll('iframe')).toHaveLength(0);
    root.remove();
  });
});
