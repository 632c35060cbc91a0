// End-to-end test of the Windows media engine: the headless agent built for Windows
// (parley-agent.exe: H.264 + Opus, mingw-w64, static runtime) runs under Debian's Wine in a fresh
// prefix, reads the machine policy from %ProgramData%, takes a chat through a Linux hub and makes
// a video call to a customer in headless Chromium with a fake camera and microphone. Then the
// camera is switched off in the Windows privacy settings (registry keys set with reg.exe) and
// the agent's next video call reports ECAMDENIED, the code the UI turns into its sentence.
// Run: make test-windows (or node --test e2e/wine-call.test.mjs with PARLEY_AGENT_EXE,
// PARLEY_POLICY_EXE and out/parley-hub).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { root, startHub, startPulse, launchChromium, resultsDir, desktop } from './lib/index.mjs';
import { makePrefix } from './wine/wine.mjs';

const T = 60_000; // how long any single expectation may take (Wine is slow to start, more so under load)
const exe = process.env.PARLEY_AGENT_EXE || join(root, 'out/windows/parley-agent.exe');
const policyExe = process.env.PARLEY_POLICY_EXE || join(root, 'out/dist/windows/parley-policy.exe');
const consentStore = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\CapabilityAccessManager\\ConsentStore';
const shots = resultsDir();

let hub, prefix, browser, pulse;

before(async () => {
  for (const f of [exe, policyExe]) statSync(f); // a clear error when a build is missing
  prefix = await makePrefix('parley-wine-call');
  // Wine 8 does not implement SIO_UDP_CONNRESET, which Go's net package sets on every UDP socket
  // on Windows, so no Go program under Wine can open a UDP socket: the Windows agent reaches the
  // customer through the hub's embedded TURN relay over TCP, the path an agent behind a firewall
  // that blocks UDP takes. (On Windows itself the agent uses UDP like the Linux build.)
  [hub, pulse] = await Promise.all([
    startHub({ args: ['-turn-tcp', '127.0.0.1:0', '-turn-allow-peers', '127.0.0.0/8'] }),
    startPulse(),
  ]);
  console.log(`# fresh Wine prefix in ${prefix.bootMs} ms`);
  browser = await launchChromium({ media: true });
  // IT's way of pinning the hub: parley-policy.exe writes %ProgramData%\Parley\policy.json.
  const set = await prefix.run(policyExe, ['set', '-hub-url', hub.url, '-lock', 'hub_url']);
  assert.equal(set.code, 0, `parley-policy.exe set failed: ${set.stderr}`);
});

after(async () => {
  await browser?.close();
  await prefix?.close();
  await hub?.stop();
  await pulse?.stop();
});

/**
 * agent starts parley-agent.exe under Wine, signed in to the hub, taking chats; -v makes it log
 * the call's quality every second (frames sent and received, route).
 */
function agent(args, user = 'agent1') {
  return prefix.start(exe, ['-hub', hub.url, '-org', 'demo', '-user', user, '-password', 'demo', '-accept', '-reply-echo', '-v', ...args], {
    ready: /msg=ready/,
    name: 'agent.exe',
    timeoutMs: 120_000,
    env: pulse.env,
  });
}

/** logged waits until the agent has logged a line matching re since line from of its output. */
async function logged(proc, re, from = 0) {
  for (const deadline = Date.now() + T; Date.now() < deadline; ) {
    if (proc.logs.slice(from).some((l) => re.test(l))) return proc.logs.slice(from).find((l) => re.test(l));
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the agent never logged ${re}; its last lines:\n${proc.logs.filter((l) => !l.startsWith('ALSA')).slice(-15).join('\n')}`);
}

/**
 * customer opens the portal and sends a first message (which makes the agent call). Every peer
 * connection the page makes is kept on window.__pcs, so the test can read its statistics.
 */
async function customer(name) {
  const context = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = class extends Native {
      constructor(...a) {
        super(...a);
        window.__pcs.push(this);
      }
    };
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${hub.url}/chat/demo`);
  await page.getByTestId('prechat-name').fill(name);
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('chat-input').fill('hello from Chromium');
  await page.getByTestId('chat-input').press('Enter');
  return { context, page, errors };
}

/** inboundVideo reads the customer's received video (Chromium's inbound-rtp statistics). */
function inboundVideo(page) {
  return page.evaluate(async () => {
    for (const pc of window.__pcs) {
      const stats = await pc.getStats();
      for (const s of stats.values()) {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.codecId) {
          return {
            codec: stats.get(s.codecId)?.mimeType, width: s.frameWidth, height: s.frameHeight,
            received: s.framesReceived ?? 0, decoded: s.framesDecoded ?? 0, dropped: s.framesDropped ?? 0,
            lost: s.packetsLost ?? 0, nacks: s.nackCount ?? 0, plis: s.pliCount ?? 0, freezes: s.freezeCount ?? 0,
          };
        }
      }
    }
    return null;
  });
}

/**
 * watchStamps watches the customer's remote <video> for at least ms milliseconds, and on until it
 * has read `stamps` stamps (a page on a loaded machine runs few callbacks) or `max` ms have passed:
 * at each frame callback (requestVideoFrameCallback) it reads the stamp the agent's test pattern
 * draws in its top band (media/pattern.go: 64 blocks, a white/black marker, 44 bits of capture
 * time in Unix ms, 16 bits of frame counter) and Chromium's count of frames presented so far. The pattern numbers every
 * frame the agent draws, and the agent encodes and sends every frame it draws, so between two
 * stamps the counters say how many frames the agent made and how many the customer was shown.
 * (A busy page runs fewer callbacks than frames are presented: the counts, not the callbacks,
 * are the measure.) Resolves with { callbacks, seen: [{ frame, ms, at, presented }] }.
 */
function watchStamps(page, ms, stamps, max) {
  return page.evaluate(([ms, stamps, max]) => {
    const v = document.querySelector('[data-testid="remote-video"]');
    const c = document.createElement('canvas');
    c.width = 640;
    c.height = 24;
    const g = c.getContext('2d', { willReadFrequently: true });
    const seen = [];
    let callbacks = 0;
    const start = performance.now();
    return new Promise((resolve) => {
      const onFrame = (_now, meta) => {
        callbacks++;
        g.drawImage(v, 0, 0, 640, 480); // the canvas keeps the band, rows 0-23
        const row = g.getImageData(0, 8, 640, 1).data;
        const bit = (i) => {
          const x = Math.round((i + 0.5) * 10) * 4;
          return (row[x] * 299 + row[x + 1] * 587 + row[x + 2] * 114) / 1000 > 128;
        };
        if (bit(0) && !bit(1)) {
          let t = 0;
          for (let i = 0; i < 44; i++) t = t * 2 + (bit(2 + i) ? 1 : 0);
          let f = 0;
          for (let i = 0; i < 16; i++) f = f * 2 + (bit(46 + i) ? 1 : 0);
          seen.push({ frame: f, ms: t, at: Date.now(), presented: meta.presentedFrames });
        }
        const el = performance.now() - start;
        if (el < max && (el < ms || seen.length < stamps)) v.requestVideoFrameCallback(onFrame);
        else resolve({ callbacks, seen });
      };
      v.requestVideoFrameCallback(onFrame);
    });
  }, [ms, stamps, max]);
}

/** cpuTicks is the CPU time (user + system, in clock ticks of 10 ms) a process has used so far. */
function cpuTicks(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** wineserverPid finds the wineserver of a prefix (each prefix has its own), or 0. */
function wineserverPid(dir) {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('wineserver')) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`WINEPREFIX=${dir}`)) return Number(pid);
    } catch {
      // gone meanwhile
    }
  }
  return 0;
}

/** median of numbers. */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

/** pitch finds the strongest frequency of the remote <video>'s sound (WebAudio analyser), in Hz. */
function pitch(page) {
  return page.evaluate(async () => {
    const v = document.querySelector('[data-testid="remote-video"]');
    const stream = v?.srcObject;
    if (!stream || stream.getAudioTracks().length === 0) return { hz: 0, level: 0 };
    const ctx = new AudioContext();
    await ctx.resume();
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    ctx.createMediaStreamSource(stream).connect(an);
    const freq = new Float32Array(an.frequencyBinCount);
    const wave = new Float32Array(an.fftSize);
    let best = { hz: 0, db: -Infinity, level: 0 };
    for (let i = 0; i < 15; i++) {
      await new Promise((r) => setTimeout(r, 100));
      an.getFloatFrequencyData(freq);
      an.getFloatTimeDomainData(wave);
      let level = 0;
      for (const x of wave) level += x * x;
      level = Math.sqrt(level / wave.length);
      for (let k = 1; k < freq.length; k++) {
        if (freq[k] > best.db) best = { hz: (k * ctx.sampleRate) / an.fftSize, db: freq[k], level: Math.max(best.level, level) };
      }
      best.level = Math.max(best.level, level);
    }
    await ctx.close();
    return { hz: best.hz, level: best.level };
  });
}

test('the Windows agent under Wine makes a video call: moving H.264 video and its tone reach Chromium, the customer reaches it', async (t) => {
  // Test pattern and tone as camera and microphone; the speaker is Windows' default, which
  // Wine's PulseAudio driver makes the null sink.
  const quiet = await pulse.record(1);
  const a = await agent(['-call', 'video', '-speaker', 'default']);
  let context, page, errors;
  try {
    // The machine policy written by parley-policy.exe was read from %ProgramData%.
    const managed = await logged(a, /managed by policy/);
    assert.match(managed, /path="?C:\\+ProgramData\\+Parley\\+policy\.json/i);
    assert.match(managed, /hub_locked=true/);

    ({ context, page, errors } = await customer('Wine caller'));
    await page.locator('[data-testid="chat-message"][data-author="agent"]').filter({ hasText: 'echo: hello from Chromium' }).waitFor({ timeout: T });
    const incoming = page.getByTestId('call-incoming');
    await incoming.waitFor({ timeout: T });
    assert.equal(await incoming.getAttribute('data-kind'), 'video');
    const mark = a.logs.length;
    const clicked = Date.now();
    await page.getByTestId('accept-video').click();
    await page.waitForFunction(() => {
      const v = document.querySelector('[data-testid="remote-video"]');
      return v && v.videoWidth > 0 && v.currentTime > 0;
    }, null, { timeout: T });
    t.diagnostic(`accept → the Windows agent's video plays in Chromium: ${Date.now() - clicked} ms`);

    // H.264: the Windows build has no VP8.
    const before = await inboundVideo(page);
    assert.equal(before?.codec, 'video/H264', `Chromium decodes the agent's video as H.264 (${JSON.stringify(before)})`);

    // Moving video: for 5 s (longer on a loaded machine, until 10 stamps are read), the frames the
    // customer's <video> presents are read back by their stamps. The agent numbers each frame it
    // draws (30 a second from its pattern source, fewer when its encoder cannot keep up) and sends
    // each one: the customer must see new pictures all along, and Chromium must decode nearly
    // every frame the agent made, whatever the machine's load lets it make.
    const pid = a.proc.pid;
    const server = wineserverPid(prefix.dir);
    const cpu0 = [cpuTicks(pid), cpuTicks(server)];
    const t0 = Date.now();
    const qmark = a.logs.length;
    const w = await watchStamps(page, 5000, 10, 20000);
    const secs = (Date.now() - t0) / 1000;
    const cpuMs = [cpuTicks(pid) - cpu0[0], cpuTicks(server) - cpu0[1]].map((n) => n * 10);
    const cpu = cpuMs.map((ms) => Math.round(ms / 10 / secs)); // % of a core
    const after = await inboundVideo(page);
    assert.ok(w.seen.length >= 5, `the customer's video shows the agent's stamped pattern (${w.seen.length} stamps read in ${w.callbacks} frame callbacks)`);
    const [f0, f1] = [w.seen[0], w.seen.at(-1)];
    const made = (f1.frame - f0.frame + 65536) % 65536; // frames the agent drew between the two
    const shown = f1.presented - f0.presented; // frames the customer was shown meanwhile
    const span = (f1.ms - f0.ms) / 1000; // seconds of the agent's clock between them
    const distinct = new Set(w.seen.map((s) => s.frame)).size;
    const latency = median(w.seen.map((s) => s.at - s.ms));
    const inWindow = (made / span) * secs; // frames the agent drew while the test watched
    const decoded = after.decoded - before.decoded;
    const msPerFrame = cpuMs[0] / Math.max(inWindow, 1); // the agent's CPU time per frame it drew
    const sent = a.logs.slice(qmark).filter((l) => l.includes('call quality')).map((l) => l.match(/send_fps=([\d.]+)/)?.[1]).filter(Boolean).map(Number);
    t.diagnostic(
      `over ${span.toFixed(1)} s the Windows agent drew ${made} frames (${(made / span).toFixed(1)}/s of the pattern's 30; its own count: ${sent.map((n) => n.toFixed(0)).join(',')}/s) ` +
        `and the customer was shown ${shown} (${((100 * shown) / Math.max(made, 1)).toFixed(0)} %) at ${after.width}x${after.height}, ${distinct} different stamps read in ${w.callbacks} callbacks, ` +
        `capture to customer ${latency} ms median; Chromium: ${after.received - before.received} frames received, ${decoded} decoded (of about ${inWindow.toFixed(0)} drawn meanwhile), ` +
        `${after.dropped - before.dropped} dropped, ${after.lost - before.lost} packets lost, ${after.freezes - before.freezes} freezes; ` +
        `CPU: agent ${cpu[0]} % (${msPerFrame.toFixed(1)} ms a frame), wineserver ${cpu[1]} % of a core; load average ${loadavg().map((n) => n.toFixed(1)).join(' ')} on 2 cores`,
    );
    // It moves: new pictures all along the window, not one picture or a burst then nothing.
    assert.ok(distinct >= 5 && span >= 0.6 * secs, `the customer sees the agent's video move (${distinct} different frames, made over ${span.toFixed(1)} of ${secs.toFixed(1)} s)`);
    // Nothing is lost or held back on the way (TURN over TCP, jitter buffer, decoder): 10 % for
    // the edges of the window, which the stamps and the statistics read a moment apart. (Which of
    // the decoded frames the compositor presents is the browser's own pacing: frames that arrive
    // within one refresh of each other show as one; the figure is printed, the movement checked.)
    assert.ok(decoded >= 0.9 * inWindow, `Chromium decodes nearly every frame the agent sends (${decoded} of about ${inWindow.toFixed(0)})`);
    // What the machine's load does not change: the CPU time the agent spends on a frame. Above
    // 33 ms it could not keep 30 frames a second even on a core of its own.
    assert.ok(msPerFrame < 33, `the Windows agent spends ${msPerFrame.toFixed(1)} ms of CPU on a frame`);

    // The agent's test tone is 440 Hz (media.Tone); Chromium's fake microphone beeps at another pitch.
    const heard = await pitch(page);
    t.diagnostic(`customer hears ${heard.hz.toFixed(0)} Hz at rms ${heard.level.toFixed(3)}`);
    assert.ok(heard.level > 0.005, `the agent's tone is heard (rms ${heard.level})`);
    assert.ok(Math.abs(heard.hz - 440) < 15, `the sound is the agent's 440 Hz tone, not ${heard.hz} Hz`);

    // The customer's camera reaches the Windows agent (it decodes frames every second), and its
    // speaker plays the customer's sound (Chromium's fake microphone beeps).
    await logged(a, /first remote frame/, mark);
    const rmark = a.logs.length;
    await logged(a, /call quality.*recv_fps=[1-9]/, rmark);
    const heardByAgent = await pulse.record(2);
    const recv = a.logs.slice(rmark).filter((l) => l.includes('call quality')).map((l) => l.match(/recv_fps=([\d.]+)/)?.[1]).filter(Boolean).map(Number);
    t.diagnostic(`the Windows agent decodes the customer's video at ${recv.map((n) => n.toFixed(0)).join(',')} frames/s and plays their sound at peak ${heardByAgent.peak.toFixed(3)} (before the call ${quiet.peak.toFixed(3)})`);
    assert.ok(heardByAgent.peak > 0.01 && heardByAgent.peak > 5 * quiet.peak, `the Windows agent plays what the customer says (${JSON.stringify(heardByAgent)}; before ${JSON.stringify(quiet)})`);
    await page.screenshot({ path: join(shots, 'wine-call-customer.png') });

    const from = a.logs.length;
    await page.getByTestId('call-end').click();
    await page.getByTestId('call-ended').waitFor({ timeout: T });
    await logged(a, /call ended.*by=customer/, from);
    assert.deepEqual(errors, []);
    await page.getByTestId('chat-leave').click();
    await page.getByTestId('chat-leave-confirm').click();
    await page.getByTestId('chat-ended').waitFor({ timeout: T });
  } finally {
    await context?.close();
    await a.stop();
  }
});

test('the policy in %ProgramData% locks the hub: the Windows agent refuses another one', async () => {
  const r = await prefix.run(exe, ['-hub', 'http://127.0.0.1:9', '-org', 'demo', '-user', 'agent1', '-password', 'demo'], { extraEnv: pulse.env });
  assert.notEqual(r.code, 0, 'the agent must not start against another hub');
  assert.match(r.stderr, /locked by this machine's policy/);
  assert.match(r.stderr, /hub_locked=true/);
});

test("the camera off in Windows' privacy settings: the video call goes voice-only with ECAMDENIED", async () => {
  // Settings > Privacy & security > Camera, "Let desktop apps access your camera": off.
  await prefix.reg(['add', `${consentStore}\\webcam\\NonPackaged`, '/v', 'Value', '/t', 'REG_SZ', '/d', 'Deny', '/f']);
  assert.match(await prefix.reg(['query', `${consentStore}\\webcam\\NonPackaged`, '/v', 'Value']), /Deny/);
  // The system's devices, as an agent's desktop has them: Wine's camera (none here) and
  // PulseAudio's null sink as microphone and speaker.
  const a = await agent(['-call', 'video', '-devices', 'system'], 'agent2');
  let context;
  try {
    let page;
    ({ context, page } = await customer('Privacy'));
    const incoming = page.getByTestId('call-incoming');
    await incoming.waitFor({ timeout: T });
    // The agent asked for video, the camera is off: the customer is rung for a voice call.
    assert.equal(await incoming.getAttribute('data-kind'), 'voice');
    const line = await logged(a, /code=ECAMDENIED/);
    assert.match(line, /voice only|call warning/);
    await page.getByTestId('decline').click();
    await page.getByTestId('call-ended').waitFor({ timeout: T });
  } finally {
    await context?.close();
    await a.stop();
  }
});
