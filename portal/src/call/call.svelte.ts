// CallSession is the customer's side of one voice or video call, driven by the hub's call.* events
// (see wire/call.go). The agent's Go media engine is the impolite peer and sends the first offer
// right after inviting; we are the polite peer of the perfect-negotiation pattern: we hold that offer
// until the customer accepts, answer it, and when our own change needs an offer (video turned on
// mid-call, a voice call accepted with video) we offer too, rolling back ours if both sides offered
// at once. Standard WebRTC only (getUserMedia, RTCPeerConnection, addTrack, replaceTrack).
import * as wire from '../../../web/wire.gen';
import { WireError } from '../../../web/client';
import type { Translator } from '../../../web/i18n';
import type { ProbeFigures } from './probe';

/** Phase is what the call view shows. */
export type Phase = 'ringing' | 'asking' | 'permission' | 'connecting' | 'active' | 'ended';

/** Device is the device a permission problem is about. */
export type Device = 'camera' | 'microphone';

/** Problem is why a device could not be used: refused, absent, or anything else (busy, broken). */
export type Problem = 'denied' | 'missing' | 'other';

/** Ringer plays the ring while a call rings. */
export interface Ringer {
  start(): void;
  stop(): void;
}

/** CallDeps are what a call needs from the chat and the browser; tests pass fakes. */
export interface CallDeps {
  /** request sends a request to the hub and resolves with its Ack. */
  request(type: wire.Type, data: unknown): Promise<unknown>;
  /** notify sends an event needing no answer; false when offline. */
  notify(type: wire.Type, data: unknown): boolean;
  getUserMedia(c: MediaStreamConstraints): Promise<MediaStream>;
  peer(config: RTCConfiguration): RTCPeerConnection;
  /** stream makes an empty MediaStream to collect the agent's tracks. */
  stream(): MediaStream;
  ringer: Ringer;
  now(): number;
  /**
   * probe runs the network probe through ice's relays (probe.ts) while the call rings; null when
   * aborted. Absent: no probe.
   */
  probe?(ice: wire.ICEConfig, signal: AbortSignal): Promise<ProbeFigures | null>;
}

/** FAIL_GRACE_MS is how long a failed media connection may take to come back (ICE restart). */
export const FAIL_GRACE_MS = 8000;

/** videoConstraints ask for a modest camera picture: enough for a support call, light on a phone. */
export const videoConstraints: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } };

/** problemOf classifies a getUserMedia failure by its standard DOMException name. */
export function problemOf(e: unknown): Problem {
  const name = (e as { name?: string } | null)?.name ?? '';
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return 'missing';
  return 'other';
}

/** formatDuration renders milliseconds as m:ss (or h:mm:ss). */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** CallSession is one call's state, reactive for Svelte. */
export class CallSession {
  call = $state<wire.Call | null>(null);
  phase = $state<Phase>('ringing');
  /** wantVideo is what the customer chose on accept (or last tried). */
  wantVideo = $state(false);
  /** recordConsent is the customer's answer to "Allow this call to be recorded" (ask). */
  recordConsent = $state(false);
  /** permission describes the device problem shown in the 'permission' phase. */
  permission = $state<{ device: Device; problem: Problem } | null>(null);
  muted = $state(false);
  /** video is true while our camera is sending. */
  video = $state(false);
  /** busy is true while a camera toggle is in progress. */
  busy = $state(false);
  remoteMuted = $state(false);
  /** remoteVideo is the agent's camera state from call.media (a replaced track fires no event). */
  remoteVideo = $state(false);
  /** remoteVideoLive is true while a video track from the agent is present and not muted. */
  remoteVideoLive = $state(false);
  /** remoteStream holds the agent's audio and video; the view plays it. */
  remoteStream = $state.raw<MediaStream | null>(null);
  /** localStream is the self-view. */
  localStream = $state.raw<MediaStream | null>(null);
  /** remoteVersion and localVersion count track changes in those streams (same objects). */
  remoteVersion = $state(0);
  localVersion = $state(0);
  /** startedAt is when media connected (local clock); 0 before. */
  startedAt = $state(0);
  endedAt = $state(0);
  /** endKey is the translation key of the "call ended" line. */
  endKey = $state('');
  /** error is a translated sentence when something failed. */
  error = $state('');
  /** silenced is true once the customer stopped the ring. */
  silenced = $state(false);
  /** unstable is true while the media connection is lost and may come back. */
  unstable = $state(false);
  /**
   * check is "Check camera and microphone" while the call rings: the devices the browser gave
   * (self view and level meter), or the device it refused and why (the same wording as the
   * answer's); null when closed.
   */
  check = $state.raw<{ stream: MediaStream | null; problem: { device: Device; problem: Problem } | null } | null>(null);
  /**
   * probe is where the network probe is: '' before, 'running', 'done' (figures sent to the hub),
   * 'skipped' (no relay to probe, or refused).
   */
  probe = $state<'' | 'running' | 'done' | 'skipped'>('');
  private probeAbort: AbortController | null = null;
  /** checkSeq tells a check that finished after it was closed or restarted to let its devices go. */
  private checkSeq = 0;

  private pc: RTCPeerConnection | null = null;
  private ice: wire.ICEConfig | null = null;
  /** held keeps the agent's signals that arrive before the customer accepts (the first offer). */
  private held: wire.CallSignal[] = [];
  /** chain runs signalling steps one at a time, in arrival order. */
  private chain: Promise<void> = Promise.resolve();
  /** offered is true once the agent's first offer is applied; we only offer after that. */
  private offered = false;
  /** wantOffer is set when negotiation was needed before we could offer. */
  private wantOffer = false;
  /** redirected is set when we changed a transceiver's direction and have not offered it yet. */
  private redirected = false;
  /** spare is the microphone stream kept after the camera failed, for "continue with audio only". */
  private spare: MediaStream | null = null;
  private failTimer: ReturnType<typeof setTimeout> | null = null;
  private stream: MediaStream | null = null;

  constructor(
    private deps: CallDeps,
    private t: Translator,
  ) {}

  /** live is true from ringing until the call ends. */
  get live(): boolean {
    return !!this.call && this.phase !== 'ended';
  }

  /** videoAllowed says whether the conversation permits video (hidden "accept with video" otherwise). */
  get videoAllowed(): boolean {
    return this.call?.allowed !== wire.CallsVoiceOnly && this.call?.allowed !== wire.CallsNone;
  }

  /** handle takes one call.* event from the hub. */
  handle(env: wire.Envelope): void {
    switch (env.type) {
      case wire.TypeCallState:
        this.onState(env.data as wire.Call);
        return;
      case wire.TypeCallSignal:
        this.onSignal(env.data as wire.CallSignal);
        return;
      case wire.TypeCallMedia:
        this.onMedia(env.data as wire.CallMedia);
        return;
    }
  }

  private onState(c: wire.Call): void {
    const known = this.call?.id === c.id;
    if (!known) {
      // A call we have not seen: an old call's end is of no interest; a new ringing call replaces a
      // finished one (the hub allows one call per conversation at a time).
      if (c.state === 'ended' || (this.call && this.live)) return;
      this.reset();
      this.call = c;
      this.ice = c.ice ?? null;
      this.remoteVideo = c.kind === 'video';
      if (c.state === 'ringing') {
        this.phase = 'ringing';
        this.deps.ringer.start();
        void this.runProbe(c.id);
        return;
      }
      // Active on arrival: answered in another tab of this customer. Nothing for us to show.
      this.call = null;
      return;
    }
    // Fields the hub leaves out when false still change: recording stops, for one.
    this.call = { ...this.call!, ...c, ice: c.ice ?? this.call!.ice, recording: c.recording ?? false, consent: c.consent ?? false, supervisor: c.supervisor ?? '', monitored: c.monitored ?? false };
    if (c.ice) {
      // The hub hands our relay credentials over with the answer, and fresh ones before they
      // expire in a long call: the agent then restarts ICE, and our side gathers with these.
      const renewed = this.ice !== null && JSON.stringify(this.ice) !== JSON.stringify(c.ice);
      this.ice = c.ice;
      if (renewed && this.pc) {
        try {
          this.pc.setConfiguration({ ...this.pc.getConfiguration(), ...rtcConfig(c.ice) });
        } catch {
          // A browser that refuses the change keeps the old servers until they lapse.
        }
      }
    }
    if (c.state === 'ended') this.finish(endKeyOf(c));
  }

  private onSignal(s: wire.CallSignal): void {
    if (!this.call || s.call !== this.call.id || this.phase === 'ended') return;
    if (!this.pc) {
      // Not accepted yet: keep the offer and its candidates for when the customer answers.
      this.held.push(s);
      return;
    }
    this.enqueue(() => this.apply(s));
  }

  private onMedia(m: wire.CallMedia): void {
    if (!this.call || m.call !== this.call.id || m.from === 'customer') return;
    this.remoteMuted = m.muted;
    this.remoteVideo = m.video;
  }

  /** silence stops the ring without answering. */
  silence(): void {
    this.silenced = true;
    this.deps.ringer.stop();
  }

  /**
   * accept asks for the microphone (and camera, with video) and answers. The browser's permission
   * prompt appears only now. A failure shows which device failed, with the choices the view offers.
   */
  /**
   * checkDevices opens the microphone (and the camera for a video call) so the customer sees and
   * hears themselves before answering. Nothing is sent to anyone; stopCheck lets them go.
   */
  async checkDevices(video: boolean): Promise<void> {
    this.stopCheck();
    const seq = ++this.checkSeq;
    this.check = { stream: null, problem: null };
    let stream: MediaStream | null = null;
    let problem: { device: Device; problem: Problem } | null = null;
    try {
      stream = await this.deps.getUserMedia({ audio: true, video: video ? videoConstraints : false });
    } catch (e) {
      problem = { device: video ? 'camera' : 'microphone', problem: problemOf(e) };
      if (video) {
        // Which one failed? The microphone alone tells, as when answering.
        try {
          stream = await this.deps.getUserMedia({ audio: true });
        } catch (e2) {
          problem = { device: 'microphone', problem: problemOf(e2) };
        }
      }
    }
    if (seq !== this.checkSeq) {
      if (stream) stopAll(stream);
      return;
    }
    this.check = { stream, problem };
  }

  /** stopCheck closes the device check and the devices it opened. */
  stopCheck(): void {
    this.checkSeq++;
    if (this.check?.stream) stopAll(this.check.stream);
    this.check = null;
  }

  async accept(video: boolean): Promise<void> {
    this.stopCheck();
    if (this.phase !== 'ringing' && this.phase !== 'permission') return;
    video = video && this.videoAllowed;
    this.deps.ringer.stop();
    this.wantVideo = video;
    this.phase = 'asking';
    this.permission = null;
    this.error = '';
    this.dropSpare();
    // The customer has answered: the hub stops ringing out (no "missed call" while the browser
    // asks) and the agent learns what, if anything, holds the answer up.
    this.answering(video, '');
    let stream: MediaStream;
    try {
      stream = await this.deps.getUserMedia({ audio: true, video: video ? videoConstraints : false });
    } catch (e) {
      if (this.phase !== 'asking') return;
      if (!video) {
        this.permission = { device: 'microphone', problem: problemOf(e) };
        this.phase = 'permission';
        this.answering(video, `microphone_${this.permission.problem}`);
        return;
      }
      // Which one failed? Try the microphone alone: if it works, only the camera is the problem.
      try {
        const audio = await this.deps.getUserMedia({ audio: true });
        if (this.phase !== 'asking') {
          stopAll(audio);
          return;
        }
        this.spare = audio;
        this.permission = { device: 'camera', problem: problemOf(e) };
      } catch (e2) {
        if (this.phase !== 'asking') return;
        this.permission = { device: 'microphone', problem: problemOf(e2) };
      }
      this.phase = 'permission';
      this.answering(video, `${this.permission.device}_${this.permission.problem}`);
      return;
    }
    if (this.phase !== 'asking') {
      // The call ended while the browser asked.
      stopAll(stream);
      return;
    }
    await this.begin(stream, video);
  }

  /** answering tells the hub, best effort, that the customer answered and what holds it up. */
  private answering(video: boolean, problem: string): void {
    const c = this.call;
    if (!c) return;
    this.deps.request(wire.TypeCallAnswering, { call: c.id, video, problem: problem || undefined } satisfies wire.CallAnswering).catch(() => {});
  }

  /** continueAudioOnly answers with the microphone after the camera failed. */
  async continueAudioOnly(): Promise<void> {
    if (this.phase !== 'permission') return;
    const spare = this.spare;
    this.spare = null;
    this.wantVideo = false;
    if (spare) {
      this.phase = 'asking';
      await this.begin(spare, false);
    } else {
      await this.accept(false);
    }
  }

  /** retry asks for the devices again (after the customer changed the browser's setting). */
  retry(): Promise<void> {
    return this.accept(this.wantVideo);
  }

  /** decline refuses the ringing call (also "stay in chat" after a device problem). */
  async decline(): Promise<void> {
    const c = this.call;
    if (!c || (this.phase !== 'ringing' && this.phase !== 'permission' && this.phase !== 'asking')) return;
    this.finish('call.ended.declined');
    try {
      await this.deps.request(wire.TypeCallDecline, { call: c.id } satisfies wire.CallRef);
    } catch {
      // The call is over for us either way; the hub ends it when the ring times out.
    }
  }

  /** hangup ends the call (key is the "call ended" line to show); during ringing it declines. */
  async hangup(key = 'call.ended.byYou'): Promise<void> {
    const c = this.call;
    if (!c || this.phase === 'ended') return;
    if (this.phase === 'ringing' || this.phase === 'permission') return this.decline();
    this.finish(key);
    try {
      await this.deps.request(wire.TypeCallEnd, { call: c.id } satisfies wire.CallRef);
    } catch {
      // Best effort: the hub also ends calls whose peer is gone.
    }
  }

  /** pagehide tells the hub, best effort, that the tab is closing mid-call. */
  pagehide(): void {
    const c = this.call;
    if (!c || this.phase === 'ended') return;
    const ringing = this.phase === 'ringing' || this.phase === 'permission';
    this.deps.notify(ringing ? wire.TypeCallDecline : wire.TypeCallEnd, { call: c.id } satisfies wire.CallRef);
    this.finish('call.ended.byYou');
  }

  /** toggleMute stops (or resumes) sending the microphone's sound and tells the agent. */
  toggleMute(): void {
    if (!this.stream) return;
    this.muted = !this.muted;
    for (const tr of this.stream.getAudioTracks()) tr.enabled = !this.muted;
    this.tellMedia();
  }

  /**
   * toggleVideo turns the camera on or off. Off stops the camera (its light goes out) and sends
   * nothing; on asks for the camera and, when no video is negotiated yet, renegotiates.
   */
  async toggleVideo(): Promise<void> {
    const pc = this.pc;
    if (!pc || !this.stream || this.busy || !this.videoAllowed) return;
    this.busy = true;
    this.error = '';
    try {
      if (this.video) {
        for (const tr of this.stream.getVideoTracks()) {
          tr.stop();
          this.stream.removeTrack(tr);
        }
        const tx = this.videoTransceiver();
        if (tx) await tx.sender.replaceTrack(null);
        this.video = false;
      } else {
        let cam: MediaStream;
        try {
          cam = await this.deps.getUserMedia({ video: videoConstraints });
        } catch (e) {
          this.error = this.t.t(permissionKey('camera', problemOf(e)));
          return;
        }
        if (this.pc !== pc) {
          stopAll(cam);
          return;
        }
        const track = cam.getVideoTracks()[0];
        this.stream.addTrack(track);
        const tx = this.videoTransceiver();
        if (tx) {
          await tx.sender.replaceTrack(track);
          if (tx.direction !== 'sendrecv') {
            tx.direction = 'sendrecv';
            this.redirected = true;
          }
        } else {
          pc.addTrack(track, this.stream);
        }
        this.video = true;
      }
      this.localVersion++;
      this.tellMedia();
    } finally {
      this.busy = false;
    }
  }

  /** dismiss hides the "call ended" line. */
  dismiss(): void {
    if (this.phase === 'ended') this.call = null;
  }

  private async begin(stream: MediaStream, video: boolean): Promise<void> {
    const c = this.call!;
    this.stream = stream;
    this.localStream = stream;
    this.video = video && stream.getVideoTracks().length > 0;
    this.muted = false;
    this.phase = 'connecting';
    try {
      // Consent to recording: explicit for "ask" (the box, unticked by default); for "always"
      // the notice said that answering is agreeing.
      const record = c.record === 'always' || (c.record === 'ask' && this.recordConsent);
      await this.deps.request(wire.TypeCallAccept, { call: c.id, video: this.video, ...(record ? { record } : {}) } satisfies wire.CallAccept);
    } catch (e) {
      // The call may have ended meanwhile (the agent hung up): then there is nothing to report.
      if ((this.phase as Phase) === 'ended') return;
      this.error = e instanceof WireError ? this.t.error(e.code) : this.t.error('NETWORK');
      this.finish('call.ended.failed');
      return;
    }
    if ((this.phase as Phase) !== 'connecting') return;
    // The hub sent the active state, with our ICE servers, before acknowledging the accept.
    const pc = this.deps.peer(rtcConfig(this.ice));
    this.pc = pc;
    this.remoteStream = this.deps.stream();
    // addTrack before the offer is applied: the offer's m-lines then take these transceivers, so
    // the answer sends our audio (and video) on the lines the agent offered.
    for (const tr of stream.getTracks()) pc.addTrack(tr, stream);
    pc.onnegotiationneeded = () => this.enqueue(() => this.offer());
    pc.onicecandidate = (e) => {
      const cand = e.candidate;
      const candidate: wire.ICECandidate = cand
        ? { candidate: cand.candidate, sdpMid: cand.sdpMid ?? undefined, sdpMLineIndex: cand.sdpMLineIndex ?? undefined }
        : { candidate: '' };
      this.signal({ candidate });
    };
    pc.ontrack = (e) => this.onTrack(e.track);
    pc.onconnectionstatechange = () => this.onConnState(pc);
    this.tellMedia();
    const held = this.held;
    this.held = [];
    for (const s of held) this.enqueue(() => this.apply(s));
  }

  private onTrack(track: MediaStreamTrack): void {
    const rs = this.remoteStream;
    if (!rs) return;
    if (!rs.getTracks().includes(track)) rs.addTrack(track);
    if (track.kind === 'video') {
      const live = () => (this.remoteVideoLive = track.readyState === 'live' && !track.muted);
      track.onmute = live;
      track.onunmute = live;
      track.onended = live;
      live();
    }
    // Tell the view to re-bind srcObject so it plays what was added.
    this.remoteVersion++;
  }

  private onConnState(pc: RTCPeerConnection): void {
    if (pc !== this.pc) return;
    const st = pc.connectionState;
    this.unstable = st === 'disconnected' || st === 'failed';
    if (st === 'connected') {
      this.clearFailTimer();
      if (this.phase === 'connecting') {
        this.phase = 'active';
        if (!this.startedAt) this.startedAt = this.deps.now();
      }
    } else if (st === 'failed' && !this.failTimer) {
      // The agent restarts ICE when the connection fails; give that a moment before giving up.
      this.failTimer = setTimeout(() => {
        this.failTimer = null;
        if (this.pc === pc && pc.connectionState !== 'connected') void this.hangup('call.ended.failed');
      }, FAIL_GRACE_MS);
    }
  }

  private clearFailTimer(): void {
    if (this.failTimer) clearTimeout(this.failTimer);
    this.failTimer = null;
  }

  /** apply handles one signal from the agent (perfect negotiation, polite side). */
  private async apply(s: wire.CallSignal): Promise<void> {
    const pc = this.pc;
    if (!pc || pc !== this.pc || this.phase === 'ended') return;
    if (s.sdp) {
      const desc: RTCSessionDescriptionInit = { type: s.sdp.type as RTCSdpType, sdp: s.sdp.sdp };
      if (desc.type === 'offer' && pc.signalingState !== 'stable') {
        // Glare: the agent's offer crossed ours. Being polite, we give way: roll ours back, answer
        // theirs, then offer our change again.
        await pc.setLocalDescription({ type: 'rollback' });
        this.wantOffer = true;
      } else if (desc.type === 'answer' && pc.signalingState !== 'have-local-offer') {
        return; // An answer to an offer we rolled back.
      }
      await pc.setRemoteDescription(desc);
      if (desc.type === 'offer') {
        this.offered = true;
        await pc.setLocalDescription();
        this.sendLocal(pc);
        // Offer what the agent's offer did not cover: a camera the customer turned on (or accepted
        // a voice call with) before or while the agent was offering.
        if (this.wantOffer && (this.redirected || pc.getTransceivers().some((tx) => tx.direction !== 'stopped' && tx.mid === null))) {
          await this.offer();
        }
        this.wantOffer = false;
      }
      return;
    }
    if (s.candidate) {
      try {
        await pc.addIceCandidate(s.candidate.candidate === '' ? undefined : s.candidate);
      } catch {
        // A candidate for a description we rolled back, or one the browser cannot use: harmless.
      }
    }
  }

  /** offer sends our offer when our side changed (video added) and the agent's first offer is in. */
  private async offer(): Promise<void> {
    const pc = this.pc;
    if (!pc || this.phase === 'ended') return;
    if (!this.offered || pc.signalingState !== 'stable') {
      this.wantOffer = true;
      return;
    }
    // Nothing of ours left out of the last exchange (the browser may ask while the agent's offer is
    // being answered, which covered our tracks): no offer.
    if (!this.redirected && !pc.getTransceivers().some((tx) => tx.direction !== 'stopped' && tx.mid === null)) return;
    await pc.setLocalDescription();
    this.redirected = false;
    this.sendLocal(pc);
  }

  private sendLocal(pc: RTCPeerConnection): void {
    const d = pc.localDescription;
    if (d) this.signal({ sdp: { type: d.type, sdp: d.sdp } });
  }

  private signal(part: Omit<wire.CallSignal, 'call'>): void {
    if (!this.call) return;
    this.deps.notify(wire.TypeCallSignal, { call: this.call.id, ...part } satisfies wire.CallSignal);
  }

  private tellMedia(): void {
    if (!this.call) return;
    this.deps.notify(wire.TypeCallMedia, { call: this.call.id, muted: this.muted, video: this.video } satisfies wire.CallMedia);
  }

  private videoTransceiver(): RTCRtpTransceiver | undefined {
    return this.pc
      ?.getTransceivers()
      .find((tx) => tx.direction !== 'stopped' && (tx.sender.track?.kind ?? tx.receiver.track?.kind) === 'video');
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch(() => {
      // A signalling step that fails leaves the call unusable: end it with a clear line.
      if (this.phase !== 'ended') void this.hangup('call.ended.failed');
    });
  }

  private finish(key: string): void {
    if (this.phase === 'ended') return;
    this.stopCheck();
    this.deps.ringer.stop();
    this.endKey = key;
    this.endedAt = this.deps.now();
    this.phase = 'ended';
    this.teardown();
  }

  /**
   * runProbe asks the hub for the probe's relays and runs it (CallDeps.probe), then reports the
   * figures: the agent sees them beside our name. A probe the answer cut short (the hub revokes
   * its credentials then) reports nothing.
   */
  private async runProbe(id: string): Promise<void> {
    const run = this.deps.probe;
    if (!run) return;
    const ctl = new AbortController();
    this.probeAbort = ctl;
    this.probe = 'running';
    let ice: wire.ICEConfig | undefined;
    try {
      ice = ((await this.deps.request(wire.TypeCallProbe, { call: id } satisfies wire.CallRef)) as wire.Ack).ice;
    } catch {
      // Refused (too many, the call no longer rings) or offline: the call goes on without it.
    }
    if (ctl.signal.aborted) return;
    if (!ice || ice.servers.length === 0) {
      this.probe = 'skipped';
      return;
    }
    const fig = await run(ice, ctl.signal);
    if (!fig || ctl.signal.aborted || this.call?.id !== id) return;
    if (!fig.reached && this.phase !== 'ringing') {
      this.probe = 'skipped';
      return;
    }
    try {
      await this.deps.request(wire.TypeCallProbeResult, { call: id, ...fig } satisfies wire.CallProbe);
      this.probe = 'done';
    } catch {
      this.probe = 'skipped';
    }
  }

  private teardown(): void {
    this.probeAbort?.abort();
    this.probeAbort = null;
    this.clearFailTimer();
    this.unstable = false;
    const pc = this.pc;
    this.pc = null;
    if (pc) {
      pc.onnegotiationneeded = pc.onicecandidate = pc.ontrack = pc.onconnectionstatechange = null;
      pc.close();
    }
    if (this.stream) stopAll(this.stream);
    this.stream = null;
    this.dropSpare();
    this.held = [];
    this.localStream = null;
    this.remoteVideoLive = false;
  }

  private dropSpare(): void {
    if (this.spare) stopAll(this.spare);
    this.spare = null;
  }

  private reset(): void {
    this.teardown();
    this.phase = 'ringing';
    this.permission = null;
    this.muted = this.video = this.busy = this.silenced = false;
    this.remoteMuted = false;
    this.remoteStream = null;
    this.startedAt = this.endedAt = 0;
    this.endKey = this.error = '';
    this.offered = this.wantOffer = this.redirected = false;
    this.probe = '';
    this.chain = Promise.resolve();
  }
}

function stopAll(s: MediaStream): void {
  for (const tr of s.getTracks()) tr.stop();
}

/** rtcConfig is the peer connection's ICE part from the hub's plan for us. */
function rtcConfig(ice: wire.ICEConfig | null): RTCConfiguration {
  return {
    iceServers: (ice?.servers ?? []).map((s) => ({ urls: s.urls, username: s.username, credential: s.credential })),
    iceTransportPolicy: ice?.policy === 'relay' ? 'relay' : 'all',
  };
}

/** permissionKey is the translation key of a device problem. */
export function permissionKey(device: Device, problem: Problem): string {
  return `call.permission.${device}.${problem}`;
}

/** endKeyOf picks the "call ended" line for the hub's final state. */
export function endKeyOf(c: wire.Call): string {
  switch (c.reason) {
    case 'ring_timeout':
      return 'call.ended.missed';
    case 'declined':
      return 'call.ended.declined';
    case 'failed':
      return 'call.ended.failed';
    case 'disconnected':
      return 'call.ended.lost';
  }
  if (c.outcome === wire.OutcomeMissed) return 'call.ended.missed';
  if (c.outcome === wire.OutcomeCancelled) return 'call.ended.cancelled';
  if (c.outcome === wire.OutcomeDeclined) return 'call.ended.declined';
  if (c.outcome === wire.OutcomeFailed) return 'call.ended.failed';
  return c.ended_by === 'customer' ? 'call.ended.byYou' : 'call.ended.byAgent';
}
