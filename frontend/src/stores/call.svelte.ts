// The agent's call, from the "call" and "call.quality" events: what the floating call control
// shows, and the actions behind its buttons, the More commands items and the shortcuts.
import * as api from '../api/backend';
import type { UIError } from '../api/backend';
import type { CallKind, CallView, ConversationID, DeviceKind, DevicesView, QualityView } from '../api/types';
import { i18n } from '../lib/i18n';
import { notify } from './notices.svelte';

export type { CallView, DeviceView, DevicesView, QualityView } from '../api/types';

export const call = $state({
  view: null as CallView | null,
  /** last is the call that just ended, shown for a moment. */
  last: null as CallView | null,
  quality: null as QualityView | null,
  devices: null as DevicesView | null,
  busy: false,
});

let warned = new Set<string>();
let lastTimer: ReturnType<typeof setTimeout> | undefined;
let subscribed = false;

/** initCalls subscribes to the call events and loads the current call (after a reload). */
export async function initCalls(): Promise<void> {
  if (!subscribed) {
    subscribed = true;
    await Promise.all([api.on('call', setCall), api.on('call.quality', (q) => (call.quality = q))]);
  }
  setCall(await api.calls.current());
}

/** setCall applies a call event: toasts for warnings and for how an unanswered call ended. */
export function setCall(v: CallView | null): void {
  if (!v) {
    call.view = null;
    call.quality = null;
    return;
  }
  if (call.view?.id !== v.id) warned = new Set();
  for (const w of v.warnings ?? []) {
    if (!warned.has(w)) {
      warned.add(w);
      notify(callError(w), 'error', 8000);
    }
  }
  if (v.state === 'ended') {
    call.last = v;
    clearTimeout(lastTimer);
    lastTimer = setTimeout(() => (call.last = null), 4000);
    const text = endedText(v);
    if (text) notify(text, v.outcome === 'failed' || v.reason === 'failed' ? 'error' : 'info');
    call.view = null;
    call.quality = null;
    return;
  }
  call.view = v;
}

/** endedText is the toast for a call that ended without being answered or that failed. */
export function endedText(v: CallView): string {
  const name = v.customer_name || i18n.t('panel.customer');
  if (v.outcome === 'declined') return i18n.t('agentCall.ended.declined', { name });
  if (v.outcome === 'missed' || v.reason === 'ring_timeout') return i18n.t('agentCall.ended.missed', { name });
  if (v.reason === 'failed' || v.outcome === 'failed') return i18n.t('agentCall.ended.failed');
  if (v.reason === 'disconnected') return i18n.t('agentCall.ended.disconnected');
  return '';
}

/** callError is the sentence for a call failure or device warning code. */
export function callError(code: string | undefined): string {
  const key = `agentCall.errors.${code}`;
  const text = i18n.t(key);
  return text === key ? i18n.error(code) : text;
}

async function act(f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
  } catch (e) {
    notify(callError((e as UIError).code), 'error', 8000);
  }
}

export function inCall(): boolean {
  return !!call.view && call.view.state !== 'ended';
}

export async function startCall(conv: ConversationID, kind: CallKind): Promise<void> {
  if (call.busy) return;
  call.busy = true;
  try {
    const v = await api.calls.start(conv, kind);
    if (v && (!call.view || call.view.id === v.id || !call.view.id)) setCall(v);
  } catch (e) {
    notify(callError((e as UIError).code), 'error', 8000);
  } finally {
    call.busy = false;
  }
}

export const endCall = () => act(() => api.calls.end());
export const toggleMute = () => act(() => api.calls.setMuted(!call.view?.muted));
export const toggleVideo = () => act(() => api.calls.setVideo(!call.view?.video));
/** toggleRecording starts or stops recording; the hub refuses a start without the customer's yes. */
export const toggleRecording = () => act(() => api.calls.setRecording(!call.view?.recording));

export async function loadDevices(): Promise<void> {
  try {
    call.devices = await api.calls.devices();
  } catch (e) {
    notify(callError((e as UIError).code), 'error');
  }
}

/**
 * selectDevice chooses a device; a call in progress switches to it at once. When it cannot
 * open, the call keeps the device it had and the menu shows that one again.
 */
export async function selectDevice(kind: DeviceKind, id: string): Promise<void> {
  try {
    await api.calls.selectDevice(kind, id);
  } catch (e) {
    const code = (e as UIError).code;
    const device = ['ENOCAMERA', 'ECAMDENIED', 'ECAMBUSY', 'ENOMICROPHONE', 'EMICDENIED', 'EMICBUSY', 'ENOSPEAKER'].includes(code);
    notify(device && inCall() ? i18n.t(`agentCall.devices.switchFailed.${kind}`) : callError(code), 'error', 8000);
  }
  await loadDevices();
}

/** micLevel reads the call's microphone level (0..1) for the device menu's meter; 0 without one. */
export async function micLevel(): Promise<number> {
  try {
    return await api.calls.micLevel();
  } catch {
    return 0;
  }
}

/**
 * testSpeaker plays Test my setup's tone on the calls' speaker; it resolves once played, with
 * the sentence to show when no speaker plays ('' when it played).
 */
export async function testSpeaker(): Promise<string> {
  try {
    await api.calls.testSpeaker();
    return '';
  } catch (e) {
    return callError((e as UIError).code);
  }
}

/** timer formats a call's length as m:ss (h:mm:ss past an hour). */
export function timer(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
