import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest';
import { Client, WireError } from './client';
import { FakeSocket } from './testing/fakesocket';
import type * as wire from './wire.gen';

// Unit tests of the client's own logic with a FakeSocket; the end-to-end tests
// (e2e/portal.test.mjs) run the client against the real hub.

function msg(seq: number, text = `m${seq}`, author: wire.Author = 'agent'): wire.Envelope {
  return { type: 'chat.message', data: { conv: 'c1', seq, author, author_name: 'A', text, at: 0 } };
}

describe('Client', () => {
  let sockets: FakeSocket[];
  let got: wire.Message[];
  let states: string[];
  let client: Client;
  const last = () => sockets[sockets.length - 1];

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    got = [];
    states = [];
    client = new Client({
      url: 'ws://hub/ws',
      token: 'tok',
      socket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      random: () => 0.5,
      onMessage: (m) => got.push(m),
      onState: (s) => states.push(s),
    });
  });
  afterEach(() => {
    client.close();
    vi.useRealTimers();
  });

  it('says hello with the token first', () => {
    client.start();
    last().accept();
    expect(last().sent[0]).toEqual({ type: 'hello', data: { token: 'tok', resume: {} } });
  });

  it('resumes from the last sequence it has and drops replayed duplicates', async () => {
    client.start();
    last().accept();
    last().welcome([{ id: 'c1', last_seq: 0 }]);
    last().deliver(msg(1));
    last().deliver(msg(2));
    last().drop();
    expect(states).toContain('reconnecting');

    await vi.advanceTimersByTimeAsync(10_000);
    expect(sockets).toHaveLength(2);
    last().accept();
    expect(last().sent[0].data).toEqual({ token: 'tok', resume: { c1: 2 } });
    last().welcome([{ id: 'c1', last_seq: 4 }]);
    // The hub replays overlapping messages (2 again) and the new ones.
    last().deliver(msg(2));
    last().deliver(msg(3));
    last().deliver(msg(4));
    last().deliver(msg(3));
    expect(got.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(states[states.length - 1]).toBe('open');
    // A known conversation is resumed through the Hello, not synced again.
    expect(last().ofType('sync')).toHaveLength(0);
  });

  it('fetches the history of a conversation it has no record of', () => {
    client.start();
    last().accept();
    last().welcome([{ id: 'c1', last_seq: 3 }]);
    expect(last().ofType('sync').map((e) => e.data)).toEqual([{ conv: 'c1', after: 0 }]);
  });

  it('resumes from the contiguous point when a message arrived after a gap', async () => {
    client.start();
    last().accept();
    last().welcome([{ id: 'c1', last_seq: 0 }]);
    last().deliver(msg(1));
    last().deliver(msg(3));
    last().drop();
    await vi.advanceTimersByTimeAsync(10_000);
    last().accept();
    expect(last().sent[0].data).toEqual({ token: 'tok', resume: { c1: 1 } });
    last().welcome([{ id: 'c1', last_seq: 3 }]);
    last().deliver(msg(2));
    last().deliver(msg(3));
    expect(got.map((m) => m.seq)).toEqual([1, 3, 2]);
  });

  it('re-sends an unacknowledged chat message with the same client_id, once', async () => {
    client.start();
    last().accept();
    last().welcome([{ id: 'c1', last_seq: 0 }]);
    const { clientID, done } = client.sendChat('c1', 'hello');
    const first = last().ofType('chat.send')[0];
    expect(first.data).toEqual({ conv: 'c1', text: 'hello', client_id: clientID });
    last().drop(); // the ack is lost

    // A message sent while offline waits for the link.
    const second = client.sendChat('c1', 'while offline');
    await vi.advanceTimersByTimeAsync(10_000);
    last().accept();
    expect(last().ofType('chat.send')).toHaveLength(0); // nothing before the welcome
    last().welcome([{ id: 'c1', last_seq: 1 }]);
    const resent = last().ofType('chat.send');
    expect(resent.map((e) => (e.data as wire.ChatSend).client_id)).toEqual([clientID, second.clientID]);
    last().deliver({ type: 'ack', rid: resent[0].rid, data: { conv: 'c1', seq: 1 } });
    last().deliver({ type: 'ack', rid: resent[1].rid, data: { conv: 'c1', seq: 2 } });
    await expect(done).resolves.toEqual({ conv: 'c1', seq: 1 });
    await expect(second.done).resolves.toEqual({ conv: 'c1', seq: 2 });
    // The hub's copy of our own message is not delivered twice.
    last().deliver(msg(1, 'hello', 'customer'));
    expect(got).toHaveLength(0);
    expect(client.lastSeq('c1')).toBe(2);
  });

  it('rejects a request the hub refuses with its code', async () => {
    client.start();
    last().accept();
    last().welcome();
    const p = client.sendChat('c1', 'x'.repeat(5000)).done;
    const env = last().ofType('chat.send')[0];
    last().deliver({ type: 'error', rid: env.rid, data: { code: 'ETOOLARGE', message: 'too big' } });
    await expect(p).rejects.toMatchObject({ code: 'ETOOLARGE' });
  });

  it('sends a chat message again, after a pause, when the hub says it came too fast', async () => {
    client.start();
    last().accept();
    last().welcome();
    const { clientID, done } = client.sendChat('c1', 'hello');
    const first = last().ofType('chat.send')[0];
    last().deliver({ type: 'error', rid: first.rid, data: { code: 'ERATELIMITED', message: 'slow down' } });
    expect(last().ofType('chat.send')).toHaveLength(1); // not at once
    await vi.advanceTimersByTimeAsync(150);
    const again = last().ofType('chat.send');
    expect(again).toHaveLength(2);
    expect((again[1].data as wire.ChatSend).client_id).toBe(clientID);
    last().deliver({ type: 'ack', rid: again[1].rid, data: { conv: 'c1', seq: 3 } });
    await expect(done).resolves.toEqual({ conv: 'c1', seq: 3 });
  });

  it('fails requests that cannot survive a drop with NETWORK', async () => {
    client.start();
    last().accept();
    last().welcome();
    const p = client.request('conv.leave', { conv: 'c1' });
    last().drop();
    await expect(p).rejects.toBeInstanceOf(WireError);
    await expect(p).rejects.toMatchObject({ code: 'NETWORK' });
  });

  it('backs off between failed attempts, up to the maximum', async () => {
    client.start();
    last().drop(); // refused
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(374); // 500ms base, jitter 0.5 → 375ms
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(2);
    last().drop();
    await vi.advanceTimersByTimeAsync(749);
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(3);
    for (let i = 0; i < 10; i++) {
      last().drop();
      await vi.advanceTimersByTimeAsync(7_500);
    }
    expect(sockets).toHaveLength(13);
    expect(states).toEqual(['connecting', 'reconnecting']);
  });

  it('reconnects at once when a hub node hands the connection over (close code 4002)', async () => {
    client.start();
    last().accept();
    last().welcome();
    last().close(4002);
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10); // 20 ms jitter × 0.5, not the 375 ms of a drop
    expect(sockets).toHaveLength(2);
    last().accept();
    last().welcome();
    last().drop(); // an ordinary drop still backs off
    await vi.advanceTimersByTimeAsync(374);
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(3);
  });

  it('stops when the hub refuses the token', () => {
    const fatal: WireError[] = [];
    client = new Client({
      url: 'ws://hub/ws',
      token: 'old',
      socket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      onFatal: (e) => fatal.push(e),
    });
    client.start();
    last().accept();
    last().deliver({ type: 'error', data: { code: 'EUNAUTHORIZED', message: 'expired' } });
    expect(fatal.map((e) => e.code)).toEqual(['EUNAUTHORIZED']);
    expect(client.state).toBe('closed');
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('notices a dead link by its unanswered ping and reconnects', async () => {
    client.start();
    last().accept();
    last().welcome();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(last().ofType('ping')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(states).toContain('reconnecting');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sockets).toHaveLength(2);
  });
});
