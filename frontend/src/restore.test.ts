// The UI after a reload (the window's page crashed and was reloaded, or the app started signed
// in): it asks the services for everything and shows what the agent had open.
import { describe, it, expect, afterEach, vi } from 'vitest';
import { init } from './stores';
import { convs, resetConversations } from './stores/conversations.svelte';
import type { ConversationView } from './api/types';

function conv(id: string): ConversationView {
  return {
    id, state: 'active', customer_name: 'Dana', last_seq: 1, created_at: 1, accepted_at: 2, unread: 0,
    customer_typing: false, delivered_seq: 0, read_seq: 0,
  };
}

describe('after a reload', () => {
  afterEach(() => {
    resetConversations();
    delete (globalThis as Record<string, unknown>).go;
    delete (globalThis as Record<string, unknown>).runtime;
  });

  it('shows the conversation the agent had open and reports the page ready', async () => {
    const g = globalThis as Record<string, unknown>;
    const ready = vi.fn(async () => null);
    const setShown = vi.fn(async (_shown: boolean) => null);
    g.runtime = { EventsOn: () => () => {} };
    g.go = {
      app: {
        Session: { Prefill: async () => ({ hub_url: '', org: 'demo' }), Current: async () => ({ signed_in: true, hub_url: 'http://hub', connection: 'online', max_text_bytes: 4000, user: { id: 'u1', role: 'agent' } }) },
        Presence: { Current: async () => ({ presence: 'available', load: 2, capacity: 3 }) },
        Offers: { List: async () => [] },
        Conversations: {
          List: async () => [conv('c1'), conv('c2')],
          Active: async () => 'c2',
          Messages: async (id: string) => [{ conv: id, seq: 1, author: 'customer', author_name: 'Dana', text: 'still there?', at: 1 }],
        },
        Supervisor: { Snapshot: async () => ({ agents: [], conversations: [], updated_at: 0, stats: { calls: {} } }) },
        Window: { Ready: ready, SetShown: setShown },
      },
    };
    await init();
    expect(convs.activeId).toBe('c2');
    expect(convs.messages.c2?.map((m) => m.text)).toEqual(['still there?']);
    expect(ready).toHaveBeenCalled();
    // It says whether the window can be seen, and again when it is minimised and shown: a hidden
    // window is sent no video.
    await vi.waitFor(() => expect(setShown).toHaveBeenLastCalledWith(true));
    const setVisibility = (state: 'hidden' | 'visible') => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
      document.dispatchEvent(new Event('visibilitychange'));
    };
    try {
      setVisibility('hidden');
      await vi.waitFor(() => expect(setShown).toHaveBeenLastCalledWith(false));
      setVisibility('visible');
      await vi.waitFor(() => expect(setShown).toHaveBeenLastCalledWith(true));
    } finally {
      setVisibility('visible');
    }
  });
});
