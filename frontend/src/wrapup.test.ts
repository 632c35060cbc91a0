import { describe, it, expect, afterEach, vi } from 'vitest';
import { render, cleanup, fireEvent, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import { convs, resetConversations } from './stores/conversations.svelte';
import { agent, setAgent } from './stores/presence.svelte';
import { clock } from './stores/clock.svelte';
import type { ConversationView } from './api/types';
import ChatPanel from './components/ChatPanel.svelte';
import ConversationList from './components/ConversationList.svelte';
import { offers } from './stores/offers.svelte';
import type { OfferView } from './api/types';

function ended(over: Partial<ConversationView> = {}): ConversationView {
  return {
    id: 'c1', state: 'ended', customer_name: 'Dana', last_seq: 0, created_at: 1, accepted_at: 2, ended_at: 3, ended_by: 'agent',
    unread: 0, customer_typing: false, delivered_seq: 0, read_seq: 0, ...over,
  };
}

describe('wrap-up after a chat', () => {
  afterEach(() => {
    cleanup();
    resetConversations();
    setAgent({ presence: 'available', load: 0, capacity: 3 });
    delete (globalThis as Record<string, unknown>).go;
  });

  it('asks for an outcome, counts down the hold, and sends code and note', async () => {
    const wrap = vi.fn(async () => {});
    const g = globalThis as Record<string, unknown>;
    g.runtime = { EventsOn: () => () => {} };
    g.go = { app: { Conversations: { WrapUp: wrap } } };
    setAgent({
      presence: 'available', load: 0, capacity: 3,
      wrap_up: [{ conv: 'c1', customer_name: 'Dana', ended_at: clock.now, until: clock.now + 95_000 }],
      wrap_codes: [{ id: 'resolved', label: 'Resolved' }, { id: 'sold', label: 'Sale made' }],
    });
    convs.list = [ended()];
    convs.activeId = 'c1';
    const { getByTestId } = render(ChatPanel);
    await tick();
    expect(getByTestId('wrapup-left').textContent).toMatch(/New chats in 1:3\d/);
    const done = getByTestId('wrapup-done') as HTMLButtonElement;
    expect(done.disabled).toBe(true); // an outcome first
    const select = getByTestId('wrapup-code') as HTMLSelectElement;
    expect([...select.options].map((o) => o.textContent)).toEqual(['Choose an outcome', 'Resolved', 'Sale made']);
    await fireEvent.change(select, { target: { value: 'sold' } });
    await fireEvent.input(getByTestId('wrapup-note'), { target: { value: 'Two licences' } });
    expect(done.disabled).toBe(false);
    await fireEvent.click(done);
    await waitFor(() => expect(wrap).toHaveBeenCalledWith('c1', 'sold', 'Two licences'));
  });

  it('sums up a sent wrap-up, and offers none for a chat that moved or was never taken', async () => {
    setAgent({ presence: 'available', load: 0, capacity: 3, wrap_codes: [{ id: 'sold', label: 'Sale made' }] });
    convs.list = [ended({ wrap_code: 'sold', wrap_note: 'Two licences' }), ended({ id: 'c2', moved: true }), ended({ id: 'c3', accepted_at: 0 })];
    convs.activeId = 'c1';
    const { getByTestId, queryByTestId } = render(ChatPanel);
    await tick();
    expect(getByTestId('wrapup-summary').textContent).toContain('Wrapped up: Sale made');
    expect(getByTestId('wrapup-summary').textContent).toContain('Two licences');
    expect(queryByTestId('wrapup')).toBeNull();
    for (const id of ['c2', 'c3']) {
      convs.activeId = id;
      await tick();
      expect(queryByTestId('wrapup')).toBeNull();
    }
    expect(agent.state.wrap_up).toBeUndefined();
  });

  it('with no hold, says new chats are offered meanwhile', async () => {
    setAgent({ presence: 'available', load: 0, capacity: 3, wrap_codes: [{ id: 'resolved', label: 'Resolved' }] });
    convs.list = [ended()];
    convs.activeId = 'c1';
    const { getByTestId } = render(ChatPanel);
    await tick();
    expect(getByTestId('wrapup-left').textContent).toContain('New chats are offered meanwhile');
  });
});

describe('the conversation list when nothing is open', () => {
  afterEach(() => {
    cleanup();
    resetConversations();
    offers.items = [];
    setAgent({ presence: 'available', load: 0, capacity: 3 });
  });

  it('shows no empty state beside an offer card', async () => {
    offers.items = [{ id: 'o1', conv: 'c9', customer_name: 'Ann', expires_at: clock.now + 30_000, received_at: clock.now } as OfferView];
    const { queryByTestId, getAllByTestId } = render(ConversationList);
    await tick();
    expect(getAllByTestId('offer').length).toBe(1);
    expect(queryByTestId('conversations-empty')).toBeNull();
  });

  it('tells an away agent how many customers wait, and nothing once available', async () => {
    setAgent({ presence: 'away', load: 0, capacity: 3, waiting: 2 });
    const { getByTestId, queryByTestId } = render(ConversationList);
    await tick();
    expect(getByTestId('waiting-customers').textContent).toContain('2 customers are waiting.');
    expect(queryByTestId('conversations-empty')).toBeNull();
    setAgent({ presence: 'available', load: 0, capacity: 3 });
    await tick();
    expect(queryByTestId('waiting-customers')).toBeNull();
    expect(getByTestId('conversations-empty').textContent).toContain('No conversations yet.');
  });
});
