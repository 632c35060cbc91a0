// End-to-end test of call recording and its playback: the demo organisation asks its customers;
// a customer in real headless Chromium (fake camera and microphone) ticks "Allow this call to be
// recorded" and answers the real headless agent's video call (`parley-agent -call video -record`,
// test-pattern video and a tone); ten seconds are recorded; when the call ends the agent uploads
// both sides' WebM files to the hub. A supervisor opens the playback page in Chromium and plays
// the call: both sides' videos decode frames (requestVideoFrameCallback, getVideoPlaybackQuality)
// and carry sound (a WebAudio analyser per side), in step, beside the transcript; the admin's audit
// log shows the two playbacks. A customer who answers without agreeing has nothing recorded: no
// file on the hub, nothing in the agent's spool. An agent killed mid-call uploads what it had
// recorded when it signs in again, and the cut files play. Screenshots go to test-results/.
// Run: make test-recording-e2e.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub, start, binary, launchChromium, resultsDir, desktop, phone } from './lib/index.mjs';

const T = 30_000; // how long any single expectation may take

let hub, agent, browser, spool, admin, super1;
const shots = resultsDir();

/** api calls the hub's API as the holder of token and returns the decoded answer. */
async function api(method, path, token, body) {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => null);
  assert.ok(res.ok, `${method} ${path} = ${res.status} ${JSON.stringify(data)}`);
  return data;
}

async function login(username) {
  const res = await fetch(`${hub.url}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ org: 'demo', username, password: 'demo', client: 'console' }),
  });
  assert.equal(res.status, 200, `login ${username}`);
  return (await res.json()).token;
}

/** startAgent starts the headless agent: it accepts, echoes, calls with video and records. */
function startAgent() {
  return start(binary('parley-agent', 'PARLEY_AGENT'), ['-hub', hub.url, '-org', 'demo', '-user', 'agent1', '-password', 'demo', '-accept', '-reply-echo', '-call', 'video', '-record'], {
    ready: /msg=ready/,
    name: 'agent1',
    env: { TMPDIR: spool },
  });
}

/** recordings waits until a conversation has n recorded files on the hub and returns them. */
async function recordings(conv, n) {
  let recs = [];
  for (const deadline = Date.now() + T; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
    recs = await api('GET', `/api/v1/orgs/demo/conversations/${conv}/recordings`, super1);
    if (recs.length === n) break;
  }
  return recs;
}

/** openPlayback signs a supervisor in on the playback page and waits for both sides' files. */
async function openPlayback(url, { viewport = desktop, locale = 'en-US' } = {}) {
  const context = await browser.newContext({ viewport, locale });
  const page = await context.newPage();
  const errors = watch(page);
  // What the hub answered each request for a recorded file (the videos load signed addresses).
  page.fileStatuses = [];
  page.on('response', (r) => {
    if (r.url().includes('/recordings/')) page.fileStatuses.push({ status: r.status(), range: r.request().headers().range ?? '' });
  });
  await page.goto(url);
  await page.getByTestId('admin-username').fill('super1');
  await page.getByTestId('admin-password').fill('demo');
  await page.getByTestId('admin-signin').getByRole('button').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="play-video"]').length === 2 && [...document.querySelectorAll('[data-testid="play-video"]')].every((v) => v.readyState >= 1), null, { timeout: T });
  return { context, page, errors };
}

before(async () => {
  hub = await startHub();
  admin = await login('admin1');
  super1 = await login('super1');
  await api('PUT', '/api/v1/orgs/demo/settings/recording', admin, { mode: 'ask', retention_days: 30 });
  // The agent's spool (recordings waiting for their upload) goes to a folder of the test's own.
  spool = mkdtempSync(join(tmpdir(), 'parley-spool-'));
  agent = await startAgent();
  browser = await launchChromium({ media: true, args: ['--autoplay-policy=no-user-gesture-required'] });
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await hub?.stop();
  if (spool) rmSync(spool, { recursive: true, force: true });
});

/** logged waits until the agent has logged a line matching re since line `from`, and returns its match. */
async function logged(re, from = 0) {
  const deadline = Date.now() + T;
  while (Date.now() < deadline) {
    for (const l of agent.logs.slice(from)) {
      const m = l.match(re);
      if (m) return m;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the agent never logged ${re}; its last lines:\n${agent.logs.slice(-15).join('\n')}`);
}

/** watch collects a page's script errors and CSP refusals. */
function watch(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(new Error(m.text()));
  });
  return errors;
}

/**
 * callCustomer has a customer chat, get the agent's video call and answer it with video, agreeing
 * to the recording or not; it returns the page, its errors, the conversation and the call.
 */
async function callCustomer(name, agree) {
  const context = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  const page = await context.newPage();
  const errors = watch(page);
  const mark = agent.logs.length;
  await page.goto(`${hub.url}/chat/demo`);
  await page.getByTestId('prechat-name').fill(name);
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('chat-input').fill(`Hello, this is ${name}. Can you call me?`);
  await page.getByTestId('chat-input').press('Enter');
  await page.getByTestId('call-record-consent').waitFor({ timeout: T });
  if (agree) await page.getByTestId('call-record-consent-box').check();
  await page.getByTestId('accept-video').click();
  const m = await logged(/msg=call .*call=(\S+) conv=(\S+) kind=video state=active/, mark);
  await logged(/first remote frame/, mark);
  return { context, page, errors, call: m[1], conv: m[2], mark };
}

test('a recorded video call plays back on the supervisor’s page, both sides with picture and sound, and is audited', async () => {
  const c = await callCustomer('Rita', true);
  await logged(/msg="call recording" .*recording=true/, c.mark);
  await c.page.getByTestId('call-recording').waitFor({ timeout: T });
  await c.page.getByTestId('chat-input').fill('I have a question about my invoice.');
  await c.page.getByTestId('chat-input').press('Enter');
  await c.page.waitForTimeout(10_000); // ten seconds of call recorded
  await c.page.screenshot({ path: join(shots, 'recording-customer-call.png') });
  await c.page.getByTestId('call-end').click();
  await c.page.getByTestId('call-ended').waitFor({ timeout: T });

  // The agent uploads both sides when the call ends.
  const recs = await recordings(c.conv, 2);
  assert.deepEqual(recs.map((r) => r.track).sort(), ['agent.webm', 'customer.webm'], JSON.stringify(recs));
  assert.ok(recs.every((r) => r.call === c.call && r.bytes > 50_000), `sizes ${recs.map((r) => r.bytes)}`);
  assert.deepEqual(c.errors, []);

  // The calls report links the recorded call to the playback page.
  const csv = await (await fetch(`${hub.url}/api/v1/orgs/demo/reports/calls.csv`, { headers: { Authorization: `Bearer ${super1}` } })).text();
  const row = csv.split('\n').find((l) => l.startsWith(c.call));
  const pageURL = `${hub.url}/admin/demo/recordings/${c.conv}`;
  assert.ok(row?.endsWith(pageURL), `calls.csv row ${row}; want it to end with ${pageURL}`);

  // The recorded calls list (the team view's "Recorded calls") finds it too, with its playback page.
  const lc = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  const lp = await lc.newPage();
  const listErrors = watch(lp);
  await lp.goto(`${hub.url}/admin/demo/recordings`); // the hub adds the slash
  await lp.getByTestId('admin-username').fill('super1');
  await lp.getByTestId('admin-password').fill('demo');
  await lp.getByTestId('admin-signin').getByRole('button').click();
  const listed = lp.locator(`[data-testid="recorded-row"][data-call="${c.call}"]`);
  await listed.waitFor({ timeout: T });
  const rowText = await listed.textContent();
  assert.ok(rowText.includes('Rita') && /Video · \d+:\d\d/.test(rowText), `recorded calls row: ${rowText}`);
  assert.equal(await listed.getByTestId('recorded-play').getAttribute('href'), `/admin/demo/recordings/${c.conv}`);
  await lp.screenshot({ path: join(shots, 'recording-list.png') });
  assert.deepEqual(listErrors, []);
  await lc.close();

  // A supervisor opens it and plays the call.
  const { context: sv, page, errors } = await openPlayback(pageURL);
  await page.getByTestId('play-customer').filter({ hasText: 'Conversation with Rita' }).waitFor({ timeout: T });
  await page.locator('[data-testid="play-line"][data-author="customer"]').filter({ hasText: 'I have a question about my invoice.' }).waitFor({ timeout: T });
  const length = await page.evaluate(() => Math.max(...[...document.querySelectorAll('[data-testid="play-video"]')].map((v) => v.duration)));
  assert.ok(length >= 9 && length <= 20, `recording length ${length} s; want about the ten seconds recorded`);

  // Measure each side as it plays: decoded frames and sound energy.
  await page.evaluate(() => {
    const ctx = new AudioContext();
    window.__play = {};
    for (const v of document.querySelectorAll('[data-testid="play-video"]')) {
      const side = v.dataset.side;
      const an = ctx.createAnalyser();
      an.fftSize = 32768; // 0.7 s: a window long enough to catch the fake microphone's beeps
      ctx.createMediaElementSource(v).connect(an);
      an.connect(ctx.destination);
      const st = (window.__play[side] = { frames: 0, peak: 0, an, v, drift: 0 });
      const cb = () => {
        st.frames++;
        v.requestVideoFrameCallback(cb);
      };
      v.requestVideoFrameCallback(cb);
    }
    window.__ctx = ctx;
  });
  await page.getByTestId('play-toggle').click();
  await page.evaluate(async () => {
    await window.__ctx.resume();
    const buf = new Float32Array(32768);
    const vs = Object.values(window.__play);
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 100));
      for (const st of vs) {
        st.an.getFloatTimeDomainData(buf);
        let sum = 0;
        for (const x of buf) sum += x * x;
        st.peak = Math.max(st.peak, Math.sqrt(sum / buf.length));
      }
      if (i > 10) vs[0].drift = Math.max(vs[0].drift, Math.abs(vs[0].v.currentTime - vs[1].v.currentTime));
    }
  });
  await page.screenshot({ path: join(shots, 'recording-playback-desktop.png') });
  const got = await page.evaluate(() =>
    Object.fromEntries(
      Object.entries(window.__play).map(([side, st]) => [side, { frames: st.frames, decoded: st.v.getVideoPlaybackQuality().totalVideoFrames, peak: st.peak, drift: st.drift, w: st.v.videoWidth, t: st.v.currentTime }]),
    ),
  );
  console.log('playback', JSON.stringify(got));
  for (const side of ['customer', 'agent']) {
    // ≥ 5 frames a second shown (the recording has 30; a loaded CI machine shows 10–20, a frozen
    // or unplayable side none).
    assert.ok(got[side].frames >= 30 && got[side].decoded >= 30, `${side}: ${got[side].frames} frames shown, ${got[side].decoded} decoded in 6 s; want ≥ 30`);
    assert.ok(got[side].w > 0, `${side}: no picture size`);
    assert.ok(got[side].peak > 0.01, `${side}: peak sound level ${got[side].peak}; want the side's sound`);
  }
  assert.ok(got.customer.drift < 0.5, `the sides drifted ${got.customer.drift} s apart; want them in step`);
  // The transcript marks the line being played.
  assert.equal(await page.locator('[data-testid="play-line"][data-current="true"]').count(), 1);
  // The videos stream the files with range requests (206), and seeking moves both sides.
  assert.ok(page.fileStatuses.some((f) => f.status === 206), `file requests ${JSON.stringify(page.fileStatuses)}; want ranges answered with 206`);
  assert.ok(page.fileStatuses.every((f) => f.status === 206 || f.status === 200), `file requests ${JSON.stringify(page.fileStatuses)}`);
  const seekTo = async (s) => {
    await page.getByTestId('play-seek').evaluate((el, v) => {
      el.value = String(v);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, s);
    await page.waitForFunction((v) => [...document.querySelectorAll('[data-testid="play-video"]')].every((e) => !e.seeking && Math.abs(e.currentTime - v) < 1.5), s, { timeout: T });
  };
  await seekTo(2);
  if ((await page.getByTestId('play-toggle').textContent()).trim() === 'Play') await page.getByTestId('play-toggle').click(); // it may have reached the end
  const afterSeek = await page.evaluate(async () => {
    const before = Object.fromEntries(Object.entries(window.__play).map(([side, st]) => [side, st.frames]));
    await new Promise((r) => setTimeout(r, 2000));
    return Object.fromEntries(Object.entries(window.__play).map(([side, st]) => [side, { frames: st.frames - before[side], t: st.v.currentTime }]));
  });
  console.log('after seeking to 2 s', JSON.stringify(afterSeek));
  for (const side of ['customer', 'agent']) {
    assert.ok(afterSeek[side].frames >= 5 && afterSeek[side].t > 2.5 && afterSeek[side].t < 6, `${side} after seeking to 2 s: ${JSON.stringify(afterSeek[side])}; want it playing from there`);
  }
  await page.setViewportSize(phone);
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(shots, 'recording-playback-phone.png'), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than a 360 px screen`);
  assert.deepEqual(errors, []);
  await sv.close();

  // In Spanish.
  const { context: es, page: ep } = await openPlayback(pageURL, { viewport: phone, locale: 'es-ES' });
  await ep.getByTestId('play-customer').filter({ hasText: 'Conversación con Rita' }).waitFor({ timeout: T });
  await ep.getByRole('button', { name: 'Reproducir', exact: true }).waitFor({ timeout: T });
  await ep.screenshot({ path: join(shots, 'recording-playback-es.png') });
  await es.close();

  // The admin's audit log shows the supervisor's two playbacks (the page opened twice), one line
  // each however many range requests the videos made.
  const audit = await api('GET', '/api/v1/orgs/demo/audit?limit=50', admin);
  const plays = audit.entries.filter((e) => e.action === 'recording.play' && e.target === c.call);
  assert.equal(plays.length, 2, `audit lines for playing the call: ${JSON.stringify(plays)}; want one per opening`);
  const ad = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  const ap = await ad.newPage();
  await ap.goto(`${hub.url}/admin/demo#audit`);
  await ap.getByTestId('admin-username').fill('admin1');
  await ap.getByTestId('admin-password').fill('demo');
  await ap.getByTestId('admin-signin').getByRole('button').click();
  await ap.locator('[data-testid="audit-row"][data-action="recording.play"]').first().waitFor({ timeout: T });
  await ap.screenshot({ path: join(shots, 'recording-audit.png') });
  await ad.close();
  await c.context.close();
});

test('a customer who answers without agreeing has nothing recorded', async () => {
  const c = await callCustomer('Nora', false);
  await logged(/msg="recording refused" .*code=ENOCONSENT/, c.mark);
  await c.page.waitForTimeout(3_000);
  assert.equal(await c.page.getByTestId('call-recording').count(), 0, 'the customer sees a Recording label');
  await c.page.getByTestId('call-end').click();
  await c.page.getByTestId('call-ended').waitFor({ timeout: T });
  await logged(new RegExp(`msg=call .*call=${c.call} .*state=ended`), c.mark);
  await new Promise((r) => setTimeout(r, 2_000)); // an upload would have started by now
  assert.deepEqual(await api('GET', `/api/v1/orgs/demo/conversations/${c.conv}/recordings`, super1), []);
  const left = readdirSync(spool, { recursive: true }).filter((f) => String(f).includes(c.call));
  assert.deepEqual(left, [], 'the agent spooled media of a call without consent');
  assert.deepEqual(c.errors, []);
  await c.context.close();
});

test('a recording cut short by a killed agent is uploaded at its next sign-in and plays', async () => {
  const c = await callCustomer('Kim', true);
  await logged(/msg="call recording" .*recording=true/, c.mark);
  await c.page.waitForTimeout(6_000);
  agent.proc.kill('SIGKILL'); // the app killed mid-call
  await agent.done;
  const spooled = readdirSync(spool, { recursive: true }).map(String).filter((f) => f.includes(c.call) && f.endsWith('.webm'));
  assert.equal(spooled.length, 2, `spool after the kill: ${spooled}; want both sides' files`);
  await c.context.close();

  agent = await startAgent(); // signing in again uploads what the killed run left
  const recs = await recordings(c.conv, 2);
  assert.deepEqual(recs.map((r) => r.track).sort(), ['agent.webm', 'customer.webm'], JSON.stringify(recs));

  const { context, page, errors } = await openPlayback(`${hub.url}/admin/demo/recordings/${c.conv}`);
  // The agent gave the cut files their length before the upload: the page knows it, and plays.
  await page.waitForFunction(() => !document.querySelector('[data-testid="play-toggle"]')?.disabled, null, { timeout: T });
  const length = await page.evaluate(() => Math.max(...[...document.querySelectorAll('[data-testid="play-video"]')].map((v) => v.duration)));
  assert.ok(length >= 4 && length <= 12, `cut recording's length ${length} s; want about the six seconds before the kill`);
  await page.getByTestId('play-toggle').click();
  await page.waitForTimeout(3_000);
  const decoded = await page.evaluate(() => [...document.querySelectorAll('[data-testid="play-video"]')].map((v) => v.getVideoPlaybackQuality().totalVideoFrames));
  assert.ok(decoded.every((n) => n >= 15), `frames decoded per side in 3 s: ${decoded}; want both sides playing`);
  const at = await page.evaluate(() => [...document.querySelectorAll('[data-testid="play-video"]')].map((v) => v.currentTime));
  assert.ok(at.every((t) => t > 1), `positions after 3 s of play: ${at}; want both sides moving`);
  await page.screenshot({ path: join(shots, 'recording-playback-cut.png') });
  assert.deepEqual(errors, []);
  await context.close();
});
