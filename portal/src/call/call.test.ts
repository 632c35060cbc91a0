import { describe, it, expect, vi, beforeEach } from 'vitest';
import { CallSession, FAIL_GRACE_MS, formatDuration, problemOf, endKeyOf, permissionKey, type CallDeps } from './call.svelte';
import { portalI18n } from '../i18n';
import { WireError } from '../../../web/client';
import type * as wire from '../../../web/wire.gen';
import sharedEn from '../../../web/locales/en';
import sharedEs from '../../../web/locales/es';
import viewSource from './CallView.svelte?raw';
import machineSource from './call.svelte.ts?raw';

// Unit tests of the call's state machine with a fake peer connection and fake devices (jsdom has no
// WebRTC). The real browser side is covered by e2e/portal-calls.test.mjs against the Go agent.

class FakeTrack {
  enabled = true;
  readyState: 'live' | 'ended' = 'live';
  muted = false;
  onmute: (() => void) | null = null;
  onunmute: (() => void) | null = null;
  onended: (() => void) | null = null;
  constructor(readonly kind: 'audio' | 'video') {}
  stop() {
    this.readyState = 'ended';
  }
}

class FakeStream {
  tracks: FakeTrack[];
  constructor(tracks: FakeTrack[] = []) {
    this.tracks = [...tracks];
  }
  getTracks() {
    return [...this.tracks];
  }
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === 'video');
  }
  addTrack(t: FakeTrack) {
    this.tracks.push(t);
  }
  removeTrack(t: FakeTrack) {
    this.tracks = this.tracks.filter((x) => x !== t);
  }
}

interface FakeTx {
  mid: string | null;
  direction: RTCRtpTransceiverDirection;
  kind: 'audio' | 'video';
  sender: { track: FakeTrack | null; replaceTrack(t: FakeTrack | null): Promise<void> };
  receiver: { track: FakeTrack };
}

/** FakePC models the signalling states, transceivers and m-lines of RTCPeerConnection. */
class FakePC {
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: { type: RTCSdpType; sdp: string } | null = null;
  remote: RTCSessionDescriptionInit[] = [];
  candidates: (RTCIceCandidateInit | undefined)[] = [];
  txs: FakeTx[] = [];
  closed = false;
  rollbacks = 0;
  onnegotiationneeded: (() => void) | null = null;
  onicecandidate: ((e: { candidate: RTCIceCandidate | null }) => void) | null = null;
  ontrack: ((e: { track: FakeTrack }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  /** configs are the configurations set after construction (TURN credential renewals). */
  configs: RTCConfiguration[] = [];
  private nextMid = 0;
  private offeredLocally: FakeTx[] = [];
  constructor(readonly config: RTCConfiguration) {}
  getConfiguration() {
    return this.configs.at(-1) ?? this.config;
  }
  setConfiguration(c: RTCConfiguration) {
    this.configs.push(c);
  }

  private tx(kind: 'audio' | 'video', track: FakeTrack | null, direction: RTCRtpTransceiverDirection): FakeTx {
    const tx: FakeTx = {
      mid: null,
      direction,
      kind,
      sender: {
        track,
        async replaceTrack(t) {
          tx.sender.track = t;
        },
      },
      receiver: { track: new FakeTrack(kind) },
    };
    this.txs.push(tx);
    return tx;
  }
  addTrack(track: FakeTrack) {
    const tx = this.tx(track.kind, track, 'sendrecv');
    queueMicrotask(() => this.negotiate());
    return tx.sender;
  }
  /** negotiate fires negotiationneeded when a transceiver is not in the last description. */
  negotiate() {
    if (this.signalingState === 'stable' && this.txs.some((t) => t.mid === null)) this.onnegotiationneeded?.();
  }
  getTransceivers() {
    return this.txs;
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remote.push(d);
    if (d.type === 'answer') {
      this.offeredLocally = [];
      this.signalingState = 'stable';
      return;
    }
    this.signalingState = 'have-remote-offer';
    const kinds = (d.sdp ?? '').split('\n').filter((l) => l.startsWith('m=')).map((l) => l.slice(2) as 'audio' | 'video');
    kinds.forEach((kind, i) => {
      const mid = String(i);
      let tx = this.txs.find((t) => t.mid === mid);
      if (!tx) {
        tx = this.txs.find((t) => t.mid === null && t.kind === kind) ?? this.tx(kind, null, 'recvonly');
        tx.mid = mid;
        this.ontrack?.({ track: tx.receiver.track });
      }
    });
    this.nextMid = kinds.length;
  }
  async setLocalDescription(d?: { type: RTCSdpType }) {
    if (d?.type === 'rollback') {
      this.rollbacks++;
      this.signalingState = 'stable';
      for (const t of this.offeredLocally) t.mid = null;
      this.nextMid -= this.offeredLocally.length;
      this.offeredLocally = [];
      return;
    }
    if (this.signalingState === 'have-remote-offer') {
      this.localDescription = { type: 'answer', sdp: this.lines() };
      this.signalingState = 'stable';
      queueMicrotask(() => this.negotiate());
      return;
    }
    this.offeredLocally = this.txs.filter((t) => t.mid === null);
    for (const t of this.offeredLocally) t.mid = String(this.nextMid++);
    this.localDescription = { type: 'offer', sdp: this.lines() };
    this.signalingState = 'have-local-offer';
  }
  lines() {
    return this.txs
      .filter((t) => t.mid !== null)
      .map((t) => `m=${t.kind} ${t.direction}${t.sender.track ? ' track' : ''}`)
      .join('\n');
  }
  async addIceCandidate(c?: RTCIceCandidateInit) {
    this.candidates.push(c);
  }
  close() {
    this.closed = true;
  }
  connect(state: RTCPeerConnectionState) {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
}

interface Sent {
  type: wire.Type;
  data: Record<string, unknown>;
}

function setup(gum: (c: MediaStreamConstraints) => Promise<FakeStream> = async (c) => devices(c)) {
  const sent: Sent[] = [];
  const requests: Sent[] = [];
  const answering: Record<string, unknown>[] = [];
  const pcs: FakePC[] = [];
  const ringer = { start: vi.fn(), stop: vi.fn() };
  const asked: MediaStreamConstraints[] = [];
  let clock = 1_000;
  let call: CallSession;
  const deps: CallDeps = {
    request: async (type, data) => {
      if (type === 'call.answering') {
        answering.push(data as Record<string, unknown>);
        return {};
      }
      requests.push({ type, data: data as Record<string, unknown> });
      // As the hub does: the active state, with the customer's ICE servers, before the ack.
      if (type === 'call.accept') call.handle(state('active', { ice: ICE }));
      return {};
    },
    notify: (type, data) => {
      sent.push({ type, data: data as Record<string, unknown> });
      return true;
    },
    getUserMedia: (c) => {
      asked.push(c);
      return gum(c) as unknown as Promise<MediaStream>;
    },
    peer: (config) => {
      const pc = new FakePC(config);
      pcs.push(pc);
      return pc as unknown as RTCPeerConnection;
    },
    stream: () => new FakeStream() as unknown as MediaStream,
    ringer,
    now: () => clock,
  };
  call = new CallSession(deps, portalI18n(['en']));
  return {
    call,
    sent,
    requests,
    answering,
    pcs,
    ringer,
    asked,
    tick: (ms: number) => (clock += ms),
    signals: () => sent.filter((s) => s.type === 'call.signal').map((s) => s.data as unknown as wire.CallSignal),
    media: () => sent.filter((s) => s.type === 'call.media').map((s) => s.data),
  };
}

function devices(c: MediaStreamConstraints): FakeStream {
  const tracks: FakeTrack[] = [];
  if (c.audio) tracks.push(new FakeTrack('audio'));
  if (c.video) tracks.push(new FakeTrack('video'));
  return new FakeStream(tracks);
}

function domError(name: string): Error {
  const e = new Error(name);
  e.name = name;
  return e;
}

/** ICE is the customer's plan: the hub sends it with the answer, never while the call rings. */
const ICE: wire.ICEConfig = {
  servers: [{ urls: ['stun:stun.example:3478'] }, { urls: ['turn:turn.example:3478'], username: 'u', credential: 'p' }],
  policy: 'relay',
};
const ringing = (extra: Partial<wire.Call> = {}): wire.Envelope => ({
  type: 'call.state',
  data: { id: 'k1', conv: 'c1', kind: 'video', state: 'ringing', created_at: 1, ...extra } satisfies wire.Call,
});
const state = (st: wire.CallState, extra: Partial<wire.Call> = {}): wire.Envelope => ({
  type: 'call.state',
  data: { id: 'k1', conv: 'c1', kind: 'video', state: st, created_at: 1, ...extra } satisfies wire.Call,
});
const signal = (s: Omit<wire.CallSignal, 'call'>): wire.Envelope => ({ type: 'call.signal', data: { call: 'k1', from: 'agent', ...s } });
const offer = (sdp: string) => signal({ sdp: { type: 'offer', sdp } });
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('CallSession', () => {
  let h: ReturnType<typeof setup>;
  beforeEach(() => {
    h = setup();
  });

  it('rings, holds the agent offer until the customer accepts with video, then answers on the offered lines', async () => {
    h.call.handle(ringing());
    expect(h.call.phase).toBe('ringing');
    expect(h.ringer.start).toHaveBeenCalledOnce();
    h.call.handle(offer('m=audio\nm=video'));
    h.call.handle(signal({ candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } }));
    await flush();
    // Nothing is asked of the browser before the customer answers.
    expect(h.asked).toEqual([]);
    expect(h.pcs).toEqual([]);

    await h.call.accept(true);
    await flush();
    expect(h.ringer.stop).toHaveBeenCalled();
    expect(h.asked[0].audio).toBe(true);
    expect(h.asked[0].video).toBeTruthy();
    expect(h.requests).toEqual([{ type: 'call.accept', data: { call: 'k1', video: true } }]);
    const pc = h.pcs[0];
    expect(pc.config.iceTransportPolicy).toBe('relay');
    expect(pc.config.iceServers).toEqual([
      { urls: ['stun:stun.example:3478'], username: undefined, credential: undefined },
      { urls: ['turn:turn.example:3478'], username: 'u', credential: 'p' },
    ]);
    expect(pc.remote[0]).toEqual({ type: 'offer', sdp: 'm=audio\nm=video' });
    expect(pc.candidates).toHaveLength(1);
    // Our camera and microphone went on the agent's two lines; no extra line, no offer of ours.
    expect(pc.txs).toHaveLength(2);
    const sdps = h.signals().filter((s) => s.sdp);
    expect(sdps).toEqual([{ call: 'k1', sdp: { type: 'answer', sdp: 'm=audio sendrecv track\nm=video sendrecv track' } }]);
    expect(h.media()).toEqual([{ call: 'k1', muted: false, video: true }]);
    expect(h.call.remoteStream!.getTracks()).toHaveLength(2);

    pc.onicecandidate!({ candidate: { candidate: 'candidate:2', sdpMid: '0', sdpMLineIndex: 0 } as RTCIceCandidate });
    pc.onicecandidate!({ candidate: null });
    const cands = h.signals().filter((s) => s.candidate).map((s) => s.candidate);
    expect(cands).toEqual([{ candidate: 'candidate:2', sdpMid: '0', sdpMLineIndex: 0 }, { candidate: '' }]);

    pc.connect('connected');
    expect(h.call.phase).toBe('active');
    expect(h.call.startedAt).toBe(1_000);
  });

  it('takes renewed TURN credentials in a long call without a new peer connection', async () => {
    h.call.handle(ringing());
    h.call.handle(offer('m=audio\nm=video'));
    await h.call.accept(true);
    await flush();
    const pc = h.pcs[0];
    pc.connect('connected');
    h.call.handle(state('active', { ice: ICE })); // the same plan again (a reconnect): nothing to do
    expect(pc.configs).toEqual([]);
    const fresh: wire.ICEConfig = { servers: [{ urls: ['turn:turn.example:3478'], username: 'u2', credential: 'p2' }], policy: 'relay' };
    h.call.handle(state('active', { ice: fresh }));
    expect(h.pcs).toHaveLength(1);
    expect(pc.configs).toHaveLength(1);
    expect(pc.configs[0].iceServers).toEqual([{ urls: ['turn:turn.example:3478'], username: 'u2', credential: 'p2' }]);
    expect(pc.configs[0].iceTransportPolicy).toBe('relay');
    expect(h.call.phase).toBe('active');
  });

  it('accepting with audio receives the agent video without sending any', async () => {
    h.call.handle(ringing());
    h.call.handle(offer('m=audio\nm=video'));
    await h.call.accept(false);
    await flush();
    expect(h.asked[0]).toEqual({ audio: true, video: false });
    expect(h.requests[0].data).toEqual({ call: 'k1', video: false });
    expect(h.signals().find((s) => s.sdp)!.sdp!.sdp).toBe('m=audio sendrecv track\nm=video recvonly');
    expect(h.call.video).toBe(false);
  });

  it('a voice call accepted with video offers the camera once the agent offer is answered', async () => {
    h.call.handle(ringing({ kind: 'voice' }));
    h.call.handle(offer('m=audio'));
    await h.call.accept(true);
    await flush();
    await flush();
    const sdps = h.signals().filter((s) => s.sdp).map((s) => s.sdp!);
    expect(sdps).toEqual([
      { type: 'answer', sdp: 'm=audio sendrecv track' },
      { type: 'offer', sdp: 'm=audio sendrecv track\nm=video sendrecv track' },
    ]);
    h.call.handle(signal({ sdp: { type: 'answer', sdp: 'm=audio\nm=video' } }));
    await flush();
    expect(h.pcs[0].signalingState).toBe('stable');
  });

  it('hides video where the conversation allows voice only', async () => {
    h.call.handle(ringing({ kind: 'voice', allowed: 'voice' }));
    expect(h.call.videoAllowed).toBe(false);
    h.call.handle(offer('m=audio'));
    await h.call.accept(true);
    expect(h.asked[0]).toEqual({ audio: true, video: false });
    await h.call.toggleVideo();
    expect(h.asked).toHaveLength(1);
  });

  it('mute stops sending sound and tells the agent', async () => {
    h.call.handle(ringing());
    h.call.handle(offer('m=audio\nm=video'));
    await h.call.accept(true);
    await flush();
    const mic = h.pcs[0].txs[0].sender.track!;
    h.call.toggleMute();
    expect(mic.enabled).toBe(false);
    expect(h.call.muted).toBe(true);
    expect(h.media().at(-1)).toEqual({ call: 'k1', muted: true, video: true });
    h.call.toggleMute();
    expect(mic.enabled).toBe(true);
    expect(h.media().at(-1)).toEqual({ call: 'k1', muted: false, video: true });
  });

  it('video off stops the camera without renegotiating; on again re-uses the line', async () => {
    h.call.handle(ringing());
    h.call.handle(offer('m=audio\nm=video'));
    await h.call.accept(true);
    await flush();
    const pc = h.pcs[0];
    const cam = pc.txs[1].sender.track!;
    await h.call.toggleVideo();
    await flush();
    expect(cam.readyState).toBe('ended');
    expect(pc.txs[1].sender.track).toBeNull();
    expect(h.media().at(-1)).toEqual({ call: 'k1', muted: false, video: false });
    await h.call.toggleVideo();
    await flush();
    expect(pc.txs[1].sender.track?.readyState).toBe('live');
    expect(h.media().at(-1)).toEqual({ call: 'k1', muted: false, video: true });
    expect(h.signals().filter((s) => s.sdp?.type === 'offer')).toEqual([]);
  });

  it('turning video on in an audio-accepted video call renegotiates the agent video line', async () => {
    h.call.handle(ringing());
    h.call.handle(offer('m=audio\nm=video'));
    await h.call.accept(false);
    await flush();
    const pc = h.pcs[0];
    // The direction change makes the browser ask for negotiation.
    const origSetter = pc.txs[1];
    await h.call.toggleVideo();
    expect(origSetter.direction).toBe('sendrecv');
    pc.onnegotiationneeded!();
    await flush();
    const offers = h.signals().filter((s) => s.sdp?.type === 'offer');
    expect(offers.map((s) => s.sdp!.sdp)).toEqual(['m=audio sendrecv track\nm=video sendrecv track']);
  });

  it('glare: the agent offer wins, ours is rolled back and offered again', async () => {
    h.call.handle(ringing({ kind: 'voice' }));
    h.call.handle(offer('m=audio'));
    await h.call.accept(false);
    await flush();
    const pc = h.pcs[0];
    await h.call.toggleVideo(); // adds a track: negotiationneeded → our offer
    await flush();
    await flush();
    expect(pc.signalingState).toBe('have-local-offer');
    // The agent, impolite, ignores our offer and sends its own.
    h.call.handle(offer('m=audio'));
    await flush();
    await flush();
    expect(pc.rollbacks).toBe(1);
    const sdps = h.signals().filter((s) => s.sdp).map((s) => `${s.sdp!.type}: ${s.sdp!.sdp}`);
    expect(sdps).toEqual([
      'answer: m=audio sendrecv track',
      'offer: m=audio sendrecv track\nm=video sendrecv track',
      'answer: m=audio sendrecv track',
      'offer: m=audio sendrecv track\nm=video sendrecv track',
    ]);
  });

  it('camera refused: the customer may go on with audio only', async () => {
    h = setup(async (c) => {
      if (c.video) throw domError('NotAllowedError');
      return devices(c);
    });
    h.call.handle(ringing());
    await h.call.accept(true);
    expect(h.call.phase).toBe('permission');
    expect(h.call.permission).toEqual({ device: 'camera', problem: 'denied' });
    expect(h.requests).toEqual([]);
    // The hub hears at once that the customer answered (no more ringing out), then why the
    // answer waits: the agent is told the camera is blocked.
    expect(h.answering).toEqual([{ call: 'k1', video: true }, { call: 'k1', video: true, problem: 'camera_denied' }]);
    await h.call.continueAudioOnly();
    expect(h.call.phase).toBe('connecting');
    expect(h.requests).toEqual([{ type: 'call.accept', data: { call: 'k1', video: false } }]);
    // The microphone asked for during the check is the one used (no second prompt).
    expect(h.asked).toHaveLength(2);
  });

  it('checking camera and microphone while it rings: nothing is sent, and accepting lets the check devices go', async () => {
    h = setup();
    h.call.handle(ringing());
    await h.call.checkDevices(true);
    const checked = h.call.check?.stream as unknown as FakeStream;
    expect(h.call.check?.problem).toBeNull();
    expect(h.asked).toEqual([{ audio: true, video: expect.anything() }]);
    expect(h.answering).toEqual([]);
    expect(h.requests).toEqual([]);
    expect(h.call.phase).toBe('ringing');
    await h.call.accept(true);
    expect(h.call.check).toBeNull();
    expect(checked.getTracks().every((tr) => (tr as unknown as FakeTrack).readyState === 'ended')).toBe(true);
  });

  it('while it rings, the network probe runs with the probe credentials and reports its figures; the call ending aborts it', async () => {
    h = setup();
    const probeICE: wire.ICEConfig = { servers: [{ urls: ['turn:relay.example:3478'], username: 'nettest', credential: 'p' }], policy: 'relay' };
    const runs: { ice: wire.ICEConfig; signal: AbortSignal; done: (f: { reached: boolean; rtt_ms: number; loss_pct: number; transport?: string }) => void }[] = [];
    const request = h.call['deps'].request;
    h.call['deps'].request = async (type, data) => (type === 'call.probe' ? { ice: probeICE } : request(type, data));
    h.call['deps'].probe = (ice, signal) => new Promise((done) => runs.push({ ice, signal, done }));
    h.call.handle(ringing());
    await flush();
    expect(h.call.probe).toBe('running');
    expect(runs.map((r) => r.ice)).toEqual([probeICE]);
    runs[0].done({ reached: true, rtt_ms: 42, loss_pct: 0, transport: 'udp' });
    await flush();
    await flush();
    expect(h.requests).toEqual([{ type: 'call.probe_result', data: { call: 'k1', reached: true, rtt_ms: 42, loss_pct: 0, transport: 'udp' } }]);
    expect(h.call.probe).toBe('done');

    // A second ringing call whose probe is cut by the end of the call reports nothing.
    h.call.handle(state('ended', { reason: 'cancelled' }));
    h.call.handle(ringing({ id: 'k2' }));
    await flush();
    expect(runs).toHaveLength(2);
    h.call.handle(state('ended', { id: 'k2', reason: 'cancelled' }));
    expect(runs[1].signal.aborted).toBe(true);
  });

  it('a refused camera in the check says so as answering would, and the microphone still shows', async () => {
    h = setup(async (c) => {
      if (c.video) throw domError('NotAllowedError');
      return devices(c);
    });
    h.call.handle(ringing());
    await h.call.checkDevices(true);
    expect(h.call.check?.problem).toEqual({ device: 'camera', problem: 'denied' });
    expect(h.call.check?.stream?.getAudioTracks()).toHaveLength(1);
    await h.call.decline();
    expect(h.call.check).toBeNull();
  });

  it('no microphone: the customer may stay in chat, which declines politely', async () => {
    h = setup(async () => {
      throw domError('NotFoundError');
    });
    h.call.handle(ringing());
    await h.call.accept(false);
    expect(h.call.permission).toEqual({ device: 'microphone', problem: 'missing' });
    await h.call.retry();
    expect(h.asked).toHaveLength(2);
    await h.call.decline();
    expect(h.requests).toEqual([{ type: 'call.decline', data: { call: 'k1' } }]);
    expect(h.call.phase).toBe('ended');
    expect(h.call.endKey).toBe('call.ended.declined');
  });

  it('a call that ends while the browser asks releases the devices', async () => {
    let release!: (s: FakeStream) => void;
    const mic = new FakeStream([new FakeTrack('audio')]);
    h = setup(() => new Promise((r) => (release = r)));
    h.call.handle(ringing());
    const accepting = h.call.accept(false);
    h.call.handle(state('ended', { reason: 'ring_timeout', outcome: 'missed' }));
    release(mic);
    await accepting;
    expect(h.call.endKey).toBe('call.ended.missed');
    expect(mic.tracks[0].readyState).toBe('ended');
    expect(h.requests).toEqual([]);
  });

  it('decline sends call.decline and stops the ring', async () => {
    h.call.handle(ringing());
    await h.call.decline();
    expect(h.ringer.stop).toHaveBeenCalled();
    expect(h.requests).toEqual([{ type: 'call.decline', data: { call: 'k1' } }]);
    expect(h.call.phase).toBe('ended');
  });

  it('shows the agent mute and camera state from call.media', async () => {
    h.call.handle(ringing());
    expect(h.call.remoteVideo).toBe(true);
    h.call.handle({ type: 'call.media', data: { call: 'k1', muted: true, video: false, from: 'agent' } });
    expect(h.call.remoteMuted).toBe(true);
    expect(h.call.remoteVideo).toBe(false);
    // Our own state echoed back, or another call's, changes nothing.
    h.call.handle({ type: 'call.media', data: { call: 'k1', muted: false, video: true, from: 'customer' } });
    h.call.handle({ type: 'call.media', data: { call: 'other', muted: false, video: true, from: 'agent' } });
    expect(h.call.remoteMuted).toBe(true);
  });

  it('the agent hanging up ends the call and frees everything', async () => {
    h.call.handle(ringing());
    h.call.handle(offer('m=audio\nm=video'));
    await h.call.accept(true);
    await flush();
    const pc = h.pcs[0];
    const tracks = pc.txs.map((t) => t.sender.track!);
    pc.connect('connected');
    h.tick(65_000);
    h.call.handle(state('ended', { ended_by: 'agent', reason: 'hangup' }));
    expect(h.call.phase).toBe('ended');
    expect(h.call.endKey).toBe('call.ended.byAgent');
    expect(h.call.endedAt - h.call.startedAt).toBe(65_000);
    expect(pc.closed).toBe(true);
    expect(tracks.every((t) => t.readyState === 'ended')).toBe(true);
    // Signals that arrive late are ignored.
    h.call.handle(offer('m=audio'));
    await flush();
    expect(pc.remote).toHaveLength(1);
  });

  it('End call sends call.end; closing the tab sends it without waiting', async () => {
    h.call.handle(ringing());
    h.call.handle(offer('m=audio\nm=video'));
    await h.call.accept(false);
    await h.call.hangup();
    expect(h.requests.at(-1)).toEqual({ type: 'call.end', data: { call: 'k1' } });
    expect(h.call.endKey).toBe('call.ended.byYou');

    const g = setup();
    g.call.handle(ringing());
    g.call.handle(offer('m=audio'));
    await g.call.accept(false);
    g.call.pagehide();
    expect(g.sent.at(-1)).toEqual({ type: 'call.end', data: { call: 'k1' } });
    expect(g.call.phase).toBe('ended');
  });

  it('a failed connection gets a moment to come back, then ends the call with a clear line', async () => {
    h.call.handle(ringing());
    h.call.handle(offer('m=audio'));
    await h.call.accept(false);
    await flush();
    vi.useFakeTimers();
    try {
      h.pcs[0].connect('connected');
      h.pcs[0].connect('failed');
      expect(h.call.unstable).toBe(true);
      vi.advanceTimersByTime(FAIL_GRACE_MS - 100);
      // The agent's ICE restart brings it back.
      h.pcs[0].connect('connected');
      expect(h.call.unstable).toBe(false);
      vi.advanceTimersByTime(FAIL_GRACE_MS);
      expect(h.call.phase).toBe('active');
      h.pcs[0].connect('failed');
      vi.advanceTimersByTime(FAIL_GRACE_MS);
    } finally {
      vi.useRealTimers();
    }
    await flush();
    expect(h.call.phase).toBe('ended');
    expect(h.call.endKey).toBe('call.ended.failed');
    expect(h.requests.at(-1)!.type).toBe('call.end');
  });

  it('a refused accept (the call is gone) ends it with the hub reason in words', async () => {
    h = setup();
    const call = new CallSession(
      {
        ...(h.call as unknown as { deps: CallDeps }).deps,
        request: async () => {
          throw new WireError('ECONFLICT', 'call ended');
        },
      },
      portalI18n(['en']),
    );
    call.handle(ringing());
    await call.accept(false);
    expect(call.phase).toBe('ended');
    expect(call.error).toMatch(/no longer possible/);
  });

  it('a new ringing call after an ended one starts fresh; an old call end is ignored', async () => {
    h.call.handle(state('ended'));
    expect(h.call.call).toBeNull();
    h.call.handle(ringing());
    await h.call.decline();
    h.call.handle(ringing({ id: 'k2', kind: 'voice' }));
    expect(h.call.phase).toBe('ringing');
    expect(h.call.call?.id).toBe('k2');
    expect(h.call.remoteVideo).toBe(false);
  });
});

describe('call helpers', () => {
  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(252_000)).toBe('4:12');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
  });

  it('classifies device errors by their standard names', () => {
    expect(problemOf(domError('NotAllowedError'))).toBe('denied');
    expect(problemOf(domError('NotFoundError'))).toBe('missing');
    expect(problemOf(domError('NotReadableError'))).toBe('other');
    expect(problemOf(new TypeError('no mediaDevices'))).toBe('other');
  });

  it('words the end of a call after the hub reason', () => {
    const c = (x: Partial<wire.Call>): wire.Call => ({ id: 'k', conv: 'c', kind: 'voice', state: 'ended', created_at: 0, ...x });
    expect(endKeyOf(c({ reason: 'ring_timeout' }))).toBe('call.ended.missed');
    expect(endKeyOf(c({ outcome: 'cancelled', ended_by: 'agent' }))).toBe('call.ended.cancelled');
    expect(endKeyOf(c({ reason: 'disconnected' }))).toBe('call.ended.lost');
    expect(endKeyOf(c({ ended_by: 'customer', reason: 'hangup' }))).toBe('call.ended.byYou');
  });
});

describe('call strings', () => {
  const keys = (m: unknown, prefix = ''): string[] =>
    Object.entries(m as Record<string, unknown>).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`)));

  it('Spanish has every English call key, and no extra', () => {
    expect(keys(sharedEs.call).sort()).toEqual(keys(sharedEn.call).sort());
  });

  it('every permission problem has a sentence in both languages', () => {
    for (const lang of ['en', 'es']) {
      const t = portalI18n([lang]);
      for (const device of ['camera', 'microphone'] as const) {
        for (const problem of ['denied', 'missing', 'other'] as const) {
          const key = permissionKey(device, problem);
          expect(t.t(key), `${lang} ${key}`).not.toBe(key);
        }
      }
    }
  });

  it('the view uses only keys that exist', () => {
    const src = viewSource + machineSource;
    const used = [...src.matchAll(/'(call\.[a-zA-Z.]+)'/g)].map((m) => m[1]).filter((k) => !k.endsWith('.'));
    expect(used.length).toBeGreaterThan(20);
    const en = new Set(keys(sharedEn.call, 'call.'));
    for (const k of used) expect(en.has(k), k).toBe(true);
  });
});
