// End-to-end test of a supervisor on a live call (issue 18 items 4, 5): a customer in real
// headless Chromium (its microphone a 660 Hz tone from a file) answers the real headless agent's
// voice call (`parley-agent -call voice`, a 440 Hz test tone); a headless supervisor
// (`parley-agent -monitor listen,whisper,barge -microphone test-pattern-2`, an 880 Hz tone) picks
// the agent's call. Listening, the supervisor hears both sides and the customer's page measures
// nothing at 880 Hz; whispering, the agent hears the supervisor and the customer still measures
// nothing there; barging, the customer hears 880 Hz and reads "A supervisor joined the call".
// The supervisor's process killed (a dropped link) ends the leg and the call goes on. It prints
// the agent's CPU and everything it sends (up_kbps) on the plain call and with the supervisor
// listening. Screenshots go to test-results/. Run: make test-monitor-e2e.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub, startAgent, launchChromium, resultsDir, desktop } from './lib/index.mjs';

const T = 30_000; // how long any single expectation may take
const HEARD = 0.05; // a tone's level when it is there (the test tones arrive at about 0.2)
const SILENT = 0.02; // and when it is not
// The customer's tone goes through Chromium's noise suppression, which takes a steady tone down to
// about 0.02 (measured): a level over this one is the customer heard.
const CUSTOMER_HEARD = 0.005;

let hub, agent, supervisor, browser, dir;
const shots = resultsDir();

/** toneFile writes a WAV of a 660 Hz sine at about -12 dBFS, 48 kHz mono, 10 s (Chromium loops it). */
function toneFile() {
  const rate = 48000;
  const n = rate * 10;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 660 * i) / rate)), 44 + i * 2);
  const path = join(dir, 'tone-660.wav');
  writeFileSync(path, b);
  return path;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-monitor-'));
  hub = await startHub();
  agent = await startAgent(hub.url, { args: ['-accept', '-reply-echo', '-call', 'voice', '-v'] });
  browser = await launchChromium({ media: true, args: [`--use-file-for-fake-audio-capture=${toneFile()}`, '--autoplay-policy=no-user-gesture-required'] });
});

after(async () => {
  await browser?.close();
  await supervisor?.stop();
  await agent?.stop();
  await hub?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** logged waits until p has logged a line matching re (and ok(match), if given) since line `from`. */
async function logged(p, re, from = 0, ok = () => true) {
  const deadline = Date.now() + T;
  while (Date.now() < deadline) {
    for (const l of p.logs.slice(from)) {
      const m = l.match(re);
      if (m && ok(m)) return m;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`never logged ${re}; last lines:\n${p.logs.slice(-15).join('\n')}`);
}

/** cpu is the process's user+system CPU time in seconds (Linux /proc). */
function cpu(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** agentCost measures, over ms, the agent's share of a core and its mean up_kbps (its -v quality lines). */
async function agentCost(ms) {
  const from = agent.logs.length;
  const c0 = cpu(agent.proc.pid);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  const share = (cpu(agent.proc.pid) - c0) / ((Date.now() - t0) / 1000);
  const ups = agent.logs
    .slice(from)
    .map((l) => l.match(/msg="call quality" .*up_kbps=(\d+)/))
    .filter(Boolean)
    .map((m) => Number(m[1]));
  return { cpu: Math.round(share * 1000) / 10, upKbps: ups.length ? Math.round(ups.reduce((a, b) => a + b, 0) / ups.length) : NaN };
}

/** meter starts measuring, in the customer's page, the agent's audio at 440 and 880 Hz (Hann-windowed Goertzel, 100 ms windows). */
async function startMeter(page) {
  await page.evaluate(async () => {
    const v = document.querySelector('[data-testid="remote-video"]');
    const ctx = new AudioContext();
    await ctx.resume();
    const an = ctx.createAnalyser();
    an.fftSize = 4096;
    ctx.createMediaStreamSource(v.srcObject).connect(an);
    const buf = new Float32Array(an.fftSize);
    const level = (hz) => {
      const n = buf.length;
      const k = 2 * Math.cos((2 * Math.PI * hz) / ctx.sampleRate);
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
        const s0 = w * buf[i] + k * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      return (4 * Math.sqrt(Math.max(s1 * s1 + s2 * s2 - k * s1 * s2, 0))) / n;
    };
    // Only fresh audio counts: under load the page's audio clock can stall, and the analyser
    // then keeps handing out the last buffer it had (seen: a stale barge tone after the leg ended).
    const m = (window.__meter = { peaks: { 440: 0, 880: 0 }, n: 0, stale: 0, last: -1 });
    setInterval(() => {
      if (ctx.currentTime === m.last) {
        m.stale++;
        return;
      }
      m.last = ctx.currentTime;
      an.getFloatTimeDomainData(buf);
      m.n++;
      for (const hz of [440, 880]) m.peaks[hz] = Math.max(m.peaks[hz], level(hz));
    }, 100);
  });
}

/**
 * hear resets the customer's meter, waits ms (longer while the page's audio clock stalls, until it
 * has measured ms worth of fresh 100 ms windows, at most 10 s more) and returns the peak levels at
 * 440 and 880 Hz and how many windows it measured.
 */
async function hear(page, ms) {
  await page.evaluate(() => {
    window.__meter.peaks = { 440: 0, 880: 0 };
    window.__meter.n = 0;
    window.__meter.stale = 0;
  });
  await page.waitForTimeout(ms);
  const deadline = Date.now() + 10_000;
  let got;
  for (;;) {
    got = await page.evaluate(() => ({ ...window.__meter.peaks, n: window.__meter.n, stale: window.__meter.stale }));
    if (got.n >= ms / 100 - 2 || Date.now() > deadline) break;
    await page.waitForTimeout(200);
  }
  if (got.stale > 0) console.log(`the customer's audio clock stalled for ${got.stale} of ${got.n + got.stale} windows`);
  return got;
}

test('a supervisor listens, whispers and joins a live call; the customer hears them only when they join', async () => {
  const context = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  const page = await context.newPage();
  const mark = agent.logs.length;
  await page.goto(`${hub.url}/chat/demo`);
  await page.getByTestId('prechat-name').fill('Mona');
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('chat-input').fill('Hello, can you call me?');
  await page.getByTestId('chat-input').press('Enter');
  await page.getByTestId('accept-audio').click({ timeout: T });
  const call = (await logged(agent, /msg=call .*call=(\S+) .*kind=voice state=active/, mark))[1];
  await logged(agent, /msg="call connection" .*connection=connected/, mark);
  await startMeter(page);
  let got = await hear(page, 2000);
  assert.ok(got[440] > HEARD, `the customer hears the agent at ${got[440]}; want its 440 Hz tone`);
  const plain = await agentCost(5000);

  // The organisation requires a notice: the hub tells the customer when a supervisor listens.
  const login = await fetch(`${hub.url}/api/v1/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ org: 'demo', username: 'admin1', password: 'demo', client: 'console' }) });
  const { token } = await login.json();
  const set = await fetch(`${hub.url}/api/v1/orgs/demo/settings/monitoring`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ notice: true }) });
  assert.equal(set.status, 200, 'the monitoring notice setting');

  // The supervisor starts: it listens to the first agent it sees on a call.
  supervisor = await startAgent(hub.url, {
    user: 'super1',
    args: ['-presence', '', '-monitor', 'listen,whisper,barge', '-monitor-step', '12s', '-microphone', 'test-pattern-2'],
  });
  const started = Date.now();
  await logged(supervisor, new RegExp(`msg=monitoring .*call=${call} .*mode=listen`));
  await logged(supervisor, /msg="monitor state" .*mode=listen connection=connected/);
  const lv = await logged(supervisor, /msg=monitor .*mode=listen customer_level=(\S+) agent_level=(\S+)/, 0, (m) => Number(m[1]) > CUSTOMER_HEARD && Number(m[2]) > HEARD);
  console.log(`listening: the supervisor hears the customer at ${lv[1]} and the agent at ${lv[2]} (${Date.now() - started} ms after it started)`);
  const listening = await agentCost(5000);
  got = await hear(page, 2000);
  assert.ok(got[880] < SILENT && got.n >= 10, `listening: the customer measures ${got[880]} at 880 Hz; want silence`);
  assert.ok(got[440] > HEARD, `listening: the customer hears the agent at ${got[440]}`);
  assert.ok(!agent.logs.slice(mark).some((l) => /msg="call coach" .*coach=\S/.test(l)), 'listening: the agent was told');
  console.log(`agent's CPU and upstream: plain call ${plain.cpu} % of a core, ${plain.upKbps} kbit/s; one supervisor listening ${listening.cpu} %, ${listening.upKbps} kbit/s`);
  assert.ok(listening.upKbps > plain.upKbps + 40, `up_kbps ${plain.upKbps} → ${listening.upKbps}; want the supervisor's two audio streams on top`);
  // The notice: a pill on the customer's call and a line in the chat.
  await page.getByTestId('call-monitored').waitFor({ timeout: T });
  assert.equal(await page.getByTestId('call-monitored').textContent(), 'A supervisor is listening');
  await page.locator('[data-testid="chat-message"][data-author="system"]').filter({ hasText: 'A supervisor is listening to this call' }).waitFor({ timeout: T });
  await page.screenshot({ path: join(shots, 'monitor-listen-notice-customer.png') });

  // Whisper: the agent hears the supervisor; the customer does not.
  const w = agent.logs.length;
  await logged(supervisor, /msg=monitoring .*mode=whisper/);
  await logged(agent, /msg="call coach" .*coach="Supervisor One" supervisor_joined=""/, w);
  const coach = await logged(agent, /msg="call quality" .*coach_level=(\S+)/, w, (m) => Number(m[1]) > HEARD);
  got = await hear(page, 3000);
  console.log(`whispering: the agent hears the supervisor at ${coach[1]}; the customer measures ${got[880].toFixed(4)} at 880 Hz, the agent at ${got[440].toFixed(3)}`);
  assert.ok(got[880] < SILENT && got.n >= 20, `whispering: the customer measures ${got[880]} at 880 Hz; want silence`);
  assert.ok(got[440] > HEARD, `whispering: the customer hears the agent at ${got[440]}`);

  // Barge: the customer hears the supervisor and is told.
  await logged(supervisor, /msg=monitoring .*mode=barge/);
  await page.getByTestId('call-supervisor').waitFor({ timeout: T });
  assert.equal(await page.getByTestId('call-supervisor').textContent(), 'A supervisor joined the call');
  await page.getByTestId('call-monitored').waitFor({ state: 'detached', timeout: T });
  await page.waitForTimeout(500);
  got = await hear(page, 2000);
  console.log(`barging: the customer hears the supervisor at ${got[880].toFixed(3)} and the agent at ${got[440].toFixed(3)}`);
  assert.ok(got[880] > HEARD, `barging: the customer measures ${got[880]} at 880 Hz; want the supervisor`);
  assert.ok(got[440] > HEARD, `barging: the customer hears the agent at ${got[440]}`);
  await page.screenshot({ path: join(shots, 'monitor-barge-customer.png') });

  // The supervisor's link drops (the process is killed): the leg ends, the call goes on.
  const d = agent.logs.length;
  supervisor.proc.kill('SIGKILL');
  await logged(agent, /msg="supervisor's leg closed" .*reason=/, d);
  await page.getByTestId('call-supervisor').waitFor({ state: 'detached', timeout: T });
  await page.waitForTimeout(500);
  got = await hear(page, 2000);
  assert.ok(got[440] > HEARD && got[880] < SILENT, `after the supervisor dropped: 440 Hz ${got[440]}, 880 Hz ${got[880]}; want the agent only`);
  assert.ok(!agent.logs.slice(d).some((l) => /state=ended/.test(l)), 'the call ended with the supervisor');
  await page.screenshot({ path: join(shots, 'monitor-after-drop-customer.png') });
  await page.getByTestId('call-end').click();
  await logged(agent, /msg=call .*state=ended/, d);
  await context.close();
});
