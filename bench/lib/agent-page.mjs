// The Chromium agent of Parley's benchmarks: a page that speaks the hub's protocol and calls with
// the browser's own WebRTC, the reference the Go agent and the app are measured against.

/**
 * agentPage runs in a Chromium page (served from the hub's origin) and makes it an agent over the
 * hub's WebSocket protocol (wire/call.go): it accepts offers and, on a customer's first message,
 * calls them with video (getUserMedia, RTCPeerConnection). remoteWidth and selfWidth (CSS px)
 * show the remote video and a self view at those widths, as the app's call control does; 0 shows
 * the remote at its own size and no self view.
 */
export async function agentPage({ org, user, password, remoteWidth = 0, selfWidth = 0 }) {
  const st = (window.__agent = { calls: {}, errors: [] });
  const res = await fetch('/api/v1/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ org, username: user, password }),
  });
  if (!res.ok) throw new Error(`login ${res.status}`);
  const { token } = await res.json();
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws');
  let rid = 0;
  const pending = new Map();
  const send = (type, data) =>
    new Promise((resolve, reject) => {
      const r = `r${++rid}`;
      pending.set(r, { resolve, reject });
      ws.send(JSON.stringify({ type, rid: r, data }));
    });
  const convs = {}; // conv → { state, customerSaid, called }
  const ices = {}; // call id → ICE config from call.state ringing
  const iceWaiters = {};
  const byCall = {}; // call id → { pc, stream, queued, remoteSet, entry }
  let welcomed;
  const welcome = new Promise((r) => (welcomed = r));

  const startCall = async (conv, t0) => {
    const entry = { conv, t0 };
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
      entry.gum = Date.now();
      const ack = await send('call.invite', { conv, kind: 'video' });
      entry.invited = Date.now();
      const id = ack.call;
      st.calls[id] = entry;
      const ice = ices[id] || (await new Promise((r) => (iceWaiters[id] = r)));
      const pc = new RTCPeerConnection({
        iceServers: (ice.servers || []).map((s) => ({ urls: s.urls, username: s.username, credential: s.credential })),
        iceTransportPolicy: ice.policy === 'relay' ? 'relay' : 'all',
      });
      const c = (byCall[id] = { pc, stream, queued: [], remoteSet: false, entry });
      for (const t of stream.getTracks()) pc.addTrack(t, stream);
      pc.ontrack = (e) => {
        if (e.track.kind !== 'video' || c.video) return;
        const v = (c.video = document.createElement('video'));
        v.muted = true;
        v.autoplay = true;
        v.playsInline = true;
        v.srcObject = e.streams[0] || new MediaStream([e.track]);
        v.dataset.testid = 'remote-video';
        if (remoteWidth) Object.assign(v.style, { position: 'fixed', left: '0', top: '0', width: `${remoteWidth}px`, height: `${(remoteWidth * 3) / 4}px`, objectFit: 'cover' });
        document.body.append(v);
        if (selfWidth) {
          const s = document.createElement('video');
          s.muted = true;
          s.autoplay = true;
          s.srcObject = stream;
          Object.assign(s.style, { position: 'fixed', left: `${remoteWidth - selfWidth - 6}px`, top: `${(remoteWidth * 3) / 4 - (selfWidth * 3) / 4 - 6}px`, width: `${selfWidth}px`, height: `${(selfWidth * 3) / 4}px`, objectFit: 'cover' });
          document.body.append(s);
          s.play().catch(() => {});
        }
        v.requestVideoFrameCallback(() => (entry.frame = Date.now()));
        v.play().catch(() => {});
      };
      pc.onicecandidate = (e) => {
        const cand = e.candidate
          ? { candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex }
          : { candidate: '' };
        send('call.signal', { call: id, candidate: cand }).catch((err) => st.errors.push(String(err)));
      };
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      await send('call.signal', { call: id, sdp: { type: 'offer', sdp: pc.localDescription.sdp } });
      entry.offered = Date.now();
    } catch (err) {
      st.errors.push(String(err));
    }
  };

  const maybeCall = (conv) => {
    const c = convs[conv];
    if (c && c.state === 'active' && c.customerSaid && !c.called) {
      c.called = true;
      startCall(conv, c.customerSaid);
    }
  };

  const handle = async (m) => {
    const d = m.data || {};
    switch (m.type) {
      case 'welcome':
        welcomed(d);
        break;
      case 'offer':
        send('offer.accept', { offer: d.id })
          .then(() => send('sync', { conv: d.conv, after: 0 }))
          .catch((err) => st.errors.push(String(err)));
        break;
      case 'conv.state':
        convs[d.id] = { ...(convs[d.id] || {}), state: d.state };
        maybeCall(d.id);
        break;
      case 'chat.message':
        if (d.author === 'customer') {
          const c = (convs[d.conv] = convs[d.conv] || {});
          if (!c.customerSaid) c.customerSaid = Date.now();
          maybeCall(d.conv);
        }
        break;
      case 'call.state':
        if (d.ice && !ices[d.id]) {
          ices[d.id] = d.ice;
          iceWaiters[d.id]?.(d.ice);
        }
        if (d.state === 'ended' && byCall[d.id]) {
          const c = byCall[d.id];
          c.pc.close();
          for (const t of c.stream.getTracks()) t.stop();
          c.video?.remove();
          c.entry.ended = true;
          delete byCall[d.id];
        }
        break;
      case 'call.signal': {
        const c = byCall[d.call];
        if (!c) break;
        try {
          if (d.sdp && d.sdp.type === 'answer') {
            await c.pc.setRemoteDescription(d.sdp);
            c.remoteSet = true;
            for (const q of c.queued.splice(0)) await c.pc.addIceCandidate(q);
          } else if (d.candidate && d.candidate.candidate) {
            if (c.remoteSet) await c.pc.addIceCandidate(d.candidate);
            else c.queued.push(d.candidate);
          }
        } catch (err) {
          st.errors.push(String(err));
        }
        break;
      }
    }
  };

  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if ((m.type === 'ack' || m.type === 'error') && m.rid && pending.has(m.rid)) {
      const p = pending.get(m.rid);
      pending.delete(m.rid);
      if (m.type === 'ack') p.resolve(m.data || {});
      else p.reject(new Error(JSON.stringify(m.data)));
      return;
    }
    handle(m);
  };
  await new Promise((r, j) => {
    ws.onopen = r;
    ws.onerror = () => j(new Error('websocket error'));
  });
  ws.send(JSON.stringify({ type: 'hello', data: { token } }));
  await welcome;
  await send('presence.set', { presence: 'available' });
  return true;
}
