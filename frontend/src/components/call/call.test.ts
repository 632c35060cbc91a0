import { describe, it, expect, afterEach } from 'vitest';
import { render, cleanup, fireEvent } from '@testing-library/svelte';
import { tick } from 'svelte';
import { call, setCall, timer, callError, type CallView } from '../../stores/call.svelte';
import { moreCommands } from '../../lib/commands';
import type { ConversationView } from '../../api/types';
import { clock } from '../../stores/clock.svelte';
import FloatingCallControl from './FloatingCallControl.svelte';
import './commands';

function view(over: Partial<CallView> = {}): CallView {
  return {
    id: 'k1', conv: 'c1', customer_name: 'Dana', kind: 'video', state: 'active', connection: 'connected',
    created_at: 1, answered_at: Date.now() - 65_000, muted: false, video: true, has_video: true, video_allowed: true,
    remote_muted: false, remote_video: true, remote_known: true, remote_frames: true,
    remote_video_url: 'http://127.0.0.1:1/video/r.mjpeg', self_video_url: 'http://127.0.0.1:1/video/s.mjpeg', ...over,
  };
}

function conv(over: Partial<ConversationView> & { calls?: string } = {}): ConversationView {
  return { id: 'c1', state: 'active', customer_name: 'Dana', last_seq: 0, created_at: 1, unread: 0, customer_typing: false, delivered_seq: 0, read_seq: 0, ...over };
}

afterEach(() => {
  cleanup();
  setCall(null);
  call.last = null;
});

describe('call timer', () => {
  it.each([
    [0, '0:00'],
    [9_999, '0:09'],
    [252_000, '4:12'],
    [3_725_000, '1:02:05'],
  ])('timer(%i) = %s', (ms, want) => expect(timer(ms)).toBe(want));
});

describe('floating call control', () => {
  it('shows the video call with its controls, remote and self video', async () => {
    setCall(view());
    clock.now = Date.now(); // the shared clock ticks only once the app starts it; the test reads it as the app would a tick later
    const { getByTestId, queryByTestId } = render(FloatingCallControl);
    await tick();
    expect(getByTestId('floating-call-control').dataset.state).toBe('active');
    expect(getByTestId('call-mute').getAttribute('aria-pressed')).toBe('false');
    expect(getByTestId('call-video').getAttribute('aria-pressed')).toBe('true');
    expect(getByTestId('call-mute').title).toContain('Ctrl+Shift+M');
    expect(getByTestId('call-end').title).toContain('Ctrl+Shift+E');
    expect(getByTestId('remote-video').getAttribute('src')).toBe('http://127.0.0.1:1/video/r.mjpeg');
    expect(getByTestId('self-video').getAttribute('src')).toBe('http://127.0.0.1:1/video/s.mjpeg?fps=15'); // the small self view at a lower rate
    expect(getByTestId('call-timer').textContent).toMatch(/^1:0\d$/);
    expect(queryByTestId('remote-muted')).toBeNull();
  });

  it("shows the customer's mute and camera off, and the agent's own mute", async () => {
    setCall(view({ remote_muted: true, remote_video: false, muted: true, video: false }));
    const { getByTestId, queryByTestId } = render(FloatingCallControl);
    await tick();
    expect(getByTestId('remote-muted').textContent).toContain('Dana is muted');
    expect(getByTestId('remote-video-off')).toBeTruthy();
    expect(queryByTestId('remote-video')).toBeNull();
    expect(queryByTestId('self-video')).toBeNull();
    expect(getByTestId('call-mute').getAttribute('aria-pressed')).toBe('true');
    expect(getByTestId('call-video').getAttribute('aria-pressed')).toBe('false');
    expect(getByTestId('self-muted').textContent).toContain("You're muted");
    expect(getByTestId('call-mute').title).toBe('Unmute (Ctrl+Shift+M)');
  });

  it('offers Record only with the customer\'s consent, and shows the recording indicator', async () => {
    setCall(view({ record: 'ask', consent: false }));
    const { getByTestId, queryByTestId } = render(FloatingCallControl);
    await tick();
    const rec = getByTestId('call-record') as HTMLButtonElement;
    expect(rec.disabled).toBe(true);
    expect(rec.title).toBe('The customer did not agree to recording');
    expect(queryByTestId('call-recording')).toBeNull();
    setCall(view({ record: 'ask', consent: true }));
    await tick();
    expect(rec.disabled).toBe(false);
    expect(rec.getAttribute('aria-label')).toBe('Record the call');
    setCall(view({ record: 'ask', consent: true, recording: true }));
    await tick();
    expect(rec.getAttribute('aria-pressed')).toBe('true');
    expect(rec.getAttribute('aria-label')).toBe('Stop recording');
    expect(getByTestId('call-recording').textContent).toBe('Recording');
    // An organisation that records every call: the indicator, no button to stop it.
    setCall(view({ record: 'always', consent: true, recording: true }));
    await tick();
    expect(queryByTestId('call-record')).toBeNull();
    expect(getByTestId('call-recording').textContent).toBe('Recording');
    // Without a recording setting there is neither.
    setCall(view());
    await tick();
    expect(queryByTestId('call-record')).toBeNull();
    expect(queryByTestId('call-recording')).toBeNull();
  });

  it('says who whispers to the agent, and who joined the call; nothing while a supervisor only listens', async () => {
    setCall(view());
    const { getByTestId, queryByTestId } = render(FloatingCallControl);
    await tick();
    expect(queryByTestId('call-coach')).toBeNull();
    setCall(view({ coach: 'Sue Visor' }));
    await tick();
    expect(getByTestId('call-coach').textContent).toBe('Sue Visor is whispering to you (the customer cannot hear)');
    setCall(view({ coach: 'Sue Visor', supervisor: 'Sue Visor' }));
    await tick();
    expect(getByTestId('call-coach').textContent).toBe('Sue Visor joined the call');
    expect(getByTestId('call-coach').dataset.joined).toBe('true');
  });

  it('closes the quality details and the device menu with Escape', async () => {
    setCall(view());
    const { getByTestId, queryByTestId } = render(FloatingCallControl);
    await tick();
    await fireEvent.click(getByTestId('call-quality'));
    expect(getByTestId('call-quality-details')).toBeTruthy();
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(queryByTestId('call-quality-details')).toBeNull();
    await fireEvent.click(getByTestId('call-devices-button'));
    expect(getByTestId('call-devices')).toBeTruthy();
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(queryByTestId('call-devices')).toBeNull();
  });

  it('keeps the status line (and so the buttons) in place whether or not a label shows', async () => {
    setCall(view());
    const { getByTestId, queryByTestId } = render(FloatingCallControl);
    await tick();
    const row = getByTestId('call-remote-state');
    expect(row.children.length).toBe(0);
    expect(queryByTestId('self-muted')).toBeNull();
    setCall(view({ muted: true, remote_muted: true }));
    await tick();
    expect(getByTestId('call-remote-state')).toBe(row); // the same row, filled: nothing below it moves
    expect(getByTestId('self-muted')).toBeTruthy();
  });

  it("says beside the customer's name when their network probe was weak or failed, with the figures on hover", async () => {
    setCall(view({ state: 'ringing', customer_network: { call: 'k1', reached: true, rtt_ms: 420, loss_pct: 10, transport: 'tcp', status: 'weak' } }));
    const { getByTestId, rerender } = render(FloatingCallControl);
    await tick();
    let note = getByTestId('customer-network');
    expect(note.dataset.status).toBe('weak');
    expect(note.textContent?.trim()).toBe('Customer on a weak connection');
    expect(note.title).toBe("Dana's network check: 420 ms round trip, 10% lost, over TCP");
    expect(note.getAttribute('role')).toBe('note'); // a named span needs a role (axe: aria-prohibited-attr)
    expect(note.getAttribute('aria-label')).toBe("Customer on a weak connection. Dana's network check: 420 ms round trip, 10% lost, over TCP");
    setCall(view({ customer_network: { call: 'k1', reached: false, rtt_ms: 0, loss_pct: 0, status: 'failed' } }));
    await rerender({});
    note = getByTestId('customer-network');
    expect(note.textContent?.trim()).toBe("Customer's network check failed");
    expect(note.title).toMatch(/relay could not be reached/);
    // Fine: no words, but the figures are there to hover.
    setCall(view({ customer_network: { call: 'k1', reached: true, rtt_ms: 12, loss_pct: 0, transport: 'udp', status: 'good' } }));
    await rerender({});
    note = getByTestId('customer-network');
    expect(note.textContent?.trim()).toBe('');
    expect(note.title).toBe("Dana's network check: 12 ms round trip, 0% lost, over UDP");
  });

  it('rings with a cancel button, and has no video stage in a voice call', async () => {
    setCall(view({ kind: 'voice', state: 'ringing', has_video: false, video: false, remote_frames: false, answered_at: 0 }));
    const { getByTestId, queryByTestId } = render(FloatingCallControl);
    await tick();
    expect(getByTestId('call-timer').textContent).toBe('Ringing…');
    expect(getByTestId('call-end').getAttribute('aria-label')).toBe('Cancel call');
    expect(queryByTestId('remote-video')).toBeNull();
  });

  it('disables video in a voice-only conversation', async () => {
    setCall(view({ kind: 'voice', has_video: false, video: false, video_allowed: false }));
    const { getByTestId } = render(FloatingCallControl);
    await tick();
    expect((getByTestId('call-video') as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('call commands', () => {
  const cmd = (id: string) => moreCommands.find((c) => c.id === id)!;
  it('follow the conversation call setting and the call in progress', () => {
    expect(cmd('voice-call').available(conv())).toBe(true);
    expect(cmd('video-call').available(conv())).toBe(true);
    expect(cmd('video-call').available(conv({ calls: 'voice' }))).toBe(false);
    expect(cmd('voice-call').available(conv({ calls: 'voice' }))).toBe(true);
    expect(cmd('voice-call').available(conv({ calls: 'none' }))).toBe(false);
    expect(cmd('voice-call').available(conv({ state: 'ended' }))).toBe(false);
    setCall(view());
    expect(cmd('voice-call').available(conv())).toBe(false);
  });
});

describe('call errors', () => {
  it('map device codes to sentences, others to the shared error sentences', () => {
    expect(callError('ENOMICROPHONE')).toMatch(/No microphone/);
    expect(callError('ECAMDENIED')).toMatch(/voice only/);
    expect(callError('EUNAVAILABLE')).not.toBe('EUNAVAILABLE');
  });
});
