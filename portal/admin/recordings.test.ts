import { describe, it, expect, vi, afterEach } from 'vitest';
import { render, cleanup, fireEvent } from '@testing-library/svelte';
import type * as wire from '../../web/wire.gen';

// The recorded calls page (/admin/{org}/recordings/) in jsdom against a stubbed hub API: what a
// supervisor reads in each row, the link to the playback page, paging and a refusal.
history.replaceState(null, '', '/admin/demo/recordings/');
const { default: Recordings } = await import('./src/Recordings.svelte');

const me: wire.Me = { user: { id: 'u1', org: 'demo', username: 'super1', display_name: 'Supervisor One', role: 'supervisor' }, org_name: 'Demo Co' } as wire.Me;

function recorded(n: number, over: Partial<wire.RecordedCall> = {}): wire.RecordedCall {
  return {
    call: `k${n}`,
    conv: `c${n}`,
    kind: 'voice',
    customer_name: `Customer ${n}`,
    agent: 'u_a',
    agent_name: 'Agent One',
    queue_name: 'Billing',
    started_at: Date.UTC(2026, 11, 1, 9, n),
    ended_at: Date.UTC(2026, 11, 1, 9, n) + 272_000,
    duration_ms: 272_000,
    page: `https://hub.example.com/admin/demo/recordings/c${n}`,
    ...over,
  };
}

function hub(answers: Array<{ status: number; body: unknown }>) {
  const asked: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      asked.push(url);
      const a = answers.shift() ?? { status: 500, body: { code: 'EINTERNAL', message: 'no more' } };
      return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'Content-Type': 'application/json' } });
    }),
  );
  return asked;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('recorded calls page', () => {
  it('lists the recorded calls with their customer, agent, queue and length, each linking to its playback page', async () => {
    const asked = hub([{ status: 200, body: { calls: [recorded(2), recorded(1, { kind: 'video', queue_name: '', duration_ms: 9_000 })], next: '1764579660000.k1' } }]);
    const { findAllByTestId, getByTestId } = render(Recordings, { me, onSignOut: () => {} });
    const rows = await findAllByTestId('recorded-row');
    expect(asked[0]).toBe('/api/v1/orgs/demo/recordings?limit=25');
    expect(rows.map((r) => r.getAttribute('data-call'))).toEqual(['k2', 'k1']);
    expect(rows[0].textContent).toContain('Customer 2');
    expect(rows[0].textContent).toContain('Agent One');
    expect(rows[0].textContent).toContain('Billing');
    expect(rows[0].textContent).toContain('Voice · 4:32');
    expect(rows[1].textContent).toContain('Video · 0:09');
    expect(rows[1].textContent).toContain('—'); // no queue
    const play = rows[0].querySelector('[data-testid="recorded-play"]') as HTMLAnchorElement;
    expect(play.textContent).toBe('Play');
    // The playback page on this hub, whatever address the hub was reached by.
    expect(play.getAttribute('href')).toBe('/admin/demo/recordings/c2');
    expect(getByTestId('recorded-more').textContent).toBe('Show older calls');
  });

  it('pages back with the cursor, and stops at the last page', async () => {
    const asked = hub([
      { status: 200, body: { calls: [recorded(3)], next: '1764579780000.k3' } },
      { status: 200, body: { calls: [recorded(2)] } },
    ]);
    const { findAllByTestId, getByTestId, queryByTestId } = render(Recordings, { me, onSignOut: () => {} });
    await findAllByTestId('recorded-row');
    await fireEvent.click(getByTestId('recorded-more'));
    await vi.waitFor(async () => expect((await findAllByTestId('recorded-row')).length).toBe(2));
    expect(asked[1]).toBe('/api/v1/orgs/demo/recordings?limit=25&before=1764579780000.k3');
    expect(queryByTestId('recorded-more')).toBeNull();
  });

  it('says when there is nothing, and gives a sentence, not the hub error, when refused', async () => {
    hub([{ status: 200, body: { calls: [] } }]);
    const first = render(Recordings, { me, onSignOut: () => {} });
    expect((await first.findByTestId('recorded-none')).textContent).toBe('No recorded call yet.');
    first.unmount();
    hub([{ status: 403, body: { code: 'EFORBIDDEN', message: 'only admin may do this' } }]);
    const { findByTestId, queryByTestId } = render(Recordings, { me, onSignOut: () => {} });
    const err = await findByTestId('recorded-error');
    expect(err.textContent).toBe('Only the organisation’s supervisors and admins may play call recordings.');
    expect(err.textContent).not.toContain('only admin');
    expect(queryByTestId('recorded-none')).toBeNull();
  });
});
