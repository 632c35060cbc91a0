// The customer's side of the built-in screen share: the browser captures a screen, window or tab
// (getDisplayMedia) and sends it to the agent's Go media engine over WebRTC. The customer's
// browser offers (it has the track), the agent's app answers receive-only; SDP and candidates
// travel as visual.signal. The agent's laser pointer (visual.pointer, fractions of the captured
// surface) is drawn over this page when what is shared is this very tab, the one case where the
// browser lets a page draw over what is captured (see docs/builtin-visual.md for the limits).
import * as wire from '../../../web/wire.gen';

/** ScreenShareDeps are the browser facilities and the hub connection, injected for tests. */
export interface ScreenShareDeps {
  request(type: wire.Type, data: unknown): Promise<unknown>;
  notify(type: wire.Type, data: unknown): boolean;
  getDisplayMedia(c: DisplayMediaStreamOptions): Promise<MediaStream>;
  peer(config: RTCConfiguration): RTCPeerConnection;
  /** doc is where the laser dot goes (the portal's document). */
  doc?: Document;
}

/** ShareState is where the customer's screen share is. */
export type ShareState = 'idle' | 'picking' | 'connecting' | 'live' | 'ended' | 'denied' | 'failed';

/** ScreenShare is one built-in screen share, from the customer's browser. */
export class ScreenShare {
  state: ShareState = 'idle';
  /** surface is what the customer picked: "monitor", "window" or "browser" (a tab). */
  surface = '';
  /** onChange is told of every state change. */
  onChange: (s: ShareState) => void = () => {};

  private pc: RTCPeerConnection | null = null;
  private stream: MediaStream | null = null;
  private pending: RTCIceCandidateInit[] = [];
  private dot: HTMLDivElement | null = null;
  private dotTimer: ReturnType<typeof setTimeout> | null = null;

  /** ice is the hub's plan for us: with the accepted state, renewed in a long share. */
  private ice: wire.ICEConfig | undefined;

  constructor(
    private readonly deps: ScreenShareDeps,
    private readonly visual: wire.Visual,
  ) {
    this.ice = visual.ice;
  }

  private set(s: ShareState): void {
    if (this.state === s) return;
    this.state = s;
    this.onChange(s);
  }

  /** start asks the customer what to share and connects it to the agent. A refusal ends in
   * "denied" (and the engagement stops), anything else that fails in "failed". */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.set('picking');
    try {
      this.stream = await this.deps.getDisplayMedia({
        video: { frameRate: { ideal: 15, max: 30 } },
        audio: false,
        // Offer this tab too: it is where the laser dot can be drawn.
        selfBrowserSurface: 'include',
      } as DisplayMediaStreamOptions);
    } catch (e) {
      this.set((e as DOMException)?.name === 'NotAllowedError' ? 'denied' : 'failed');
      await this.deps.request(wire.TypeVisualStop, { visual: this.visual.id } satisfies wire.VisualRef).catch(() => {});
      return;
    }
    if ((this.state as ShareState) !== 'picking') {
      // Stopped while the picker was open.
      for (const t of this.stream.getTracks()) t.stop();
      return;
    }
    const track = this.stream.getVideoTracks()[0];
    this.surface = String((track?.getSettings() as { displaySurface?: string })?.displaySurface ?? '');
    // The browser's own "Stop sharing" button ends the share for both sides.
    track?.addEventListener('ended', () => void this.stop(true));
    this.set('connecting');

    const ice = this.ice;
    const pc = this.deps.peer({
      iceServers: ice?.servers?.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential })) ?? [],
      iceTransportPolicy: ice?.policy === 'relay' ? 'relay' : 'all',
    });
    this.pc = pc;
    pc.addTransceiver(track, { direction: 'sendonly', streams: [this.stream] });
    pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      const c = e.candidate.toJSON();
      this.deps.notify(wire.TypeVisualSignal, {
        visual: this.visual.id,
        candidate: { candidate: c.candidate ?? '', sdpMid: c.sdpMid ?? undefined, sdpMLineIndex: c.sdpMLineIndex ?? undefined },
      } satisfies wire.VisualSignal);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') this.set('live');
      if (pc.connectionState === 'failed') this.set('failed');
    };
    try {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      await this.deps.request(wire.TypeVisualSignal, {
        visual: this.visual.id,
        sdp: { type: 'offer', sdp: offer.sdp ?? '' },
      } satisfies wire.VisualSignal);
    } catch {
      this.set('failed');
    }
  }

  /** handle takes the agent's visual.signal and visual.pointer, and visual.state, of this
   * engagement; frames of any other engagement are ignored. */
  async handle(env: wire.Envelope): Promise<void> {
    const d = env.data as { visual?: string; id?: string } | undefined;
    // visual.state names the engagement by id, the other frames by visual.
    if (!d || (env.type === wire.TypeVisualState ? d.id : d.visual) !== this.visual.id) return;
    if (env.type === wire.TypeVisualState) {
      const v = d as wire.Visual;
      if (v.state === 'ended') await this.stop(false);
      else if (v.state === 'active' && v.ice && JSON.stringify(v.ice) !== JSON.stringify(this.ice)) await this.renew(v.ice);
      return;
    }
    if (env.type === wire.TypeVisualPointer) {
      this.pointer(d as wire.VisualPointer);
      return;
    }
    if (env.type !== wire.TypeVisualSignal || !this.pc) return;
    const s = d as wire.VisualSignal;
    try {
      if (s.sdp?.type === 'answer') {
        await this.pc.setRemoteDescription({ type: 'answer', sdp: s.sdp.sdp });
        for (const c of this.pending.splice(0)) await this.pc.addIceCandidate(c);
      } else if (s.candidate) {
        const c: RTCIceCandidateInit = { candidate: s.candidate.candidate, sdpMid: s.candidate.sdpMid, sdpMLineIndex: s.candidate.sdpMLineIndex };
        if (this.pc.remoteDescription) await this.pc.addIceCandidate(c);
        else this.pending.push(c);
      }
    } catch {
      // A bad answer or candidate from the other side: the connection state says the rest.
    }
  }

  /**
   * renew takes the fresh TURN credentials the hub sends during a long share: we offer, so we
   * restart ICE with them, before the old ones expire and the relay stops carrying the screen.
   */
  private async renew(ice: wire.ICEConfig): Promise<void> {
    this.ice = ice;
    const pc = this.pc;
    if (!pc) return;
    try {
      pc.setConfiguration({
        ...pc.getConfiguration(),
        iceServers: ice.servers.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential })),
        iceTransportPolicy: ice.policy === 'relay' ? 'relay' : 'all',
      });
      const offer = await pc.createOffer({ iceRestart: true });
      await pc.setLocalDescription(offer);
      await this.deps.request(wire.TypeVisualSignal, { visual: this.visual.id, sdp: { type: 'offer', sdp: offer.sdp ?? '' } } satisfies wire.VisualSignal);
    } catch {
      // The old credentials carry on until they lapse; the connection state says the rest.
    }
  }

  /** pointer draws the agent's laser dot over this page, when this tab is what is shared. */
  private pointer(p: wire.VisualPointer): void {
    const doc = this.deps.doc ?? document;
    // Another tab, a window or a whole screen: the browser lets no page draw over it.
    if (this.surface !== 'browser') return;
    if (!this.dot) {
      this.dot = doc.createElement('div');
      this.dot.setAttribute('data-testid', 'laser-dot');
      this.dot.setAttribute('aria-hidden', 'true');
      Object.assign(this.dot.style, {
        position: 'fixed',
        left: '0',
        top: '0',
        width: '18px',
        height: '18px',
        margin: '-9px 0 0 -9px',
        borderRadius: '50%',
        background: 'rgba(240,62,62,.85)',
        boxShadow: '0 0 0 4px rgba(240,62,62,.3), 0 0 12px 4px rgba(240,62,62,.45)',
        pointerEvents: 'none',
        zIndex: '2147483646',
      });
      doc.body.appendChild(this.dot);
    }
    const win = doc.defaultView ?? window;
    const ok = p.visible && Number.isFinite(p.x) && Number.isFinite(p.y);
    this.dot.hidden = !ok;
    if (!ok) return;
    const x = Math.round(Math.max(0, Math.min(1, p.x)) * win.innerWidth);
    const y = Math.round(Math.max(0, Math.min(1, p.y)) * win.innerHeight);
    this.dot.style.transform = `translate(${x}px, ${y}px)`;
    this.dot.dataset.x = String(x);
    this.dot.dataset.y = String(y);
    if (this.dotTimer) clearTimeout(this.dotTimer);
    this.dotTimer = setTimeout(() => this.dot && (this.dot.hidden = true), 4000);
  }

  /** stop ends the share here; tell sends visual.stop too (the customer stopped it). */
  async stop(tell = true): Promise<void> {
    if (this.state === 'ended') return;
    const was = this.state;
    this.set('ended');
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.pc?.close();
    this.pc = null;
    this.dot?.remove();
    this.dot = null;
    if (this.dotTimer) clearTimeout(this.dotTimer);
    if (tell && was !== 'idle') await this.deps.request(wire.TypeVisualStop, { visual: this.visual.id } satisfies wire.VisualRef).catch(() => {});
  }
}

/** createScreenShare makes a screen share on the real browser's facilities. */
export function createScreenShare(
  proto: { request(type: wire.Type, data: unknown): Promise<unknown>; notify(type: wire.Type, data: unknown): boolean },
  visual: wire.Visual,
): ScreenShare {
  return new ScreenShare(
    {
      ...proto,
      getDisplayMedia: (c) => navigator.mediaDevices.getDisplayMedia(c),
      peer: (config) => new RTCPeerConnection(config),
    },
    visual,
  );
}
