import { describe, expect, it } from 'vitest';
import { on } from './backend';

// fakeRuntime records the callbacks the UI subscribes, so a test can deliver events the way the
// Wails dev server does: each with its revision, not always in the order they were emitted.
function fakeRuntime() {
  const subs: Record<string, ((data: unknown, rev?: unknown) => void)[]> = {};
  const g = globalThis as unknown as Record<string, unknown>;
  g.go = { app: {} };
  g.runtime = {
    EventsOn: (name: string, cb: (data: unknown, rev?: unknown) => void) => {
      (subs[name] ??= []).push(cb);
      return () => {};
    },
  };
  return (name: string, data: unknown, rev?: number) => subs[name]?.forEach((cb) => cb(data, rev));
}

describe('on', () => {
  it('keeps the newest snapshot when an older one arrives after it', async () => {
    const deliver = fakeRuntime();
    const got: string[] = [];
    await on<string>('conversations', (d) => got.push(d));
    deliver('conversations', 'ended', 7);
    deliver('conversations', 'active', 5); // emitted first, overtaken on the way
    deliver('conversations', 'later', 9);
    expect(got).toEqual(['ended', 'later']);
  });

  it('never drops an item of a stream, whatever its order', async () => {
    const deliver = fakeRuntime();
    const got: string[] = [];
    await on<string>('message', (d) => got.push(d));
    deliver('message', 'second', 4);
    deliver('message', 'first', 3);
    expect(got).toEqual(['second', 'first']);
  });

  it('takes events without a revision as they come', async () => {
    const deliver = fakeRuntime();
    const got: string[] = [];
    await on<string>('agent', (d) => got.push(d));
    deliver('agent', 'a');
    deliver('agent', 'b');
    expect(got).toEqual(['a', 'b']);
  });
});
