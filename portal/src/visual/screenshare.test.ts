import { describe, it, expect } from 'vitest';
import { ScreenShare } from './screenshare';
import type * as wire from '../../../web/wire.gen';

// The customer's screen share with a fake peer connection (jsdom has no WebRTC; the real one runs
// in e2e/cobrowse.test.mjs): the ICE servers it uses, and fresh ones in a long share.

class FakePC {
  configs: RTCConfiguration[] = [];
  offers: (RTCOfferOptions | undefined)[] = [];
  onicecandidate: unknown = null;
  onconnectionstatechange: unknown = null;
  connectionState = 'new';
  constructor(readonly config: RTCConfiguration) {}
  addTransceiver() {}
  getConfiguration() {
    return this.configs.at(-1) ?? this.config;
  }
  setConfiguration(c: RTCConfiguration) {
    this.configs.push(c);
  }
  async createOffer(o?: RTCOfferOptions) {
    this.offers.push(o);
    return { type: 'offer' as const, sdp: `v=0 offer ${this.offers.length}` };
  }
  async setLocalDescription() {}
  close() {}
}

const ice = (user: string): wire.ICEConfig => ({ servers: [{ urls: ['turn:relay.example:3478'], username: user, credential: 'p' }], policy: 'relay' });

describe('ScreenShare', () => {
  it('connects with the ICE servers of the accepted share, and restarts ICE with renewed ones', async () => {
    const pcs: FakePC[] = [];
    const sent: wire.VisualSignal[] = [];
    const track = { kind: 'video', getSettings: () => ({ displaySurface: 'monitor' }), addEventListener() {}, stop() {} };
    const visual = { id: 'v1', conv: 'c1', kind: 'screenshare', provider: 'builtin-screenshare', state: 'active', created_at: 1, ice: ice('u1') } as wire.Visual;
    const share = new ScreenShare(
      {
        request: async (_t, d) => void sent.push(d as wire.VisualSignal),
        notify: () => true,
        getDisplayMedia: async () => ({ getVideoTracks: () => [track], getTracks: () => [track] }) as unknown as MediaStream,
        peer: (c) => {
          const pc = new FakePC(c);
          pcs.push(pc);
          return pc as unknown as RTCPeerConnection;
        },
      },
      visual,
    );
    await share.start();
    expect(pcs).toHaveLength(1);
    expect(pcs[0].config.iceTransportPolicy).toBe('relay');
    expect(pcs[0].config.iceServers).toEqual([{ urls: ['turn:relay.example:3478'], username: 'u1', credential: 'p' }]);
    expect(sent.map((s) => s.sdp?.type)).toEqual(['offer']);

    // The same plan again (a reconnect) changes nothing; a renewed one restarts ICE with it.
    await share.handle({ type: 'visual.state', data: { ...visual } });
    expect(pcs[0].configs).toEqual([]);
    await share.handle({ type: 'visual.state', data: { ...visual, ice: ice('u2') } });
    expect(pcs).toHaveLength(1);
    expect(pcs[0].configs.at(-1)?.iceServers).toEqual([{ urls: ['turn:relay.example:3478'], username: 'u2', credential: 'p' }]);
    expect(pcs[0].offers.at(-1)).toEqual({ iceRestart: true });
    expect(sent.map((s) => s.sdp?.type)).toEqual(['offer', 'offer']);
  });
});
