import { describe, it, expect, vi, afterEach } from 'vitest';
import { ChatSession } from '../session.svelte';
import { portalI18n } from '../i18n';
import { FakeSocket } from '../../../web/testing/fakesocket';
import type * as wire from '../../../web/wire.gen';
import { toHost } from '../host';

vi.mock('../host', () => ({ toHost: vi.fn() }));

// How the chat hands call events to the lazily loaded call module: nothing loads for a plain chat,
// the module loads when a call rings, and the agent's offer that arrives meanwhile is kept.

const conv: wire.Conversation = { id: 'c1', org: 'demo', state: 'active', customer_name: 'Dana', agent_name: 'Ana', last_seq: 0, created_at: 1 };
const ringing = (id: string, c = 'c1'): wire.Envelope => ({ type: 'call.state', data: { id, conv: c, kind: 'video', state: 'ringing', created_at: 1 } });

async function chatting() {
  const sockets: FakeSocket[] = [];
  const storage = new Map<string, string>([['parley.chat.demo', JSON.stringify({ token: 'tok', conv: 'c1' })]]);
  const s = new ChatSession('demo', portalI18n(['en']), {
    fetch: (async () => new Response(JSON.stringify({ org: 'demo', name: 'Demo', max_text_bytes: 100 }), { status: 200 })) as unknown as typeof fetch,
    storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v), removeItem: (k) => void storage.delete(k) },
    socketURL: 'ws://hub/ws',
    socket: () => {
      const f = new FakeSocket();
      sockets.push(f);
      return f;
    },
  });
  await s.load();
  const ws = sockets[0];
  ws.accept();
  ws.deliver({ type: 'welcome', data: { role: 'customer', conversations: [conv], max_text_bytes: 100, server_time: 0 } });
  return { s, ws };
}

describe('call events in the chat', () => {
  let dispose: (() => void) | null = null;
  afterEach(() => dispose?.());

  it('loads nothing for signals without a ringing call, or for another conversation', async () => {
    const { s, ws } = await chatting();
    dispose = () => s.dispose();
    ws.deliver({ type: 'call.signal', data: { call: 'k0', sdp: { type: 'offer', sdp: 'x' } } });
    ws.deliver({ type: 'call.state', data: { id: 'k0', conv: 'c1', kind: 'voice', state: 'ended', created_at: 1 } });
    ws.deliver(ringing('k9', 'other'));
    await new Promise((r) => setTimeout(r, 50));
    expect(s.call).toBeNull();
    expect(s.callView).toBeNull();
  });

  it('loads the call module when a call rings and keeps what arrived meanwhile', async () => {
    const { s, ws } = await chatting();
    dispose = () => s.dispose();
    ws.deliver(ringing('k1'));
    ws.deliver({ type: 'call.media', data: { call: 'k1', muted: true, video: false, from: 'agent' } });
    await vi.waitFor(() => expect(s.call).not.toBeNull(), { timeout: 20000 });
    expect(s.callView).not.toBeNull();
    expect(s.call!.phase).toBe('ringing');
    expect(s.call!.remoteMuted).toBe(true);
    // Declining goes out on the chat's connection.
    await Promise.race([s.call!.decline(), new Promise((r) => setTimeout(r, 20))]);
    expect(ws.sent.find((e) => e.type === 'call.decline')?.data).toEqual({ call: 'k1' });
    // Later events go straight to the loaded module.
    ws.deliver(ringing('k2'));
    expect(s.call!.call?.id).toBe('k2');
  });

  it('lights the launcher when a call rings while the widget is closed', async () => {
    const { s, ws } = await chatting();
    dispose = () => s.dispose();
    // host.ts posts it to the loader's origin only (host.test.ts); here, that it is asked to.
    vi.mocked(toHost).mockClear();
    s.shown = false;
    ws.deliver(ringing('k1'));
    expect(toHost).toHaveBeenCalledWith({ parley: 'unread' });
  });
});

describe('the chat ending', () => {
  it('hangs up a live call', async () => {
    const { s, ws } = await chatting();
    ws.deliver(ringing('k1'));
    await vi.waitFor(() => expect(s.call).not.toBeNull(), { timeout: 20000 });
    ws.deliver({ type: 'conv.state', data: { ...conv, state: 'ended', ended_by: 'agent' } });
    expect(s.call!.phase).toBe('ended');
    expect(ws.sent.find((e) => e.type === 'call.decline')?.data).toEqual({ call: 'k1' });
    s.dispose();
  });
});
