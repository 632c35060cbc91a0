import { describe, it, expect, afterEach, vi } from 'vitest';
import { render, cleanup, fireEvent, waitFor } from '@testing-library/svelte';
import { notices } from './stores/notices.svelte';
import type { ConversationView } from './api/types';
import type { Routing } from '../../web/wire.gen';
import TransferForm from './components/transfer/TransferForm.svelte';
import { transfer } from './components/transfer/transfer.svelte';
import { moreCommands } from './lib/commands';

const routing: Routing = {
  queues: [
    { id: 'general', name: 'General', default: true, hours: {}, service_level: { target_s: 30, percent: 80 } },
    { id: 'billing', name: 'Billing', hours: {}, service_level: { target_s: 30, percent: 80 } },
  ],
  members: [
    { user: 'u1', username: 'agent1', display_name: 'Agent One', role: 'agent', capacity: 3, queues: [], skills: [] },
    { user: 'u2', username: 'agent2', display_name: 'Agent Two', role: 'agent', capacity: 3, queues: [], skills: [] },
  ],
  prechat: { question: '', choices: [] },
};

function conv(): ConversationView {
  return { id: 'c1', state: 'active', customer_name: 'Dana', last_seq: 3, created_at: 1, unread: 0, customer_typing: false, delivered_seq: 0, read_seq: 0, queue: 'general' };
}

function backend(transferImpl: (...a: unknown[]) => Promise<void>) {
  const g = globalThis as Record<string, unknown>;
  g.runtime = { EventsOn: () => () => {} };
  const Transfer = vi.fn(transferImpl);
  g.go = { app: { Conversations: { TransferTargets: vi.fn(async () => routing), Transfer } } };
  return Transfer;
}

describe('transfer', () => {
  afterEach(() => {
    cleanup();
    notices.items = [];
    transfer.conv = '';
    delete (globalThis as Record<string, unknown>).go;
  });

  it('is in More commands for an active chat and opens the form', () => {
    const c = moreCommands.find((x) => x.id === 'transfer')!;
    expect(c.available(conv())).toBe(true);
    expect(c.available({ ...conv(), state: 'ended' })).toBe(false);
    c.run(conv());
    expect(transfer.conv).toBe('c1');
  });

  it('moves the chat to another queue with a note, or says in a sentence why nothing moved', async () => {
    let refuse = true;
    const call = backend(async () => {
      if (refuse) throw { code: 'EAGENTUNAVAILABLE', message: 'agent u2 is away' };
    });
    transfer.conv = 'c1';
    const r = render(TransferForm, { conv: conv() });
    // The first other queue is picked.
    await waitFor(() => expect((r.getByTestId('transfer-queue') as HTMLSelectElement).value).toBe('billing'));
    // To a colleague: only others are listed.
    await fireEvent.click(r.getByTestId('transfer-to-agent'));
    const agents = [...(r.getByTestId('transfer-agent') as HTMLSelectElement).options].map((o) => o.textContent);
    expect(agents).toContain('Agent Two');
    expect((r.getByTestId('transfer-submit') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.change(r.getByTestId('transfer-agent'), { target: { value: 'u2' } });
    await fireEvent.input(r.getByTestId('transfer-note'), { target: { value: 'Wants a refund' } });
    await fireEvent.click(r.getByTestId('transfer-submit'));
    await waitFor(() => expect(r.getByTestId('transfer-error').textContent).toContain('not available'));
    expect(r.getByTestId('transfer-error').textContent).not.toContain('u2');
    expect(call).toHaveBeenLastCalledWith('c1', '', 'u2', 'Wants a refund');
    expect(transfer.conv).toBe('c1');

    refuse = false;
    await fireEvent.click(r.getByTestId('transfer-to-queue'));
    await fireEvent.click(r.getByTestId('transfer-submit'));
    await waitFor(() => expect(transfer.conv).toBe(''));
    expect(call).toHaveBeenLastCalledWith('c1', 'billing', '', 'Wants a refund');
    expect(notices.items.at(-1)?.text).toBe('Transferred to Billing.');
  });
});
