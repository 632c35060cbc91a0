import { describe, it, expect, afterEach, vi } from 'vitest';
import { render, cleanup, fireEvent, waitFor } from '@testing-library/svelte';
import { team } from './stores/supervisor.svelte';
import { receive } from './api/backend';
import { notices } from './stores/notices.svelte';
import type { SupervisorView } from './api/types';
import type * as wire from '../../web/wire.gen';
import TeamView from './components/TeamView.svelte';
import { setMonitor } from './stores/monitor.svelte';

function view(over: Partial<SupervisorView> = {}): SupervisorView {
  return {
    agents: [
      { id: 'u1', display_name: 'Agent One', presence: 'available', load: 3, capacity: 3, online: true, on_call: true },
      { id: 'u2', display_name: 'Agent Two', presence: 'available', load: 1, capacity: 3, online: true, on_call: false },
    ],
    conversations: [],
    updated_at: 1,
    stats: {
      since_ms: 1, with_call: 2, without_call: 5, aht_with_call_ms: 250_000, aht_without_call_ms: 61_000,
      calls: { accepted_video: 2, declined: 1, missed: 3 }, avg_call_ms: 125_000, resolved: 6, abandoned: 1, auto_closed: 2,
    },
    queues: [],
    ...over,
  };
}

// fakeBackend puts the supervisor's bindings and the clipboard where the Wails runtime would.
function fakeBackend(save: () => Promise<string>) {
  const g = globalThis as Record<string, unknown>;
  const clip = vi.fn(async (_text: string) => true);
  g.runtime = { EventsOn: () => () => {}, ClipboardSetText: clip };
  const fetch = vi.fn(async (report: string) => `${report},header\r\n`);
  const saveCSV = vi.fn(save);
  g.go = { app: { Supervisor: { SaveCSV: saveCSV, FetchCSV: fetch } } };
  return { clip, fetch, saveCSV };
}

describe('team view figures', () => {
  afterEach(() => {
    cleanup();
    notices.items = [];
    delete (globalThis as Record<string, unknown>).go;
  });

  it('shows handle time with and without calls, call outcomes and who is on a call', () => {
    team.view = view();
    const r = render(TeamView);
    expect(r.getByTestId('team-stats')).toBeTruthy();
    expect(r.getByTestId('aht-with-call').textContent).toBe('4m');
    expect(r.getByTestId('aht-without-call').textContent).toBe('1m');
    expect(r.getByTestId('avg-call').textContent).toBe('2m');
    const chips = Object.fromEntries(r.getAllByTestId('call-outcome').map((c) => [c.dataset.outcome, c.textContent?.trim()]));
    expect(chips).toMatchObject({ accepted_video: 'Video 2', declined: 'Declined 1', missed: 'Missed 3', accepted_audio: 'Voice 0' });

    const rows = r.getAllByTestId('team-agent');
    const one = rows.find((row) => row.dataset.agent === 'u1')!;
    const two = rows.find((row) => row.dataset.agent === 'u2')!;
    expect(one.querySelector('[data-testid="agent-on-call"]')?.textContent).toContain('On a call');
    expect(two.querySelector('[data-testid="agent-on-call"]')).toBeNull();
    expect((one.querySelector('.fill') as HTMLElement).style.width).toBe('100%');
  });

  it('shows each queue\'s figures: waiting now, longest wait, service level against its target, abandonment, agents', () => {
    const q = (over: Partial<wire.QueueStats>): wire.QueueStats => ({
      queue: 'general', name: 'General', waiting: 0, longest_wait_ms: 0, agents_online: 2, agents_available: 1, estimated_wait_ms: 0,
      since_ms: 1, answered: 0, abandoned: 0, messages: 0, transferred: 0, service_level_pct: -1, target: { target_s: 30, percent: 80 },
      asa_ms: 0, abandon_pct: -1, first_response_ms: 0, with_call: 0, without_call: 0, aht_with_call_ms: 0, aht_without_call_ms: 0, ...over,
    });
    team.view = view({ queues: [
      q({}),
      q({ queue: 'billing', name: 'Billing', waiting: 2, longest_wait_ms: 95_000, answered: 3, abandoned: 1, service_level_pct: 50, abandon_pct: 25, asa_ms: 40_000 }),
    ] });
    const r = render(TeamView);
    const rows = Object.fromEntries(r.getAllByTestId('queue-figures').map((row) => [row.dataset.queue, row]));
    const cell = (queue: string, id: string) => rows[queue].querySelector(`[data-testid="${id}"]`)?.textContent?.trim();
    expect(Object.keys(rows)).toEqual(['general', 'billing']);
    // Nothing answered yet: dashes, not 0 %.
    expect([cell('general', 'queue-waiting'), cell('general', 'queue-longest'), cell('general', 'queue-service-level'), cell('general', 'queue-abandoned')]).toEqual(['0', '—', '—', '—']);
    expect([cell('billing', 'queue-waiting'), cell('billing', 'queue-longest'), cell('billing', 'queue-service-level'), cell('billing', 'queue-asa'), cell('billing', 'queue-abandoned')]).toEqual(['2', '1m', '50%', '40s', '25%']);
    // Under the 80 % target: marked.
    expect(rows.billing.querySelector('[data-testid="queue-service-level"]')?.classList.contains('bad')).toBe(true);
    expect(cell('general', 'queue-agents')).toBe('1 free of 2');
  });

  it("shows each agent's last setup check, with what failed as its sentences", () => {
    const at = new Date(2026, 11, 4, 10, 32).getTime();
    team.view = view({
      agents: [
        { id: 'u1', display_name: 'Agent One', presence: 'available', load: 0, capacity: 3, online: true, on_call: false, setup: { status: 'fail', problems: ['udp_blocked', 'mic_denied'], at } },
        { id: 'u2', display_name: 'Agent Two', presence: 'available', load: 0, capacity: 3, online: true, on_call: false },
      ],
    });
    const r = render(TeamView);
    const rows = r.getAllByTestId('team-agent');
    const one = rows.find((row) => row.dataset.agent === 'u1')!.querySelector('[data-testid="agent-setup"]') as HTMLElement;
    expect(one.dataset.status).toBe('fail');
    expect(one.textContent).toMatch(/Setup check failed at 10:32/);
    expect(one.title).toContain('UDP is blocked: calls will use TCP through the relay, quality may drop.');
    expect(one.title).toContain('Parley may not use the microphone');
    expect(rows.find((row) => row.dataset.agent === 'u2')!.querySelector('[data-testid="agent-setup"]')).toBeNull();
  });

  it('listens to, whispers on and joins an agent\'s call; shows the leg and its levels; a refusal is a sentence', async () => {
    const g = globalThis as Record<string, unknown>;
    g.runtime = { EventsOn: () => () => {} };
    const leg = (mode: string) => ({ id: 'm1', agent: 'u1', call: 'k1', conv: 'c1', mode, connection: 'new', customer_level: 0, agent_level: 0 });
    const mon = vi.fn(async (_agent: string, mode: string) => leg(mode));
    const stop = vi.fn(async () => {});
    g.go = { app: { Supervisor: { Monitor: mon, StopMonitor: stop } } };
    team.view = view();
    const r = render(TeamView);
    const rows = r.getAllByTestId('team-agent');
    const one = rows.find((row) => row.dataset.agent === 'u1')!;
    const two = rows.find((row) => row.dataset.agent === 'u2')!;
    // Only an agent on a call can be supervised.
    expect(two.querySelector('[data-testid="monitor-listen"]')).toBeNull();
    const btn = (m: string) => one.querySelector(`[data-testid="monitor-${m}"]`) as HTMLButtonElement;
    expect([btn('listen').textContent, btn('whisper').textContent, btn('barge').textContent]).toEqual(['Listen', 'Whisper', 'Join']);
    await fireEvent.click(btn('listen'));
    expect(mon).toHaveBeenCalledWith('u1', 'listen');
    await waitFor(() => expect(btn('listen').getAttribute('aria-pressed')).toBe('true'));
    expect(r.getByTestId('monitor-state').textContent).toContain('Connecting');
    // The services' 'monitor' event (stores/index.ts hands it to setMonitor).
    setMonitor({ ...leg('listen'), connection: 'connected', customer_level: 0.2, agent_level: 0.05 } as never);
    await waitFor(() => expect(r.getByTestId('monitor-state').textContent).toContain('Listening'));
    const bars = r.getByTestId('monitor-state').querySelectorAll('.lvf');
    expect([(bars[0] as HTMLElement).style.width, (bars[1] as HTMLElement).style.width]).toEqual(['80%', '20%']);
    await fireEvent.click(btn('whisper'));
    expect(mon).toHaveBeenLastCalledWith('u1', 'whisper');
    await waitFor(() => expect(btn('whisper').getAttribute('aria-pressed')).toBe('true'));
    // The hub refuses (another supervisor is on the call): the sentence, not the Go error.
    mon.mockRejectedValueOnce({ code: 'ECONFLICT', message: 'another supervisor is on this call' });
    await fireEvent.click(btn('barge'));
    await waitFor(() => expect(notices.items.some((n) => n.tone === 'error')).toBe(true));
    expect(notices.items.at(-1)?.text).not.toContain('another supervisor is on this call');
    await fireEvent.click(r.getByTestId('monitor-stop'));
    expect(stop).toHaveBeenCalled();
    await waitFor(() => expect(r.queryByTestId('monitor-state')).toBeNull());
  });

  it('shows no queue table before the hub sends figures', () => {
    team.view = view({ queues: [] });
    const r = render(TeamView);
    expect(r.queryByTestId('team-queues')).toBeNull();
  });

  it('shows a dash, not 0s, when no chat ended yet', () => {
    team.view = view({ stats: { since_ms: 1, with_call: 0, without_call: 0, aht_with_call_ms: 0, aht_without_call_ms: 0, calls: {}, avg_call_ms: 0, resolved: 0, abandoned: 0, auto_closed: 0 } });
    const r = render(TeamView);
    expect(r.getByTestId('aht-with-call').textContent).toBe('—');
    expect(r.getByTestId('aht-without-call').textContent).toBe('—');
  });

  it('saves a report to the downloads folder and says where', async () => {
    const b = fakeBackend(async () => '/home/sam/Downloads/calls-demo-20261128-193800.csv');
    team.view = view();
    const r = render(TeamView);
    await fireEvent.click(r.getByTestId('export-calls-csv'));
    await waitFor(() => expect(notices.items.map((n) => n.text)).toContain('Saved /home/sam/Downloads/calls-demo-20261128-193800.csv to your downloads.'));
    expect(b.saveCSV).toHaveBeenCalledWith('calls');
    expect(b.clip).not.toHaveBeenCalled();
  });

  it('copies the report to the clipboard when the file cannot be written', async () => {
    const b = fakeBackend(() => Promise.reject({ code: 'EINTERNAL', message: 'read-only file system' }));
    team.view = view();
    const r = render(TeamView);
    await fireEvent.click(r.getByTestId('export-conversations-csv'));
    await waitFor(() => expect(b.clip).toHaveBeenCalledWith('conversations,header\r\n'));
    expect(notices.items.at(-1)?.text).toContain('copied to the clipboard');
  });

  it('opens the recorded calls, ended conversations included, in the browser', async () => {
    const open = vi.fn(async () => {});
    (globalThis as Record<string, unknown>).go = { app: { Supervisor: { OpenRecordedCalls: open } } };
    team.view = view();
    const r = render(TeamView);
    expect(r.getByTestId('open-recorded-calls').textContent).toBe('Recorded calls');
    await fireEvent.click(r.getByTestId('open-recorded-calls'));
    await waitFor(() => expect(open).toHaveBeenCalledTimes(1));
    expect(notices.items.some((n) => n.tone === 'error')).toBe(false);
  });

  it('says so, translated, when there is no browser to open them in', async () => {
    (globalThis as Record<string, unknown>).go = { app: { Supervisor: { OpenRecordedCalls: () => Promise.reject({ code: 'EUNAVAILABLE', message: 'no system browser' }) } } };
    team.view = view();
    const r = render(TeamView);
    await fireEvent.click(r.getByTestId('open-recorded-calls'));
    await waitFor(() => expect(notices.items.some((n) => n.tone === 'error')).toBe(true));
    expect(notices.items.at(-1)?.text).not.toContain('no system browser');
  });

  it('shows a refusal as a translated error and copies nothing', async () => {
    const b = fakeBackend(() => Promise.reject({ code: 'EFORBIDDEN', message: 'only admin may do this' }));
    team.view = view();
    const r = render(TeamView);
    await fireEvent.click(r.getByTestId('export-calls-csv'));
    await waitFor(() => expect(notices.items.some((n) => n.tone === 'error')).toBe(true));
    expect(notices.items.at(-1)?.text).not.toContain('only admin');
    expect(b.fetch).not.toHaveBeenCalled();
    expect(b.clip).not.toHaveBeenCalled();
  });
});

describe('reassigning', () => {
  afterEach(() => {
    cleanup();
    notices.items = [];
    delete (globalThis as Record<string, unknown>).go;
  });

  it('lists agents with their status and offers no offline agent', () => {
    team.view = view({
      agents: [
        { id: 'u1', display_name: 'Agent One', presence: 'offline', load: 0, capacity: 3, online: false, on_call: false },
        { id: 'u2', display_name: 'Agent Two', presence: 'away', load: 1, capacity: 3, online: true, on_call: false },
        { id: 'u3', display_name: 'Agent Three', presence: 'available', load: 3, capacity: 3, online: true, on_call: false },
      ],
      conversations: [{ id: 'c9', state: 'waiting', customer_name: 'Pat', last_seq: 1, created_at: 1, unread: 0, customer_typing: false, delivered_seq: 0, read_seq: 0 }],
    });
    const r = render(TeamView);
    const opts = [...(r.getAllByTestId('assign-agent')[0] as HTMLSelectElement).options].slice(1);
    expect(opts.map((o) => [o.textContent, o.disabled])).toEqual([
      ['Agent Three · Available · 3/3 (at capacity)', false],
      ['Agent Two · Away · 1/3', false],
      ['Agent One · Offline · 0/3', true],
    ]);
  });

  it('names an offline agent in a sentence when the hub refuses the assignment', async () => {
    const g = globalThis as Record<string, unknown>;
    g.runtime = { EventsOn: () => () => {} };
    g.go = { app: { Supervisor: { Assign: async () => Promise.reject({ code: 'EAGENTUNAVAILABLE', message: 'Agent Two is offline' }) } } };
    team.view = view({
      conversations: [{ id: 'c9', state: 'waiting', customer_name: 'Pat', last_seq: 1, created_at: 1, unread: 0, customer_typing: false, delivered_seq: 0, read_seq: 0 }],
    });
    const r = render(TeamView);
    const sel = r.getAllByTestId('assign-agent')[0] as HTMLSelectElement;
    await fireEvent.change(sel, { target: { value: 'u2' } });
    await fireEvent.click(r.getAllByTestId('assign')[0]);
    await waitFor(() => expect(notices.items.at(-1)?.text).toBe('That person is not available right now (offline, away, busy or full). Nothing was moved.'));
  });
});

describe('reading a conversation along', () => {
  afterEach(() => {
    cleanup();
    delete (globalThis as Record<string, unknown>).go;
  });

  it("shows a waiting customer's first message, and opens a live chat's transcript read-only", async () => {
    const g = globalThis as Record<string, unknown>;
    g.runtime = { EventsOn: () => () => {} };
    const lines: Record<string, { conv: string; seq: number; author: string; author_name?: string; text: string; at: number }[]> = {
      w1: [{ conv: 'w1', seq: 1, author: 'customer', author_name: 'Wes', text: 'is anyone there?', at: 1 }],
      a1: [
        { conv: 'a1', seq: 1, author: 'customer', author_name: 'Lia', text: 'my order is late', at: 1 },
        { conv: 'a1', seq: 2, author: 'agent', author_name: 'Agent One', text: 'let me look', at: 2 },
      ],
    };
    const transcript = vi.fn(async (conv: string, after: number) => (lines[conv] ?? []).filter((m) => m.seq > after));
    g.go = { app: { Supervisor: { Transcript: transcript } } };
    const base = { last_seq: 1, unread: 0, customer_typing: false, delivered_seq: 0, read_seq: 0 };
    team.view = view({
      conversations: [
        { id: 'w1', state: 'waiting', customer_name: 'Wes', created_at: 1, preview: 'is anyone there?', ...base },
        { id: 'a1', state: 'active', customer_name: 'Lia', agent_id: 'u1', agent_name: 'Agent One', created_at: 1, accepted_at: 2, ...base },
      ],
    });
    const r = render(TeamView);
    await waitFor(() => expect(r.getByTestId('team-first-message').textContent).toBe('“is anyone there?”'));
    const live = r.getAllByTestId('team-open').find((b) => b.closest('[data-conv="a1"]'))!;
    await fireEvent.click(live);
    const dialog = await r.findByTestId('supervisor-transcript');
    await waitFor(() => expect(r.getAllByTestId('transcript-line').map((l) => l.dataset.author)).toEqual(['customer', 'agent']));
    expect(dialog.textContent).toContain('With Agent One · read-only');
    expect(dialog.querySelector('textarea, input')).toBeNull(); // nothing to write with
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(r.queryByTestId('supervisor-transcript')).toBeNull();
  });

  it('offers a recorded conversation’s calls, opening the hub’s playback page; none when nothing was recorded', async () => {
    const g = globalThis as Record<string, unknown>;
    g.runtime = { EventsOn: () => () => {} };
    const lines = [{ conv: 'a1', seq: 1, author: 'customer', author_name: 'Lia', text: 'my order is late', at: 1 }];
    const transcript = vi.fn(async (_conv: string, after: number) => lines.filter((m) => m.seq > after));
    const recs: Record<string, unknown[]> = {
      a1: [{ call: 'c1', track: 'customer.webm' }, { call: 'c1', track: 'agent.webm' }, { call: 'c2', track: 'customer.webm' }],
      a2: [],
    };
    const recordings = vi.fn(async (conv: string) => recs[conv]);
    const open = vi.fn(async (_conv: string) => {});
    g.go = { app: { Supervisor: { Transcript: transcript, Watch: async () => {}, Recordings: recordings, OpenRecordings: open } } };
    const base = { last_seq: 1, unread: 0, customer_typing: false, delivered_seq: 0, read_seq: 0 };
    team.view = view({
      conversations: [
        { id: 'a1', state: 'active', customer_name: 'Lia', agent_id: 'u1', agent_name: 'Agent One', created_at: 1, accepted_at: 2, ...base },
        { id: 'a2', state: 'active', customer_name: 'Max', agent_id: 'u1', agent_name: 'Agent One', created_at: 1, accepted_at: 2, ...base },
      ],
    });
    const r = render(TeamView);
    await fireEvent.click(r.getAllByTestId('team-open').find((b) => b.closest('[data-conv="a1"]'))!);
    const button = await r.findByTestId('supervisor-recordings');
    expect(button.textContent).toBe('Recorded calls (2)'); // two calls, three files
    await fireEvent.click(button);
    expect(open).toHaveBeenCalledWith('a1');
    await fireEvent.click(r.getByTestId('supervisor-transcript-close'));

    await fireEvent.click(r.getAllByTestId('team-open').find((b) => b.closest('[data-conv="a2"]'))!);
    await r.findByTestId('supervisor-transcript');
    await waitFor(() => expect(recordings).toHaveBeenCalledWith('a2'));
    expect(r.queryByTestId('supervisor-recordings')).toBeNull();
  });

  it('follows the conversation live: who is typing, and a new line as soon as the hub says so', async () => {
    const g = globalThis as Record<string, unknown>;
    g.runtime = { EventsOn: () => () => {} };
    const lines = [{ conv: 'a1', seq: 1, author: 'customer', author_name: 'Lia', text: 'my order is late', at: 1 }];
    const transcript = vi.fn(async (_conv: string, after: number) => lines.filter((m) => m.seq > after));
    const watch = vi.fn(async (_conv: string, _on: boolean) => {});
    g.go = { app: { Supervisor: { Transcript: transcript, Watch: watch } } };
    const base = { last_seq: 1, unread: 0, customer_typing: false, delivered_seq: 0, read_seq: 0 };
    team.view = view({
      conversations: [{ id: 'a1', state: 'active', customer_name: 'Lia', agent_id: 'u1', agent_name: 'Agent One', created_at: 1, accepted_at: 2, ...base }],
    });
    const r = render(TeamView);
    await fireEvent.click(r.getByTestId('team-open'));
    await r.findByTestId('supervisor-transcript');
    await waitFor(() => expect(watch).toHaveBeenCalledWith('a1', true));
    await waitFor(() => expect(r.getAllByTestId('transcript-line')).toHaveLength(1));
    let rev = 500;
    const watched = (w: Partial<wire.Watched>) =>
      receive({ name: 'supervisor.watched', rev: rev++, data: { conv: 'a1', customer_typing: false, agent_typing: false, last_seq: 1, ...w } } as never);

    watched({ customer_typing: true });
    await waitFor(() => expect(r.getByTestId('transcript-typing').textContent).toBe('Lia is typing…'));
    expect(r.getByTestId('transcript-typing').dataset.author).toBe('customer');
    // Another conversation's word changes nothing here.
    watched({ conv: 'other', agent_typing: true });
    watched({ customer_typing: true, agent_typing: true }); // each frame is the whole state
    await waitFor(() => expect(r.getAllByTestId('transcript-typing').map((e) => e.textContent)).toEqual(['Lia is typing…', 'Agent One is typing…']));

    // The agent's answer is stored: the line comes at once (well before the 5 s poll), the typing goes.
    lines.push({ conv: 'a1', seq: 2, author: 'agent', author_name: 'Agent One', text: 'on its way', at: 2 });
    watched({ last_seq: 2 });
    await waitFor(() => expect(r.getAllByTestId('transcript-line').map((l) => l.textContent)).toEqual([expect.stringContaining('my order is late'), expect.stringContaining('on its way')]));
    expect(r.queryByTestId('transcript-typing')).toBeNull();

    await fireEvent.click(r.getByTestId('supervisor-transcript-close'));
    await waitFor(() => expect(watch).toHaveBeenCalledWith('a1', false));
  });
});
