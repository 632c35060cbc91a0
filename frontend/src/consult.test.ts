import { describe, it, expect, afterEach, vi } from 'vitest';
import { render, cleanup, fireEvent, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import { notices } from './stores/notices.svelte';
import { addMessage, convs, resetConversations } from './stores/conversations.svelte';
import { session } from './stores/session.svelte';
import type { ConversationView, MessageView } from './api/types';
import type { Routing } from '../../web/wire.gen';
import ChatPanel from './components/ChatPanel.svelte';
import ConsultForm from './components/consult/ConsultForm.svelte';
import { consult } from './components/consult/consult.svelte';
import { moreCommands } from './lib/commands';

const routing: Routing = {
  queues: [{ id: 'general', name: 'General', default: true, hours: {}, service_level: { target_s: 30, percent: 80 } }],
  members: [
    { user: 'u1', username: 'agent1', display_name: 'Agent One', role: 'agent', capacity: 3, queues: [], skills: [] },
    { user: 'u2', username: 'agent2', display_name: 'Agent Two', role: 'agent', capacity: 3, queues: [], skills: [] },
    { user: 'u3', username: 'super1', display_name: 'Supervisor One', role: 'supervisor', capacity: 3, queues: [], skills: [] },
    { user: 'u4', username: 'admin', display_name: 'Admin', role: 'admin', capacity: 0, queues: [], skills: [] },
  ],
  prechat: { question: '', choices: [] },
};

function conv(over: Partial<ConversationView> = {}): ConversationView {
  return { id: 'c1', state: 'active', customer_name: 'Dana', agent_id: 'u1', agent_name: 'Agent One', last_seq: 0, created_at: 1, accepted_at: 2, unread: 0, customer_typing: false, delivered_seq: 0, read_seq: 0, ...over };
}

function msg(seq: number, text: string, author: MessageView['author'], over: Partial<MessageView> = {}): MessageView {
  return { conv: 'c1', seq, author, author_name: author === 'customer' ? 'Dana' : 'Agent One', text, at: 1_700_000_000_000, ...over };
}

function backend() {
  const g = globalThis as Record<string, unknown>;
  g.runtime = { EventsOn: () => () => {} };
  const fns = {
    TransferTargets: vi.fn(async () => routing),
    Consult: vi.fn(async (_id: string, user: string) => {
      if (user === 'u2') throw { code: 'EAGENTUNAVAILABLE', message: 'agent u2 is offline' };
    }),
    SendNote: vi.fn(async () => msg(9, 'n', 'agent', { internal: true })),
    Send: vi.fn(async () => msg(9, 'm', 'agent')),
    SetTyping: vi.fn(async () => {}),
    StopConsulting: vi.fn(async () => {}),
  };
  g.go = { app: { Conversations: fns } };
  return fns;
}

describe('consult', () => {
  afterEach(() => {
    cleanup();
    resetConversations();
    notices.items = [];
    consult.conv = '';
    delete (globalThis as Record<string, unknown>).go;
  });

  it('is in More commands for the agent\'s own active chat, not for one they read along in', () => {
    const c = moreCommands.find((x) => x.id === 'consult')!;
    expect(c.available(conv())).toBe(true);
    expect(c.available(conv({ consulting: true }))).toBe(false);
    expect(c.available(conv({ moved: true }))).toBe(false);
    expect(moreCommands.find((x) => x.id === 'transfer')!.available(conv({ consulting: true }))).toBe(false);
  });

  it('invites a colleague or supervisor with a note, and says in a sentence why not', async () => {
    const fns = backend();
    session.view = { ...session.view, user: { id: 'u1', org: 'demo', username: 'agent1', display_name: 'Agent One', role: 'agent' } };
    consult.conv = 'c1';
    const r = render(ConsultForm, { conv: conv({ consultants: [{ id: 'u3', name: 'Supervisor One' }] }) });
    await waitFor(() => expect(r.getAllByRole('option').length).toBeGreaterThan(1));
    // Not me, not an admin, not who already reads along.
    expect(r.getAllByRole('option').map((o) => o.textContent)).toEqual(['Pick a colleague', 'Agent Two']);
    await fireEvent.change(r.getByTestId('consult-member'), { target: { value: 'u2' } });
    await fireEvent.input(r.getByTestId('consult-note'), { target: { value: 'Refund over 100?' } });
    await fireEvent.submit(r.getByTestId('consult-form'));
    await waitFor(() => expect(r.getByTestId('consult-error').textContent).toBeTruthy());
    expect(r.getByTestId('consult-error').textContent).toMatch(/^That person is not available right now/);
    expect(consult.conv).toBe('c1');
    cleanup();
    const r2 = render(ConsultForm, { conv: conv() });
    await waitFor(() => expect(r2.getAllByRole('option').length).toBe(3));
    expect(r2.getAllByRole('option').map((o) => o.textContent)).toEqual(['Pick a colleague', 'Agent Two', 'Supervisor One (supervisor)']);
    await fireEvent.change(r2.getByTestId('consult-member'), { target: { value: 'u3' } });
    await fireEvent.input(r2.getByTestId('consult-note'), { target: { value: 'Refund over 100?' } });
    await fireEvent.submit(r2.getByTestId('consult-form'));
    await waitFor(() => expect(fns.Consult).toHaveBeenLastCalledWith('c1', 'u3', 'Refund over 100?'));
    await waitFor(() => expect(consult.conv).toBe(''));
    expect(notices.items.at(-1)?.text).toBe('Supervisor One is reading along.');
  });

  it('the agent writes internal notes with Note, marked as such; no typing goes to the customer', async () => {
    const fns = backend();
    session.view = { ...session.view, user: { id: 'u1', org: 'demo', username: 'agent1', display_name: 'Agent One', role: 'agent' } };
    convs.list = [conv({ consultants: [{ id: 'u3', name: 'Supervisor One' }] })];
    convs.activeId = 'c1';
    addMessage(msg(1, 'Can I get a refund?', 'customer'));
    addMessage(msg(2, 'Yes within 30 days', 'agent', { internal: true, author_name: 'Supervisor One' }));
    const r = render(ChatPanel);
    await tick();
    expect(r.getByTestId('consultants').textContent).toBe('Reading along: Supervisor One');
    const lines = r.getAllByTestId('chat-message');
    expect(lines[1].getAttribute('data-internal')).toBe('true');
    expect(lines[1].textContent).toContain('Internal note');
    expect(lines[1].textContent).toContain('Supervisor One');
    await fireEvent.click(r.getByTestId('chat-note-toggle'));
    expect(r.getByTestId('chat-note-toggle').getAttribute('aria-pressed')).toBe('true');
    await fireEvent.input(r.getByTestId('chat-input'), { target: { value: 'Thanks, doing it' } });
    await fireEvent.click(r.getByTestId('chat-send'));
    await waitFor(() => expect(fns.SendNote).toHaveBeenCalledWith('c1', 'Thanks, doing it'));
    expect(fns.Send).not.toHaveBeenCalled();
    expect(fns.SetTyping).not.toHaveBeenCalled();
  });

  it('one reading along writes notes only, has no End, and stops reading along', async () => {
    const fns = backend();
    session.view = { ...session.view, user: { id: 'u3', org: 'demo', username: 'super1', display_name: 'Supervisor One', role: 'supervisor' } };
    convs.list = [conv({ consulting: true })];
    convs.activeId = 'c1';
    addMessage(msg(1, 'Hello', 'agent'));
    const r = render(ChatPanel);
    await tick();
    expect(r.getByTestId('conversation-state').textContent).toBe('Reading along · Agent One');
    expect(r.queryByTestId('end-conversation')).toBeNull();
    expect(r.queryByTestId('chat-note-toggle')).toBeNull();
    // The agent's message is Agent One's, not "You"; no receipts for it here.
    expect(r.getAllByTestId('chat-message')[0].textContent).toContain('Agent One');
    expect(r.queryByTestId('receipt')).toBeNull();
    await fireEvent.input(r.getByTestId('chat-input'), { target: { value: 'Approved' } });
    await fireEvent.click(r.getByTestId('chat-send'));
    await waitFor(() => expect(fns.SendNote).toHaveBeenCalledWith('c1', 'Approved'));
    expect(fns.Send).not.toHaveBeenCalled();
    await fireEvent.click(r.getByTestId('consult-leave'));
    await waitFor(() => expect(fns.StopConsulting).toHaveBeenCalledWith('c1'));
  });
});

describe('a chat that moved on', () => {
  afterEach(() => {
    cleanup();
    resetConversations();
  });

  it('names the queue it waits in, or the agent who has it', async () => {
    session.view = { ...session.view, user: { id: 'u1', org: 'demo', username: 'agent1', display_name: 'Agent One', role: 'agent' } };
    convs.list = [conv({ moved: true, state: 'waiting', agent_id: undefined, agent_name: undefined, queue: 'sales', queue_name: 'Sales' })];
    convs.activeId = 'c1';
    let r = render(ChatPanel);
    await tick();
    expect(r.getByTestId('conversation-moved').textContent).toBe('This chat is waiting in Sales now: the next available agent there continues it.');
    cleanup();
    convs.list = [conv({ moved: true, agent_id: 'u2', agent_name: 'Agent Two' })];
    r = render(ChatPanel);
    await tick();
    expect(r.getByTestId('conversation-moved').textContent).toBe('This chat is with Agent Two now.');
  });
});
