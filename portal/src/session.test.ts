import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest';
import { flushSync } from 'svelte';
import { ChatSession, utf8Length } from './session.svelte';
import { portalI18n } from './i18n';
import { FakeSocket } from '../../web/testing/fakesocket';
import type * as wire from '../../web/wire.gen';
import { toHost } from './host';

vi.mock('./host', () => ({ toHost: vi.fn() }));

// These unit tests cover the portal's own state logic with a fake socket and a fake fetch; the
// end-to-end test (e2e/portal.test.mjs) runs the same code against the real hub.

class MemStorage {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

const conv = (state: wire.ConvState, extra: Partial<wire.Conversation> = {}): wire.Conversation => ({
  id: 'c1',
  org: 'demo',
  state,
  customer_name: 'Dana',
  last_seq: 0,
  created_at: 1,
  ...extra,
});

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

describe('ChatSession', () => {
  let sockets: FakeSocket[];
  let storage: MemStorage;
  let fetchMock: ReturnType<typeof vi.fn>;
  let s: ChatSession;
  const ws = () => sockets[sockets.length - 1];

  beforeEach(() => {
    sockets = [];
    storage = new MemStorage();
    fetchMock = vi.fn(async (path: string) => {
      if (path.endsWith('/widget')) return json(200, { org: 'demo', name: 'Demo Company', max_text_bytes: 10 });
      if (path.endsWith('/conversations')) return json(200, { conversation: conv('waiting', { queue_position: 2 }), token: 'tok' });
      return json(404, { code: 'ENOTFOUND', message: 'no' });
    });
    s = new ChatSession('demo', portalI18n(['en']), {
      fetch: fetchMock as unknown as typeof fetch,
      storage,
      socketURL: 'ws://hub/ws',
      socket: () => {
        const f = new FakeSocket();
        sockets.push(f);
        return f;
      },
    });
  });
  afterEach(() => s.dispose());

  it('starts a conversation, keeps its token per organisation and shows the queue position', async () => {
    await s.load();
    expect(s.phase).toBe('prechat');
    await s.start('  Dana ');
    expect(fetchMock).toHaveBeenLastCalledWith('/api/v1/orgs/demo/conversations', expect.objectContaining({ method: 'POST', body: '{"name":"Dana"}' }));
    expect(JSON.parse(storage.getItem('parley.chat.demo')!)).toMatchObject({ token: 'tok', conv: 'c1' });
    ws().accept();
    expect(ws().sent[0]).toMatchObject({ type: 'hello', data: { token: 'tok' } });
    ws().deliver({ type: 'welcome', data: { role: 'customer', conversations: [conv('waiting', { queue_position: 2 })], max_text_bytes: 10, server_time: 0 } });
    ws().deliver({ type: 'queue.position', data: { conv: 'c1', position: 1 } });
    flushSync();
    expect(s.phase).toBe('chat');
    expect(s.queuePosition).toBe(1);
  });

  it('sends the widget\'s queue and the pre-chat answer, shows the estimated wait, and leaves a message after a long wait', async () => {
    const q = new ChatSession('demo', portalI18n(['en']), {
      fetch: fetchMock as unknown as typeof fetch,
      storage,
      socketURL: 'ws://hub/ws',
      socket: () => {
        const f = new FakeSocket();
        sockets.push(f);
        return f;
      },
    }, 'sales');
    fetchMock.mockImplementation(async (path: string) => {
      if (path.endsWith('/widget?queue=sales')) return json(200, { org: 'demo', name: 'Demo', max_text_bytes: 100, queue: { id: 'sales', name: 'Sales', open: true } });
      if (path.endsWith('/conversations')) return json(200, { conversation: conv('waiting', { queue_position: 3, queue: 'sales' }), token: 'tok' });
      return json(404, { code: 'ENOTFOUND', message: 'no' });
    });
    await q.load();
    expect(q.config?.queue.name).toBe('Sales');
    await q.start('Dana', { choice: 'billing' });
    expect(fetchMock).toHaveBeenLastCalledWith('/api/v1/orgs/demo/conversations', expect.objectContaining({ body: '{"name":"Dana","queue":"sales","choice":"billing"}' }));
    ws().accept();
    ws().deliver({ type: 'welcome', data: { role: 'customer', conversations: [conv('waiting', { queue_position: 3 })], max_text_bytes: 100, server_time: 0 } });
    ws().deliver({ type: 'queue.position', data: { conv: 'c1', position: 2, queue: 'sales', estimated_wait_ms: 180000 } });
    expect([q.queuePosition, q.queueWait, q.overflow]).toEqual([2, 180000, false]);
    ws().deliver({ type: 'queue.position', data: { conv: 'c1', position: 2, queue: 'sales', overflow: true } });
    expect([q.queueWait, q.overflow]).toEqual([0, true]);
    const left = q.leaveMessage(' ana@example.com ');
    const req = ws().sent.find((e) => e.type === 'conv.message')!;
    expect(req.data).toEqual({ conv: 'c1', contact: 'ana@example.com' });
    ws().deliver({ type: 'ack', rid: req.rid, data: { conv: 'c1', seq: 2 } });
    expect(await left).toBe('');
    expect(q.conv?.message).toBe(true);
    expect(q.overflow).toBe(false);
    q.dispose();
  });

  it('knows when the queue the customer picked is closed (the header must not promise a reply)', async () => {
    fetchMock.mockImplementation(async (path: string) => {
      if (path.endsWith('/widget'))
        return json(200, {
          org: 'demo', name: 'Demo', max_text_bytes: 100,
          queue: { id: 'support', name: 'Support', open: true },
          prechat: { question: 'What is it about?', choices: [
            { id: 'billing', label: 'Billing', queue: { id: 'billing', name: 'Billing', open: true } },
            { id: 'sales', label: 'Sales', queue: { id: 'sales', name: 'Sales', open: false, closed_message: 'Back Monday.' } },
          ] },
        });
      return json(404, { code: 'ENOTFOUND', message: 'no' });
    });
    await s.load();
    expect([s.prechatQueue?.id, s.queueClosed]).toEqual(['support', false]);
    s.choice = 'sales';
    expect([s.prechatQueue?.id, s.queueClosed]).toEqual(['sales', true]);
    s.choice = 'billing';
    expect([s.prechatQueue?.id, s.queueClosed]).toEqual(['billing', false]);
  });

  it('refuses a message over the limit before sending and explains a refusal by the hub', async () => {
    await s.load();
    await s.start('');
    ws().accept();
    ws().deliver({ type: 'welcome', data: { role: 'customer', conversations: [conv('active')], max_text_bytes: 10, server_time: 0 } });
    expect(s.tooLong('ñññññ')).toBe(false); // 10 bytes
    expect(s.tooLong('ñññññx')).toBe(true);
    expect(utf8Length('ñ')).toBe(2);
    expect(s.send('12345678901')).toBe(false);
    expect(ws().sent.filter((e) => e.type === 'chat.send')).toHaveLength(0);

    expect(s.send('hello')).toBe(true);
    const env = ws().sent.find((e) => e.type === 'chat.send')!;
    ws().deliver({ type: 'error', rid: env.rid, data: { code: 'ETOOLARGE', message: 'text over 10 bytes' } });
    await vi.waitFor(() => expect(s.items[0].status).toBe('failed'));
    expect(s.items[0].error).toBe('That message is too long: the limit is 10 characters.');
  });

  it('shows the agent typing and marks our messages delivered and read', async () => {
    await s.load();
    await s.start('Dana');
    ws().accept();
    ws().deliver({ type: 'welcome', data: { role: 'customer', conversations: [conv('active', { agent_name: 'Ana' })], max_text_bytes: 100, server_time: 0 } });
    // Our typing reaches the agent, and stops with the message.
    s.typed('h');
    s.typed('hi');
    s.send('hi');
    expect(ws().sent.filter((e) => e.type === 'chat.typing').map((e) => (e.data as wire.Typing).typing)).toEqual([true, false]);
    const env = ws().sent.find((e) => e.type === 'chat.send')!;
    ws().deliver({ type: 'ack', rid: env.rid, data: { conv: 'c1', seq: 2 } });
    await vi.waitFor(() => expect(s.items[0].status).toBe('sent'));
    ws().deliver({ type: 'chat.typing', data: { conv: 'c1', typing: true, author: 'agent' } });
    expect(s.agentTyping).toBe(true);
    ws().deliver({ type: 'chat.receipt', data: { conv: 'c1', seq: 2, kind: 'delivered', by: 'agent' } });
    expect(s.items[0].status).toBe('delivered');
    ws().deliver({ type: 'chat.receipt', data: { conv: 'c1', seq: 2, kind: 'read', by: 'agent' } });
    expect(s.items[0].status).toBe('read');
    // The agent's answer stops their typing and is acknowledged as delivered.
    ws().deliver({ type: 'chat.message', data: { conv: 'c1', seq: 3, author: 'agent', author_name: 'Ana', text: 'hello', at: 1 } });
    expect(s.agentTyping).toBe(false);
    expect(ws().sent.filter((e) => e.type === 'chat.receipt').map((e) => e.data)).toContainEqual({ conv: 'c1', seq: 3, kind: 'delivered' });
  });

  it('while the widget is closed, reports unread messages to the host page and does not mark them read', async () => {
    // What goes to the host page passes through host.ts, which posts only to the loader's origin.
    const posted = vi.mocked(toHost).mock.calls;
    posted.length = 0;
    vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    await s.load();
    await s.start('Dana');
    ws().accept();
    ws().deliver({ type: 'welcome', data: { role: 'customer', conversations: [conv('active')], max_text_bytes: 100, server_time: 0 } });
    s.shown = false;
    ws().deliver({ type: 'chat.message', data: { conv: 'c1', seq: 1, author: 'agent', author_name: 'Ana', text: 'hello?', at: 1 } });
    expect(posted).toEqual([[{ parley: 'unread' }]]);
    const kinds = () => ws().sent.filter((e) => e.type === 'chat.receipt').map((e) => (e.data as wire.Receipt).kind);
    expect(kinds()).toEqual(['delivered']);
    s.shown = true;
    s.markRead();
    expect(kinds()).toEqual(['delivered', 'read']);
  });

  it('tells the hub when the tab is hidden or shown, again after a reconnect, and never once ended', async () => {
    await s.load();
    await s.start('Dana');
    ws().accept();
    ws().deliver({ type: 'welcome', data: { role: 'customer', conversations: [conv('active')], max_text_bytes: 100, server_time: 0 } });
    const presence = (f: FakeSocket) => f.sent.filter((e) => e.type === 'customer.presence').map((e) => (e.data as wire.CustomerPresenceSet).hidden);
    s.visibility(false); // shown already: nothing to say
    s.visibility(true);
    s.visibility(true);
    expect(presence(ws())).toEqual([true]);
    // A new connection counts as shown at the hub: the hidden tab says so again.
    const first = ws();
    first.close();
    await vi.waitFor(() => expect(sockets.length).toBe(2), { timeout: 3000 });
    ws().accept();
    ws().deliver({ type: 'welcome', data: { role: 'customer', conversations: [conv('active')], max_text_bytes: 100, server_time: 0 } });
    expect(presence(ws())).toEqual([true]);
    s.visibility(false);
    expect(presence(ws())).toEqual([true, false]);
    ws().deliver({ type: 'conv.state', data: conv('ended', { end_reason: 'inactivity' }) });
    s.visibility(true);
    expect(presence(ws())).toEqual([true, false]);
  });

    it('starts over when the hub no longer accepts the saved token', async () => {
    storage.setItem('parley.chat.demo', JSON.stringify({ token: 'old', conv: 'c0' }));
    await s.load();
    expect(s.phase).toBe('chat');
    ws().accept();
    ws().deliver({ type: 'error', data: { code: 'EUNAUTHORIZED', message: 'token expired' } });
    expect(s.phase).toBe('prechat');
    expect(storage.getItem('parley.chat.demo')).toBeNull();
    expect(s.problem).toBe('Your session has expired. Please start again.');
  });

  it('says the chat is unavailable for an unknown organisation, in the customer\'s words', async () => {
    fetchMock.mockImplementation(async () => json(404, { code: 'ENOTFOUND', message: 'no such organisation' }));
    await s.load();
    expect(s.phase).toBe('unavailable');
    expect(s.problem).not.toContain('no such organisation');
    fetchMock.mockImplementation(async () => {
      throw new TypeError('Failed to fetch');
    });
    await s.load();
    expect(s.problem).toMatch(/cannot reach the chat service/);
  });
});
