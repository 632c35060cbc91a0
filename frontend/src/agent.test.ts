import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { render, cleanup, fireEvent, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import { toUIError } from './api/backend';
import { duration, locales } from './lib/i18n';
import { createI18n, type Messages } from '../../web/i18n';
import { addMessage, convs, resetConversations } from './stores/conversations.svelte';
import { session } from './stores/session.svelte';
import type { SessionView } from './api/types';
import { moreCommands, registerCommand } from './lib/commands';
import type { ConversationView, MessageView } from './api/types';
import ChatPanel from './components/ChatPanel.svelte';
import MoreMenu from './components/MoreMenu.svelte';

function keys(m: Messages, prefix = ''): string[] {
  return Object.entries(m).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`)));
}

function conv(over: Partial<ConversationView> = {}): ConversationView {
  return {
    id: 'c1', state: 'active', customer_name: 'Dana', last_seq: 0, created_at: 1, accepted_at: 2, unread: 0,
    customer_typing: false, delivered_seq: 0, read_seq: 0, ...over,
  };
}

function msg(seq: number, text: string, author: MessageView['author'] = 'customer', event?: MessageView['event']): MessageView {
  return { conv: 'c1', seq, author, author_name: 'Dana', text, at: 1_700_000_000_000, event };
}

describe('locales', () => {
  it('Spanish has every key English has', () => {
    const es = new Set(keys(locales.es));
    expect(keys(locales.en).filter((k) => !es.has(k))).toEqual([]);
  });

  it('formats durations', () => {
    const t = createI18n(locales, ['en']);
    expect([duration(4_500, t), duration(125_000, t), duration(3_900_000, t)]).toEqual(['4s', '2m', '1h 5m']);
  });
});

describe('toUIError', () => {
  it.each([
    [{ code: 'EUNAUTHORIZED', message: 'bad password' }, 'EUNAUTHORIZED'],
    ['ETOOLARGE: message of 5000 bytes', 'ETOOLARGE'],
    [new Error('boom'), 'EINTERNAL'],
    [undefined, 'EINTERNAL'],
  ])('%j has code %s', (input, code) => {
    expect(toUIError(input).code).toBe(code);
  });
});

describe('conversation store', () => {
  afterEach(resetConversations);

  it('keeps messages once each, in sequence order', () => {
    for (const seq of [2, 1, 3, 2]) addMessage(msg(seq, `m${seq}`));
    expect(convs.messages.c1.map((m) => m.seq)).toEqual([1, 2, 3]);
  });
});

describe('communication panel', () => {
  afterEach(() => {
    cleanup();
    resetConversations();
  });

  it('renders customer text as text and has End and More commands next to each other', async () => {
    const evil = '<img src=x onerror="window.__pwned=1"><b>hi</b>';
    convs.list = [conv({ read_seq: 2 })];
    convs.activeId = 'c1';
    addMessage(msg(1, evil));
    addMessage(msg(2, 'ok', 'agent'));
    addMessage(msg(3, 'Agent One joined.', 'system'));
    const { container, getByTestId } = render(ChatPanel);
    await tick();
    expect(container.querySelector('.bubble img, .bubble b')).toBeNull();
    const lines = [...container.querySelectorAll('[data-testid="chat-message"]')];
    expect(lines.map((l) => l.getAttribute('data-author'))).toEqual(['customer', 'agent', 'system']);
    expect(lines[0].textContent).toContain(evil);
    expect(getByTestId('receipt').getAttribute('data-receipt')).toBe('read');
    const end = getByTestId('end-conversation');
    expect(end.parentElement?.contains(getByTestId('more-commands'))).toBe(true);
    expect(getByTestId('chat-input')).toBeTruthy();
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('has no composer and a disabled End once ended', async () => {
    convs.list = [conv({ state: 'ended', ended_by: 'customer', ended_at: 3 })];
    convs.activeId = 'c1';
    const { queryByTestId, getByTestId } = render(ChatPanel);
    await tick();
    expect(queryByTestId('chat-input')).toBeNull();
    expect((getByTestId('end-conversation') as HTMLButtonElement).disabled).toBe(true);
    expect(getByTestId('conversation-ended').textContent).toBe('The customer left the conversation.');
  });
});

describe('ending a conversation', () => {
  afterEach(() => {
    cleanup();
    resetConversations();
    delete (globalThis as Record<string, unknown>).go;
  });

  it('asks before ending, and Keep chatting ends nothing', async () => {
    const endFn = vi.fn(async () => {});
    const g = globalThis as Record<string, unknown>;
    g.runtime = { EventsOn: () => () => {} };
    g.go = { app: { Conversations: { End: endFn, SetTyping: vi.fn(async () => {}) } } };
    convs.list = [conv({})];
    convs.activeId = 'c1';
    const { getByTestId, queryByTestId } = render(ChatPanel);
    await tick();
    await fireEvent.click(getByTestId('end-conversation'));
    expect(getByTestId('end-warning').textContent).toContain('cannot write in it again');
    await fireEvent.click(getByTestId('confirm-cancel'));
    expect(queryByTestId('confirm-dialog')).toBeNull();
    expect(endFn).not.toHaveBeenCalled();
    await fireEvent.click(getByTestId('end-conversation'));
    await fireEvent.click(getByTestId('confirm-ok'));
    await waitFor(() => expect(endFn).toHaveBeenCalledWith('c1'));
  });

  it('says how it ended once: the note under a logged end line only says it is closed', async () => {
    convs.list = [conv({ state: 'ended', ended_by: 'agent', ended_at: 3 })];
    convs.activeId = 'c1';
    addMessage(msg(1, 'Agent One ended the conversation.', 'system', { kind: 'ended', name: 'Agent One' }));
    const { getByTestId, container } = render(ChatPanel);
    await tick();
    expect(container.textContent?.match(/ended the conversation/g)?.length).toBe(1);
    expect(getByTestId('conversation-ended').textContent).toBe('This conversation is closed.');
  });
});

describe('a supervisor on someone else\'s chat', () => {
  const signedOut = { ...session.view };
  afterEach(() => {
    cleanup();
    resetConversations();
    session.view = { ...signedOut };
    delete (globalThis as Record<string, unknown>).go;
  });

  function as(role: 'agent' | 'supervisor' | 'admin', id: string): SessionView {
    return { ...signedOut, signed_in: true, connection: 'online', user: { id, org: 'demo', username: id, display_name: id, role } } as SessionView;
  }

  function backend() {
    const end = vi.fn(async () => {});
    const close = vi.fn(async () => {});
    const g = globalThis as Record<string, unknown>;
    g.runtime = { EventsOn: () => () => {} };
    g.go = { app: { Conversations: { End: end, SetTyping: vi.fn(async () => {}) }, Supervisor: { Close: close } } };
    return { end, close };
  }

  // The hub refuses anyone's conv.end but the assigned agent's (EFORBIDDEN): a supervisor is
  // offered Close (supervisor.close, logged as theirs) instead of an End that can only fail.
  it.each(['supervisor', 'admin'] as const)('gives the %s Close instead of End, asks first, and sends supervisor.close', async (role) => {
    const { end, close } = backend();
    session.view = as(role, 'sup1');
    convs.list = [conv({ agent_id: 'u1', agent_name: 'Agent One' })];
    convs.activeId = 'c1';
    const { getByTestId, queryByTestId } = render(ChatPanel);
    await tick();
    expect(queryByTestId('end-conversation')).toBeNull();
    expect(queryByTestId('chat-input')).toBeNull(); // the hub refuses their chat.send too
    expect(queryByTestId('visual-engagement')).toBeNull(); // and their visual.invite
    expect(getByTestId('conversation-watching').textContent).toContain('Agent One');
    await fireEvent.click(getByTestId('supervisor-close'));
    expect(getByTestId('close-warning').textContent).toContain('Agent One can no longer write in it');
    await fireEvent.click(getByTestId('confirm-cancel'));
    expect(close).not.toHaveBeenCalled();
    await fireEvent.click(getByTestId('supervisor-close'));
    await fireEvent.click(getByTestId('confirm-ok'));
    await waitFor(() => expect(close).toHaveBeenCalledWith('c1'));
    expect(end).not.toHaveBeenCalled();
  });

  it('keeps End for the chat\'s own agent', async () => {
    backend();
    session.view = as('agent', 'u1');
    convs.list = [conv({ agent_id: 'u1', agent_name: 'Agent One' })];
    convs.activeId = 'c1';
    const { getByTestId, queryByTestId } = render(ChatPanel);
    await tick();
    expect(queryByTestId('supervisor-close')).toBeNull();
    expect((getByTestId('end-conversation') as HTMLButtonElement).disabled).toBe(false);
    expect(getByTestId('chat-input')).toBeTruthy();
  });

  it('shows no Close once the chat has ended', async () => {
    backend();
    session.view = as('supervisor', 'sup1');
    convs.list = [conv({ agent_id: 'u1', agent_name: 'Agent One', state: 'ended', ended_at: 3 })];
    convs.activeId = 'c1';
    const { getByTestId, queryByTestId } = render(ChatPanel);
    await tick();
    expect(queryByTestId('supervisor-close')).toBeNull();
    expect((getByTestId('end-conversation') as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('More commands menu', () => {
  beforeEach(() => {
    moreCommands.length = 0; // modules register theirs (Transfer) on import
  });
  afterEach(() => {
    cleanup();
    moreCommands.length = 0;
  });

  it('says so when there are no commands, and closes with Escape', async () => {
    const { getByTestId, queryByTestId } = render(MoreMenu, { conv: conv() });
    await fireEvent.click(getByTestId('more-commands'));
    expect(getByTestId('more-commands-menu').textContent).toContain('No more commands');
    expect(getByTestId('more-commands').getAttribute('aria-expanded')).toBe('true');
    await fireEvent.keyDown(getByTestId('more-commands-menu'), { key: 'Escape' });
    expect(queryByTestId('more-commands-menu')).toBeNull();
  });

  it('lists registered commands and runs the chosen one', async () => {
    const run = vi.fn();
    registerCommand({ id: 'voice', labelKey: 'panel.send', icon: 'M0 0', available: () => true, run });
    registerCommand({ id: 'video', labelKey: 'panel.end', icon: 'M0 0', available: () => false, run });
    const { getByTestId } = render(MoreMenu, { conv: conv() });
    await fireEvent.click(getByTestId('more-commands'));
    expect((getByTestId('video') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(getByTestId('voice'));
    expect(run).toHaveBeenCalledWith(expect.objectContaining({ id: 'c1' }));
  });
});
