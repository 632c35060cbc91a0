import { describe, it, expect, afterEach, vi } from 'vitest';
import { render, cleanup, fireEvent, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import { convs, resetConversations } from './stores/conversations.svelte';
import { clock } from './stores/clock.svelte';
import { team } from './stores/supervisor.svelte';
import { notices } from './stores/notices.svelte';
import type { ConversationView, SupervisorView } from './api/types';
import ChatPanel from './components/ChatPanel.svelte';
import ConversationList from './components/ConversationList.svelte';
import TeamView from './components/TeamView.svelte';

const now = 1_800_000_000_000;

function conv(over: Partial<ConversationView> = {}): ConversationView {
  return {
    id: 'c1', state: 'active', customer_name: 'Dana', last_seq: 0, created_at: 1, accepted_at: 2, unread: 0,
    customer_typing: false, delivered_seq: 0, read_seq: 0, customer: 'here', customer_since: now - 60_000, ...over,
  };
}

// bind puts fake bound methods where the Wails runtime would.
function bind(methods: Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>) {
  const g = globalThis as Record<string, unknown>;
  g.runtime = { EventsOn: () => () => {} };
  g.go = { app: methods };
}

afterEach(() => {
  cleanup();
  resetConversations();
  notices.items = [];
  delete (globalThis as Record<string, unknown>).go;
});

describe('customer presence for the agent', () => {
  it('shows away and gone with the time since in the list and the header, nothing extra while here', async () => {
    clock.now = now;
    convs.list = [
      conv(),
      conv({ id: 'c2', customer_name: 'Eli', customer: 'away', customer_since: now - 30_000 }),
      conv({ id: 'c3', customer_name: 'Flo', customer: 'gone', customer_since: now - 4 * 60_000, closes_at: now + 6 * 60_000 }),
    ];
    const list = render(ConversationList);
    const marks = Object.fromEntries(list.getAllByTestId('customer-presence').map((e) => [e.dataset.presence, e.textContent?.replace(/\s+/g, ' ').trim()]));
    expect(marks).toEqual({ away: 'Away 30s', gone: 'Left 4m ago · closes in 6:00' });
    cleanup();

    convs.activeId = 'c3';
    const panel = render(ChatPanel);
    await tick();
    expect(panel.getByTestId('customer-presence').textContent).toContain('Left the chat 4m ago');
    expect(panel.queryByTestId('close-warning')).toBeNull();
  });

  it('warns before the close, keeps the chat open with one click, and says why it closed', async () => {
    const keepOpen = vi.fn(async () => undefined);
    bind({ Conversations: { KeepOpen: keepOpen } });
    clock.now = now;
    convs.list = [conv({ customer: 'gone', customer_since: now - 9 * 60_000, closes_at: now + 45_000, close_warning: true })];
    convs.activeId = 'c1';
    const r = render(ChatPanel);
    await tick();
    expect(r.getByTestId('close-warning').textContent).toContain('Dana left the chat 9m ago. It closes in 0:45 unless you keep it open.');
    await fireEvent.click(r.getByTestId('keep-open'));
    await waitFor(() => expect(keepOpen).toHaveBeenCalledWith('c1'));

    convs.list = [conv({ state: 'ended', ended_by: 'system', end_reason: 'inactivity', ended_at: now })];
    await tick();
    expect(r.queryByTestId('close-warning')).toBeNull();
    expect(r.getByTestId('conversation-ended').textContent).toBe('Closed after inactivity: the customer had left.');
  });
});

describe('customer presence for the supervisor', () => {
  function view(): SupervisorView {
    return {
      agents: [{ id: 'u1', display_name: 'Agent One', presence: 'available', load: 2, capacity: 3, online: true, on_call: false }],
      conversations: [
        conv({ agent_id: 'u1', agent_name: 'Agent One' }),
        conv({ id: 'c2', customer_name: 'Gus', agent_id: 'u1', agent_name: 'Agent One', customer: 'gone', customer_since: now - 120_000, closes_at: now + 480_000 }),
      ],
      updated_at: 1,
      stats: { since_ms: 1, with_call: 0, without_call: 0, aht_with_call_ms: 0, aht_without_call_ms: 0, calls: {}, avg_call_ms: 0, resolved: 4, abandoned: 1, auto_closed: 2 },
      queues: [],
    };
  }

  it('shows which customers are gone, closes their chats, and counts outcomes', async () => {
    const close = vi.fn(async () => undefined);
    bind({ Supervisor: { Close: close } });
    clock.now = now;
    team.view = view();
    const r = render(TeamView);
    expect(r.getByTestId('gone-count').textContent).toBe('Customers gone: 1');
    const rows = r.getAllByTestId('team-conversation');
    const gus = rows.find((e) => e.dataset.conv === 'c2')!;
    const dana = rows.find((e) => e.dataset.conv === 'c1')!;
    expect(gus.querySelector('[data-testid="customer-presence"]')?.textContent).toContain('Left the chat 2m ago');
    expect(dana.querySelector('[data-testid="close-conversation"]')).toBeNull();
    await fireEvent.click(gus.querySelector('[data-testid="close-conversation"]')!);
    await waitFor(() => expect(close).toHaveBeenCalledWith('c2'));
    await waitFor(() => expect(notices.items.map((n) => n.text)).toContain('Closed.'));
    const chips = Object.fromEntries([...r.getByTestId('conversation-outcomes').children].map((c) => [(c as HTMLElement).dataset.outcome, c.textContent?.trim()]));
    expect(chips).toEqual({ resolved: 'Resolved 4', abandoned: 'Abandoned 1', auto_closed: 'Closed after inactivity 2' });
  });
});
