import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const gapMs = 250;

// Each test loads a fresh backend module (its event order starts anew) on a fake Wails runtime
// that hands out the "parley" events the way the dev server does: not always in emitted order.
async function fresh() {
  vi.resetModules();
  let bus: (e: unknown) => void = () => {};
  const g = globalThis as unknown as Record<string, unknown>;
  g.go = { app: {} };
  g.runtime = {
    EventsOn: (name: string, cb: (e: unknown) => void) => {
      if (name === 'parley') bus = cb;
      return () => {};
    },
  };
  const api = await import('./backend');
  const got: string[] = [];
  for (const name of ['conversations', 'message', 'call'] as const) {
    await api.on(name, (d) => got.push(`${name}:${d}`));
  }
  const send = (name: string, rev: number, data: string) => bus({ name, rev, data });
  return { api, got, send };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** start delivers the page's first event and lets the start-up wait pass. */
function start(send: (name: string, rev: number, data: string) => void, name: string, rev: number, data: string) {
  send(name, rev, data);
  vi.advanceTimersByTime(gapMs + 1);
}

describe('events from the services', () => {
  it('line up at start even when the first to arrive was not the first sent', async () => {
    const { got, send } = await fresh();
    send('call', 8, 'none');
    send('conversations', 7, 'signed-out');
    expect(got).toEqual([]);
    vi.advanceTimersByTime(gapMs + 1);
    expect(got).toEqual(['conversations:signed-out', 'call:none']);
  });

  it('arrive in the order they were emitted, whatever order the transport gave them', async () => {
    const { got, send } = await fresh();
    start(send, 'conversations', 1, 'active');
    send('call', 3, 'none'); // overtook 2
    send('message', 4, 'bye');
    expect(got).toEqual(['conversations:active']);
    send('call', 2, 'ended');
    expect(got).toEqual(['conversations:active', 'call:ended', 'call:none', 'message:bye']);
  });

  it('stop waiting for a lost event after a moment; a stale snapshot is dropped, a message is not', async () => {
    const { api, got, send } = await fresh();
    expect(api.gapMs).toBe(gapMs);
    start(send, 'conversations', 1, 'a');
    send('conversations', 4, 'ended');
    expect(got).toEqual(['conversations:a']);
    vi.advanceTimersByTime(api.gapMs + 1);
    expect(got).toEqual(['conversations:a', 'conversations:ended']);
    send('conversations', 2, 'stale');
    send('message', 3, 'late');
    expect(got).toEqual(['conversations:a', 'conversations:ended', 'message:late']);
  });

  it('stop reaching a listener once it unsubscribes', async () => {
    const { api, got, send } = await fresh();
    const seen: string[] = [];
    const off = await api.on('conversations', (d) => seen.push(d as unknown as string));
    start(send, 'conversations', 1, 'x');
    off();
    send('conversations', 2, 'y');
    expect(seen).toEqual(['x']);
    expect(got).toEqual(['conversations:x', 'conversations:y']);
  });
});
