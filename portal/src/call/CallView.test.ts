import { describe, it, expect, vi, afterEach } from 'vitest';
import { render, cleanup, fireEvent } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import CallView from './CallView.svelte';
import { CallSession, type CallDeps } from './call.svelte';
import { portalI18n } from '../i18n';
import type * as wire from '../../../web/wire.gen';

// The call view in jsdom: what the customer is offered, and how the controls say their state.
// Media elements and WebRTC are jsdom stubs here; real playback is in e2e/portal-calls.test.mjs.

function track(kind: 'audio' | 'video') {
  return { kind, enabled: true, readyState: 'live', muted: false, stop() {} };
}
function stream(kinds: ('audio' | 'video')[]) {
  const tracks = kinds.map(track);
  return {
    getTracks: () => tracks,
    getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'),
    getVideoTracks: () => tracks.filter((t) => t.kind === 'video'),
    addTrack: (t: ReturnType<typeof track>) => tracks.push(t),
    removeTrack: () => {},
  };
}

function session(gum: CallDeps['getUserMedia'] = async (c) => stream(c.video ? ['audio', 'video'] : ['audio']) as unknown as MediaStream) {
  const sent: wire.Envelope[] = [];
  const deps: CallDeps = {
    request: async (type, data) => void sent.push({ type, data }),
    notify: (type, data) => sent.push({ type, data }) > 0,
    getUserMedia: gum,
    peer: () =>
      ({
        addTrack: () => ({}),
        getTransceivers: () => [],
        close() {},
        connectionState: 'new',
      }) as unknown as RTCPeerConnection,
    stream: () => stream([]) as unknown as MediaStream,
    ringer: { start() {}, stop() {} },
    now: () => 0,
  };
  return { call: new CallSession(deps, portalI18n(['en'])), sent };
}

const ringing = (extra: Partial<wire.Call> = {}): wire.Envelope => ({
  type: 'call.state',
  data: { id: 'k1', conv: 'c1', kind: 'video', state: 'ringing', created_at: 1, ...extra },
});

describe('CallView', () => {
  afterEach(cleanup);
  HTMLMediaElement.prototype.play = vi.fn(async () => {});

  it('offers audio, video and decline, and names the agent', () => {
    const { call } = session();
    call.handle(ringing());
    const { getByTestId } = render(CallView, { call, t: portalI18n(['en']), agent: 'Ana' });
    expect(getByTestId('call-incoming').textContent).toContain('Ana is inviting you to a video call');
    expect(getByTestId('accept-audio').textContent).toBe('Accept with audio');
    expect(getByTestId('accept-video').textContent).toBe('Accept with video');
    expect(getByTestId('decline').textContent).toBe('Decline');
    // Screen readers hear the call at once.
    expect(getByTestId('call-incoming').querySelector('[role="alert"]')!.textContent).toContain('Ana is inviting you');
  });

  it('hides "accept with video" when the conversation allows voice only, in Spanish too', () => {
    const { call } = session();
    call.handle(ringing({ kind: 'voice', allowed: 'voice' }));
    const { queryByTestId, getByTestId } = render(CallView, { call, t: portalI18n(['es']), agent: 'Ana' });
    expect(queryByTestId('accept-video')).toBeNull();
    expect(getByTestId('accept-audio').textContent).toBe('Aceptar con audio');
    expect(getByTestId('call-incoming').textContent).toContain('Ana te está llamando');
  });

  it('explains a refused camera and offers audio only', async () => {
    const e = Object.assign(new Error('no'), { name: 'NotAllowedError' });
    const { call } = session(async (c) => {
      if (c.video) throw e;
      return stream(['audio']) as unknown as MediaStream;
    });
    call.handle(ringing());
    const { getByTestId } = render(CallView, { call, t: portalI18n(['en']), agent: 'Ana' });
    await fireEvent.click(getByTestId('accept-video'));
    await vi.waitFor(() => expect(call.phase).toBe('permission'));
    flushSync();
    const box = getByTestId('call-permission-error');
    expect(box.getAttribute('role')).toBe('alert');
    expect(box.textContent).toContain('Your browser is not letting us use your camera.');
    expect(getByTestId('call-audio-only').textContent).toBe('Continue with audio only');
    expect(getByTestId('call-stay').textContent).toBe('Stay in chat');
  });

  it('mute and video buttons say their state with aria-pressed', async () => {
    const { call, sent } = session();
    call.handle(ringing());
    const { getByTestId } = render(CallView, { call, t: portalI18n(['en']), agent: 'Ana' });
    await fireEvent.click(getByTestId('accept-video'));
    await vi.waitFor(() => expect(call.phase).toBe('connecting'));
    flushSync();
    const mute = getByTestId('call-mute');
    expect(mute.getAttribute('aria-pressed')).toBe('false');
    expect(getByTestId('call-video').getAttribute('aria-pressed')).toBe('true');
    await fireEvent.click(mute);
    expect(mute.getAttribute('aria-pressed')).toBe('true');
    expect(mute.textContent).toContain('Unmute');
    expect(sent.at(-1)).toEqual({ type: 'call.media', data: { call: 'k1', muted: true, video: true } });
    // The agent's state from call.media shows as a badge.
    call.handle({ type: 'call.media', data: { call: 'k1', muted: true, video: true, from: 'agent' } });
    flushSync();
    expect(getByTestId('agent-muted').textContent).toBe('Ana is muted');
    // The remote element plays sound: never muted.
    expect((getByTestId('remote-video') as HTMLVideoElement).muted).toBe(false);
    expect(getByTestId('self-video').hasAttribute('muted') || (getByTestId('self-video') as HTMLVideoElement).muted).toBe(true);
  });

  it('asks for consent to recording, unticked: the answer carries what the customer chose', async () => {
    const { call, sent } = session();
    call.handle(ringing({ record: 'ask' }));
    const { getByTestId, queryByTestId } = render(CallView, { call, t: portalI18n(['es']), agent: 'Ana' });
    expect(getByTestId('call-record-consent').textContent).toContain('Permitir que se grabe esta llamada');
    const box = getByTestId('call-record-consent-box') as HTMLInputElement;
    expect(box.checked).toBe(false);
    await fireEvent.click(box);
    await fireEvent.click(getByTestId('accept-audio'));
    await vi.waitFor(() => expect(sent.some((e) => e.type === 'call.accept')).toBe(true));
    expect(sent.find((e) => e.type === 'call.accept')!.data).toEqual({ call: 'k1', video: false, record: true });
    // The indicator shows while the hub says it records, and goes when it stops.
    call.handle({ type: 'call.state', data: { id: 'k1', conv: 'c1', kind: 'video', state: 'active', created_at: 1, consent: true, recording: true } });
    flushSync();
    expect(getByTestId('call-recording').textContent).toBe('Grabando');
    call.handle({ type: 'call.state', data: { id: 'k1', conv: 'c1', kind: 'video', state: 'active', created_at: 1 } });
    flushSync();
    expect(queryByTestId('call-recording')).toBeNull();
  });

  it('says when a supervisor joined the call, and no more once they left (en, es)', async () => {
    for (const [lang, text] of [
      ['en', 'A supervisor joined the call'],
      ['es', 'Un supervisor se ha unido a la llamada'],
    ]) {
      const { call } = session();
      call.handle(ringing({}));
      const { getByTestId, queryByTestId, unmount } = render(CallView, { call, t: portalI18n([lang]), agent: 'Ana' });
      await fireEvent.click(getByTestId('accept-audio'));
      call.handle({ type: 'call.state', data: { id: 'k1', conv: 'c1', kind: 'voice', state: 'active', created_at: 1 } });
      flushSync();
      expect(queryByTestId('call-supervisor')).toBeNull();
      call.handle({ type: 'call.state', data: { id: 'k1', conv: 'c1', kind: 'voice', state: 'active', created_at: 1, supervisor: 'Sue' } });
      flushSync();
      expect(getByTestId('call-supervisor').textContent).toBe(text);
      // The supervisor's name is not shown to the customer.
      expect(getByTestId('call-supervisor').textContent).not.toContain('Sue');
      call.handle({ type: 'call.state', data: { id: 'k1', conv: 'c1', kind: 'voice', state: 'active', created_at: 1 } });
      flushSync();
      expect(queryByTestId('call-supervisor')).toBeNull();
      unmount();
    }
  });

  it('says while a supervisor listens, when the organisation requires it (en, es)', async () => {
    for (const [lang, text] of [
      ['en', 'A supervisor is listening'],
      ['es', 'Un supervisor está escuchando'],
    ]) {
      const { call } = session();
      call.handle(ringing({}));
      const { getByTestId, queryByTestId, unmount } = render(CallView, { call, t: portalI18n([lang]), agent: 'Ana' });
      await fireEvent.click(getByTestId('accept-audio'));
      call.handle({ type: 'call.state', data: { id: 'k1', conv: 'c1', kind: 'voice', state: 'active', created_at: 1 } });
      flushSync();
      expect(queryByTestId('call-monitored')).toBeNull();
      call.handle({ type: 'call.state', data: { id: 'k1', conv: 'c1', kind: 'voice', state: 'active', created_at: 1, monitored: true } });
      flushSync();
      expect(getByTestId('call-monitored').textContent).toBe(text);
      call.handle({ type: 'call.state', data: { id: 'k1', conv: 'c1', kind: 'voice', state: 'active', created_at: 1 } });
      flushSync();
      expect(queryByTestId('call-monitored')).toBeNull();
      unmount();
    }
  });

  it('says an always-recorded call is recorded; answering without ticking anything is consent', async () => {
    const { call, sent } = session();
    call.handle(ringing({ record: 'always' }));
    const { getByTestId, queryByTestId } = render(CallView, { call, t: portalI18n(['en']), agent: 'Ana' });
    expect(queryByTestId('call-record-consent')).toBeNull();
    expect(getByTestId('call-record-notice').textContent).toBe('This call will be recorded. Answering means you agree; Decline keeps you in the chat.');
    await fireEvent.click(getByTestId('accept-video'));
    await vi.waitFor(() => expect(sent.some((e) => e.type === 'call.accept')).toBe(true));
    expect(sent.find((e) => e.type === 'call.accept')!.data).toEqual({ call: 'k1', video: true, record: true });
  });

  it('without a recording setting the answer gives no consent', async () => {
    const { call, sent } = session();
    call.handle(ringing());
    const { getByTestId, queryByTestId } = render(CallView, { call, t: portalI18n(['en']), agent: 'Ana' });
    expect(queryByTestId('call-record-consent')).toBeNull();
    expect(queryByTestId('call-record-notice')).toBeNull();
    await fireEvent.click(getByTestId('accept-audio'));
    await vi.waitFor(() => expect(sent.some((e) => e.type === 'call.accept')).toBe(true));
    expect(sent.find((e) => e.type === 'call.accept')!.data).toStrictEqual({ call: 'k1', video: false });
  });
});
