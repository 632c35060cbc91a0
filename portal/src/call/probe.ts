// The customer's network probe, run while a call rings (wire/call.go, call.probe): two peer
// connections of this page connect to each other through the organisation's relay, relay-only,
// with credentials the hub issued for the probe alone; a few data-channel pings through it give
// the round trip and the loss, and the selected pair says how the relay was reached (UDP, or TCP
// when UDP is blocked). Nothing of the customer's camera or microphone is involved.
import type * as wire from '../../../web/wire.gen';

/** ProbeFigures are what the probe measured: call.probe_result without the call. */
export type ProbeFigures = Pick<wire.CallProbe, 'reached' | 'rtt_ms' | 'loss_pct' | 'transport'>;

/** PROBE_CONNECT_MS is how long the two ends may take to connect through the relay. */
export const PROBE_CONNECT_MS = 10_000;
/** PROBE_PINGS pings, one every PROBE_GAP_MS; one not back PROBE_WAIT_MS after the last is lost. */
export const PROBE_PINGS = 10;
const PROBE_GAP_MS = 100;
const PROBE_WAIT_MS = 1500;

const notReached: ProbeFigures = { reached: false, rtt_ms: 0, loss_pct: 0, transport: '' };

/**
 * runProbe runs the probe through ice's relays and resolves with its figures, or null when
 * aborted (the call ended). It never rejects: a relay it cannot reach is a result.
 */
export async function runProbe(
  ice: wire.ICEConfig,
  signal: AbortSignal,
  make: (c: RTCConfiguration) => RTCPeerConnection = (c) => new RTCPeerConnection(c),
): Promise<ProbeFigures | null> {
  const config: RTCConfiguration = {
    iceServers: ice.servers.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential })),
    iceTransportPolicy: 'relay',
  };
  let a: RTCPeerConnection | null = null;
  let b: RTCPeerConnection | null = null;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      timers.push(setTimeout(resolve, ms));
    });
  try {
    a = make(config);
    b = make(config);
    const [pa, pb] = [a, b];
    // Each end's candidates go straight to the other: the signalling is this function.
    pa.onicecandidate = (e) => e.candidate && pb.addIceCandidate(e.candidate).catch(() => {});
    pb.onicecandidate = (e) => e.candidate && pa.addIceCandidate(e.candidate).catch(() => {});
    // Unordered, never retransmitted: a lost ping stays lost, as a media packet would.
    const dc = pa.createDataChannel('probe', { ordered: false, maxRetransmits: 0 });
    pb.ondatachannel = (e) => {
      const echo = e.channel;
      echo.onmessage = (m) => {
        if (echo.readyState === 'open') echo.send(m.data);
      };
    };
    const open = new Promise<boolean>((resolve) => {
      dc.onopen = () => resolve(true);
      timers.push(setTimeout(() => resolve(false), PROBE_CONNECT_MS));
      signal.addEventListener('abort', () => resolve(false), { once: true });
    });
    await pa.setLocalDescription(await pa.createOffer());
    await pb.setRemoteDescription(pa.localDescription!);
    await pb.setLocalDescription(await pb.createAnswer());
    await pa.setRemoteDescription(pb.localDescription!);
    if (!(await open)) return signal.aborted ? null : notReached;

    const sent = new Map<number, number>();
    const rtts: number[] = [];
    dc.onmessage = (m) => {
      const seq = Number(m.data);
      const at = sent.get(seq);
      if (at !== undefined) {
        rtts.push(performance.now() - at);
        sent.delete(seq);
      }
    };
    for (let i = 0; i < PROBE_PINGS && !signal.aborted; i++) {
      sent.set(i, performance.now());
      if (dc.readyState === 'open') dc.send(String(i));
      await sleep(PROBE_GAP_MS);
    }
    for (const end = performance.now() + PROBE_WAIT_MS; sent.size > 0 && performance.now() < end && !signal.aborted; ) await sleep(50);
    if (signal.aborted) return null;
    const transport = await relayProtocol(pa);
    rtts.sort((x, y) => x - y);
    const back = rtts.length;
    return {
      reached: true,
      rtt_ms: back ? Math.round(rtts[Math.floor((back - 1) / 2)]) : 0,
      loss_pct: Math.round(((PROBE_PINGS - back) * 100) / PROBE_PINGS),
      transport,
    };
  } catch {
    return signal.aborted ? null : notReached;
  } finally {
    for (const t of timers) clearTimeout(t);
    a?.close();
    b?.close();
  }
}

/** relayProtocol is how the selected pair's local (relay) candidate reaches the relay: udp, tcp or tls. */
async function relayProtocol(pc: RTCPeerConnection): Promise<string> {
  try {
    const stats = await pc.getStats();
    let pairId = '';
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    let local = '';
    stats.forEach((s) => {
      if (s.type === 'candidate-pair' && (s.id === pairId || (!pairId && s.nominated && s.state === 'succeeded'))) local = s.localCandidateId;
    });
    let proto = '';
    stats.forEach((s) => {
      if (s.id === local) proto = String(s.relayProtocol ?? '');
    });
    return ['udp', 'tcp', 'tls'].includes(proto) ? proto : 'udp';
  } catch {
    return 'udp';
  }
}
