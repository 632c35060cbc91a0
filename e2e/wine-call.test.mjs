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
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { root, startHub, launchChromium, resultsDir, desktop, videoFrame } from './lib/index.mjs';
import { makePrefix } from './wine/wine.mjs';

const T = 60_000; // how long any single expectation may take (Wine is slow to start, more so under load)
const exe = process.env.PARLEY_AGENT_EXE || join(root, 'out/windows/parley-agent.exe');
const policyExe = process.env.PARLEY_POLICY_EXE || join(root, 'out/dist/windows/parley-policy.exe');
const consentStore = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\CapabilityAccessManager\\ConsentStore';
const shots = resultsDir();
const sh = promisify(execFile);

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
 * startPulse runs a private PulseAudio with a null sink (CI has no sound card): Wine's audio
 * driver plays the agent's speaker into it and records the microphone from its monitor, as
 * WASAPI would on Windows. It resolves with { env, record, stop }.
 */
async function startPulse() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-wine-pulse-'));
  const env = { XDG_RUNTIME_DIR: dir, PULSE_RUNTIME_PATH: join(dir, 'pulse') };
  const penv = { ...process.env, ...env };
  await sh('pulseaudio', ['--daemonize=yes', '--exit-idle-time=-1', '-n', '--load=module-native-protocol-unix',
    '--load=module-null-sink sink_name=parley_null'], { env: penv });
  for (const deadline = Date.now() + 10_000; ; ) {
    try {
      await sh('pactl', ['info'], { env: penv });
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`pulseaudio did not come up: ${e.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    env,
    /** record records what is played into the null sink for ms milliseconds: 48 kHz s16le mono. */
    record(ms) {
      return new Promise((resolve, reject) => {
        const p = spawn('parec', ['-d', 'parley_null.monitor', '--format=s16le', '--rate=48000', '--channels=1', '--raw'], { env: penv });
        const chunks = [];
        p.stdout.on('data', (c) => chunks.push(c));
        p.on('error', reject);
        p.on('exit', () => resolve(Buffer.concat(chunks)));
        setTimeout(() => p.kill('SIGTERM'), ms);
      });
    },
    async stop() {
      await sh('pulseaudio', ['--kill'], { env: penv }).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** rms is the root mean square of s16le samples, 0..1. */
function rms(buf) {
  let sum = 0;
  const n = Math.floor(buf.length / 2);
  for (let i = 0; i < n; i++) sum += (buf.readInt16LE(i * 2) / 32768) ** 2;
  return n ? Math.sqrt(sum / n) : 0;
}

/** agent starts parley-agent.exe under Wine, signed in to the hub, taking chats. */
function agent(args, user = 'agent1') {
  return prefix.start(exe, ['-hub', hub.url, '-user', user, '-password', 'demo', '-accept', '-reply-echo', ...args], {
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

/** inboundVideo reads the customer's received video: codec, frames decoded, frame size. */
function inboundVideo(page) {
  return page.evaluate(async () => {
    for (const pc of window.__pcs) {
      const stats = await pc.getStats();
      for (const s of stats.values()) {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.codecId) {
          return { codec: stats.get(s.codecId)?.mimeType, frames: s.framesDecoded ?? 0, width: s.frameWidth, height: s.frameHeight };
        }
      }
    }
    return null;
  });
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
  const a = await agent(['-call', 'video']);
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
    let video = await inboundVideo(page);
    assert.equal(video?.codec, 'video/H264', `Chromium decodes the agent's video as H.264 (${JSON.stringify(video)})`);
    // It moves: two pictures apart differ, and frames keep being decoded.
    const first = await videoFrame(page);
    let next = first;
    for (const deadline = Date.now() + T; next === first && Date.now() < deadline; ) {
      await page.waitForTimeout(300);
      next = await videoFrame(page);
    }
    assert.notEqual(next, first, 'the agent video moves');
    const before = video.frames;
    await page.waitForTimeout(2000);
    video = await inboundVideo(page);
    t.diagnostic(`Chromium decoded ${video.frames - before} H.264 frames in 2 s at ${video.width}x${video.height}`);
    // Not a frame-rate goal: Wine on a busy 2-core machine encodes a few frames a second.
    assert.ok(video.frames - before >= 3, `frames keep coming (${video.frames - before} in 2 s)`);

    // The agent's test tone is 440 Hz (media.Tone); Chromium's fake microphone beeps at another pitch.
    const heard = await pitch(page);
    t.diagnostic(`customer hears ${heard.hz.toFixed(0)} Hz at rms ${heard.level.toFixed(3)}`);
    assert.ok(heard.level > 0.005, `the agent's tone is heard (rms ${heard.level})`);
    assert.ok(Math.abs(heard.hz - 440) < 15, `the sound is the agent's 440 Hz tone, not ${heard.hz} Hz`);

    // The customer's camera reaches the Windows agent, and its speaker plays the customer's sound.
    await logged(a, /first remote frame/, mark);
    const played = rms(await pulse.record(1500));
    t.diagnostic(`the Windows agent plays the customer's sound into the null sink at rms ${played.toFixed(3)}`);
    assert.ok(played > 0.001, `the Windows agent plays what the customer says (rms ${played})`);
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
  const r = await prefix.run(exe, ['-hub', 'http://127.0.0.1:9', '-user', 'agent1', '-password', 'demo'], { extraEnv: pulse.env });
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
