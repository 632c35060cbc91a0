import { describe, it, expect, afterEach, vi } from 'vitest';
import { render, cleanup, fireEvent, waitFor } from '@testing-library/svelte';
import type { ConversationView } from './api/types';
import type { QuickReply } from '../../web/wire.gen';
import QuickReplyPicker from './components/quickreplies/QuickReplyPicker.svelte';
import { fill, matches, query, shortcutOK } from './components/quickreplies/quickreplies';
import { replies } from './components/quickreplies/quickreplies.svelte';
import { session } from './stores/session.svelte';

const list: QuickReply[] = [
  { id: 'q1', scope: 'org', shortcut: 'hello', text: 'Hi {customer_name}, I am {agent_name}.', updated_at: 1 },
  { id: 'q2', scope: 'org', shortcut: 'bye', text: 'Thanks for chatting, {customer_name}!', updated_at: 1 },
  { id: 'q3', scope: 'queue', queue: 'billing', shortcut: 'refund', text: 'Your refund is on its way.', updated_at: 1 },
  { id: 'q4', scope: 'personal', owner: 'u1', shortcut: 'help-seats', text: 'Forty seats get 10% off.', updated_at: 1 },
];

describe('quick replies: matching and placeholders', () => {
  it('opens only on a draft that is "/" and one word', () => {
    expect(query('/')).toBe('');
    expect(query('/Ref')).toBe('ref');
    expect(query('hello /ref')).toBeNull();
    expect(query('/ref ')).toBeNull();
    expect(query('/a/b')).toBeNull();
  });

  it('lists prefix matches first, a queue\'s replies only in that queue, own replies before shared ones', () => {
    const s = (l: QuickReply[]) => l.map((r) => r.shortcut);
    expect(s(matches(list, '', 'general'))).toEqual(['help-seats', 'bye', 'hello']);
    expect(s(matches(list, '', 'billing'))).toEqual(['help-seats', 'refund', 'bye', 'hello']);
    expect(s(matches(list, 'he', 'general'))).toEqual(['help-seats', 'hello']);
    expect(s(matches(list, 'seats', 'general'))).toEqual(['help-seats']);
    // Two letters or more also search the text.
    expect(s(matches(list, 'refund', 'billing'))).toEqual(['refund']);
    expect(s(matches(list, 'way', 'billing'))).toEqual(['refund']);
    expect(s(matches(list, 'zz', 'billing'))).toEqual([]);
  });

  it('fills the placeholders it knows and leaves others as typed', () => {
    expect(fill('Hi {customer_name}, I am {agent_name} from {queue} {unknown}', { customer_name: 'Bea', agent_name: 'Agent One', queue: 'Billing' }))
      .toBe('Hi Bea, I am Agent One from Billing {unknown}');
    expect(shortcutOK('refund-2')).toBe(true);
    expect(shortcutOK('Refund')).toBe(false);
    expect(shortcutOK('')).toBe(false);
  });
});

function conv(queue = 'billing'): ConversationView {
  return { id: 'c1', state: 'active', customer_name: 'Bea', last_seq: 3, created_at: 1, unread: 0, customer_typing: false, delivered_seq: 0, read_seq: 0, queue, queue_name: 'Billing' };
}

function backend() {
  const g = globalThis as Record<string, unknown>;
  g.runtime = { EventsOn: () => () => {} };
  const calls = {
    QuickReplies: vi.fn(async () => list),
    SaveQuickReply: vi.fn(async (id: string, shortcut: string, text: string) => {
      if (shortcut === 'taken') throw { code: 'ETOOLARGE', message: 'too many quick replies' };
      return { id: 'q9', scope: 'personal', owner: 'u1', shortcut, text, updated_at: 2 };
    }),
    DeleteQuickReply: vi.fn(async () => {}),
  };
  g.go = { app: { Conversations: calls } };
  return calls;
}

function key(k: string): KeyboardEvent {
  return new KeyboardEvent('keydown', { key: k, cancelable: true });
}

describe('QuickReplyPicker', () => {
  afterEach(() => {
    cleanup();
    replies.list = [];
    replies.loadedAt = 0;
    delete (globalThis as Record<string, unknown>).go;
  });

  it('lists the matches as the agent types, moves with the arrows and inserts with Enter, placeholders filled', async () => {
    const calls = backend();
    session.view = { ...session.view, user: { id: 'u1', org: 'demo', username: 'agent1', display_name: 'Agent One', role: 'agent' } };
    const picked: string[] = [];
    const r = render(QuickReplyPicker, { conv: conv(), draft: '/', onpick: (t: string) => picked.push(t), onclose: () => {} });
    await waitFor(() => expect(r.getByTestId('quick-reply-refund')).toBeTruthy());
    expect(calls.QuickReplies).toHaveBeenCalledTimes(1);
    expect(r.getAllByRole('option').map((o) => o.getAttribute('data-testid'))).toEqual(['quick-reply-help-seats', 'quick-reply-refund', 'quick-reply-bye', 'quick-reply-hello']);
    expect(r.getByTestId('quick-reply-help-seats').getAttribute('aria-selected')).toBe('true');
    const picker = r.component as unknown as { key(e: KeyboardEvent): boolean };
    await r.rerender({ draft: '/h' });
    expect(r.getAllByRole('option').map((o) => o.getAttribute('data-testid'))).toEqual(['quick-reply-help-seats', 'quick-reply-hello']);
    // Down wraps round; Up goes back round.
    expect(picker.key(key('ArrowDown'))).toBe(true);
    expect(picker.key(key('ArrowDown'))).toBe(true);
    await waitFor(() => expect(r.getByTestId('quick-reply-help-seats').getAttribute('aria-selected')).toBe('true'));
    expect(picker.key(key('ArrowUp'))).toBe(true);
    await waitFor(() => expect(r.getByTestId('quick-reply-hello').getAttribute('aria-selected')).toBe('true'));
    const enter = key('Enter');
    expect(picker.key(enter)).toBe(true);
    expect(enter.defaultPrevented).toBe(true);
    expect(picked).toEqual(['Hi Bea, I am Agent One.']);
    // Escape closes it for this draft and gives the keys back (Enter then sends).
    expect(picker.key(key('Escape'))).toBe(true);
    await waitFor(() => expect(r.queryByTestId('quick-replies')).toBeNull());
    expect(picker.key(key('Enter'))).toBe(false);
  });

  it('does not show a queue\'s replies in another queue\'s chat, and says when nothing matches', async () => {
    backend();
    const r = render(QuickReplyPicker, { conv: conv('general'), draft: '/ref', onpick: () => {}, onclose: () => {} });
    await waitFor(() => expect(r.getByTestId('quick-replies-none').textContent).toBe('No quick reply matches /ref.'));
    // Enter with nothing to pick does not send "/ref" as a message.
    const picker = r.component as unknown as { key(e: KeyboardEvent): boolean };
    expect(picker.key(key('Enter'))).toBe(true);
  });

  it('adds the agent\'s own reply (checked before it is sent, refusals in a sentence) and removes it', async () => {
    const calls = backend();
    const picked: string[] = [];
    const r = render(QuickReplyPicker, { conv: conv(), draft: '/promo', onpick: (t: string) => picked.push(t), onclose: () => {} });
    await waitFor(() => expect(r.getByTestId('quick-reply-add')).toBeTruthy());
    await fireEvent.click(r.getByTestId('quick-reply-add'));
    expect((r.getByTestId('quick-reply-shortcut') as HTMLInputElement).value).toBe('promo');
    await fireEvent.input(r.getByTestId('quick-reply-shortcut'), { target: { value: 'Promo!' } });
    await fireEvent.input(r.getByTestId('quick-reply-text'), { target: { value: 'Spring offer: {queue} plans 20% off' } });
    await fireEvent.submit(r.getByTestId('quick-reply-form'));
    expect(r.getByRole('alert').textContent).toMatch(/lower-case letters/);
    expect(calls.SaveQuickReply).not.toHaveBeenCalled();
    await fireEvent.input(r.getByTestId('quick-reply-shortcut'), { target: { value: 'taken' } });
    await fireEvent.submit(r.getByTestId('quick-reply-form'));
    await waitFor(() => expect(r.getByRole('alert').textContent).not.toMatch(/lower-case/));
    expect(r.getByRole('alert').textContent).not.toMatch(/ETOOLARGE|too many quick replies/);
    await fireEvent.input(r.getByTestId('quick-reply-shortcut'), { target: { value: 'promo' } });
    await fireEvent.submit(r.getByTestId('quick-reply-form'));
    await waitFor(() => expect(picked).toEqual(['Spring offer: Billing plans 20% off']));
    expect(calls.SaveQuickReply).toHaveBeenLastCalledWith('', 'promo', 'Spring offer: {queue} plans 20% off');
    expect(replies.list.some((x) => x.shortcut === 'promo' && x.scope === 'personal')).toBe(true);
    await waitFor(() => expect(r.getByTestId('quick-reply-delete-promo')).toBeTruthy());
    await fireEvent.click(r.getByTestId('quick-reply-delete-promo'));
    await waitFor(() => expect(r.queryByTestId('quick-reply-promo')).toBeNull());
    expect(calls.DeleteQuickReply).toHaveBeenCalledWith('q9');
  });
});
