// The call module, loaded with a dynamic import() on the first call event, so a plain chat never
// downloads it: the call's state machine, its view, and the browser's media facilities.
import type { Translator } from '../../../web/i18n';
import type * as wire from '../../../web/wire.gen';
import { CallSession, type CallDeps } from './call.svelte';
import { webAudioRinger } from './ring';
import { runProbe } from './probe';
import CallView from './CallView.svelte';

export { CallSession, CallView };

/** createCall makes a call session on the real browser's media and WebRTC. */
export function createCall(
  proto: { request(type: wire.Type, data: unknown): Promise<unknown>; notify(type: wire.Type, data: unknown): boolean },
  t: Translator,
): CallSession {
  const deps: CallDeps = {
    ...proto,
    getUserMedia: (c) => navigator.mediaDevices.getUserMedia(c),
    peer: (config) => new RTCPeerConnection(config),
    stream: () => new MediaStream(),
    ringer: webAudioRinger(),
    now: () => Date.now(),
    probe: (ice, signal) => runProbe(ice, signal),
  };
  return new CallSession(deps, t);
}
