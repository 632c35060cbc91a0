import { describe, it, expect, afterEach } from 'vitest';
import { render, cleanup } from '@testing-library/svelte';
import Transcript from './Transcript.svelte';
import { createI18n } from './i18n';
import en from './locales/en';
import { upsertMessage, applyReceipt, type Item } from './transcript';
import type * as wire from './wire.gen';

const t = createI18n({ en }, ['en']);

function message(seq: number, text: string, author: wire.Author = 'agent', client_id?: string): wire.Message {
  return { conv: 'c1', seq, author, author_name: author === 'agent' ? 'Ana' : 'Bo', text, client_id, at: 1_700_000_000_000 };
}

describe('Transcript', () => {
  afterEach(cleanup);

  it('renders markup in a message as text, never as HTML', () => {
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>';
    const items = upsertMessage([], message(1, evil), 'customer');
    const { container } = render(Transcript, { items, mine: 'customer', t });
    expect(container.querySelector('img, script, b')).toBeNull();
    const line = container.querySelector('[data-testid="chat-message"]')!;
    expect(line.getAttribute('data-author')).toBe('agent');
    expect(line.textContent).toContain(evil);
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('shows delivery markers on our last message', () => {
    let items: Item[] = [];
    items = upsertMessage(items, message(1, 'hi', 'customer', 'a'), 'customer');
    items = upsertMessage(items, message(2, 'there', 'customer', 'b'), 'customer');
    items = applyReceipt(items, 2, 'read', 'customer');
    const { getAllByTestId } = render(Transcript, { items, mine: 'customer', t });
    const lines = getAllByTestId('chat-message');
    expect(lines.map((l) => l.dataset.status)).toEqual(['read', 'read']);
    expect(lines[1].textContent).toContain('Read');
    expect(lines[0].textContent).not.toContain('Read');
  });
});

describe('transcript model', () => {
  it('puts each message once, in sequence order, merging our pending copy', () => {
    let items: Item[] = [{ key: 'x', clientID: 'x', author: 'customer', name: '', text: 'pending', at: 0, status: 'sending' }];
    items = upsertMessage(items, message(2, 'second'), 'customer');
    items = upsertMessage(items, message(1, 'first'), 'customer');
    items = upsertMessage(items, message(2, 'second'), 'customer');
    items = upsertMessage(items, message(3, 'pending', 'customer', 'x'), 'customer');
    expect(items.map((i) => [i.seq, i.text, i.key])).toEqual([
      [1, 'first', 's1'],
      [2, 'second', 's2'],
      [3, 'pending', 'x'],
    ]);
    expect(items[2].status).toBe('sent');
  });

  it('never lowers a marker', () => {
    let items = upsertMessage([], message(1, 'a', 'customer', 'a'), 'customer');
    items = applyReceipt(items, 1, 'read', 'customer');
    items = applyReceipt(items, 1, 'delivered', 'customer');
    items = upsertMessage(items, message(1, 'a', 'customer', 'a'), 'customer');
    expect(items[0].status).toBe('read');
  });
});
