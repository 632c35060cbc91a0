// End-to-end test of the customer's side of calls: a customer in real headless Chromium (fake camera
// and microphone) is called by the real headless agent (`parley-agent -call video|voice`, whose Go
// media engine sends test-pattern video and a tone) through the real hub.
// axe-core (e2e/lib/axe.mjs) checks the incoming call, the call and the ended call: no serious or
// critical WCAG 2.1 AA violation.
// Run: make test-portal-calls-e2e (or node --test e2e/portal-calls.test.mjs with out/parley-hub and
// out/parley-agent built, or PARLEY_HUB/PARLEY_AGENT pointing at them).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startHub, startAgent, launchChromium, resultsDir, desktop, phone, videoFrame, audioLevel, accessible } from './lib/index.mjs';

const T = 20_000; // how long any single expectation may take

let hub, voiceHub, probeHub, videoAgent, voiceAgent, probeAgent, browser;
const shots = resultsDir();

before(async () => {
  hub = await startHub();
  videoAgent = await agent('video');
  browser = await launchChromium({ media: true });
});

// A failed test must not leave its call up: the headless agent holds one call at a time.
const open = new Set();
afterEach(async () => {
  for (const c of open) {
    try {
      const end = c.page.getByTestId('call-end');
      if (await end.isVisible()) await end.click({ timeout: 2000 });
      const leave = c.page.getByTestId('chat-leave');
      if (await leave.isVisible()) {
        await leave.click({ timeout: 2000 });
        await c.page.getByTestId('chat-leave-confirm').click({ timeout: 2000 });
      }
    } catch {
      // Best effort: the hub also ends calls and chats of customers who are gone.
    }
    await c.context.close().catch(() => {});
  }
  open.clear();
});

after(async () => {
  await browser?.close();
  await videoAgent?.stop();
  await voiceAgent?.stop();
  await voiceHub?.stop();
  await probeAgent?.stop();
  await probeHub?.stop();
  await hub?.stop();
});

/** agent starts a headless agent that accepts chats, echoes, and calls after the first message. */
async function agent(kind) {
  return startAgent(hub.url, { args: ['-accept', '-reply-echo', '-call', kind] });
}

/**
 * customer opens the portal in a new context of b and sends a first message, which makes the agent
 * call. The page must show no script error and nothing blocked by its CSP.
 */
async function customer(b = browser, { viewport = desktop, name = 'Dana', contextOptions = {}, base = hub.url, initScript = null } = {}) {
  const context = await b.newContext({ viewport, locale: 'en-US', ...contextOptions });
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(new Error(m.text()));
  });
  await page.goto(`${base}/chat/demo`);
  await page.getByTestId('prechat-name').fill(name);
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('chat-input').fill('hello, can we talk?');
  await page.getByTestId('chat-input').press('Enter');
  const c = { context, page, errors };
  open.add(c);
  return c;
}

/**
 * logged waits until the agent has logged a line matching re since line `from` of its output
 * (the agent logs the customer's mute and video changes and the first frame it receives).
 */
async function logged(proc, re, from = 0) {
  const deadline = Date.now() + T;
  while (Date.now() < deadline) {
    if (proc.logs.slice(from).some((l) => re.test(l))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the agent never logged ${re}; its last lines:\n${proc.logs.slice(-15).join('\n')}`);
}

/** done leaves the chat (so the agent's capacity is free for the next test) and closes the context. */
async function done({ context, page, errors }) {
  await page.getByTestId('chat-leave').click();
  await page.getByTestId('chat-leave-confirm').click();
  await page.getByTestId('chat-ended').waitFor({ timeout: T });
  assert.deepEqual(errors, []);
  for (const c of open) if (c.page === page) open.delete(c);
  await context.close();
}

/** waitPlaying waits until the agent's video plays. */
async function waitPlaying(page) {
  await page.waitForFunction(
    () => {
      const v = document.querySelector('[data-testid="remote-video"]');
      return v && v.videoWidth > 0 && v.currentTime > 0;
    },
    null,
    { timeout: T },
  );
}

test('accept with video: the agent moving video and sound arrive; mute and video off; end', async (t) => {
  const { context, page, errors } = await customer();
  const incoming = page.getByTestId('call-incoming');
  await incoming.waitFor({ timeout: T });
  assert.match(await incoming.textContent(), /Agent One.*video call/);
  assert.equal(await page.getByTestId('accept-video').isVisible(), true);
  await page.screenshot({ path: join(shots, 'portal-call-incoming.png') });
  await accessible(page, 'portal: an incoming call');

  const mark = videoAgent.logs.length;
  const clicked = Date.now();
  await page.getByTestId('accept-video').click();
  await waitPlaying(page);
  t.diagnostic(`accept click → agent video playing: ${Date.now() - clicked} ms`);
  // Our camera reaches the agent too.
  await logged(videoAgent, /first remote frame/, mark);
  // The picture moves: two snapshots half a second apart differ.
  const a = await videoFrame(page);
  assert.ok(a !== null, 'remote video has frames');
  let b = a;
  for (const deadline = Date.now() + T; b === a && Date.now() < deadline; ) {
    await page.waitForTimeout(300);
    b = await videoFrame(page);
  }
  assert.notEqual(b, a, 'remote video moves');
  const level = await audioLevel(page);
  assert.ok(level > 0.005, `agent audio arrives (rms ${level})`);
  // The remote element is not muted: the agent is heard through it.
  assert.equal(await page.getByTestId('remote-video').evaluate((v) => v.muted), false);
  await page.getByTestId('call-timer').filter({ hasText: /^\s*\d+:\d\d\s*$/ }).waitFor({ timeout: T });
  await accessible(page, 'portal: in a video call');
  await page.screenshot({ path: join(shots, 'portal-call-desktop.png') });
  await page.setViewportSize(phone);
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(shots, 'portal-call-phone.png') });

  // Mute: the button says so, the microphone track stops sending sound.
  const mute = page.getByTestId('call-mute');
  assert.equal(await mute.getAttribute('aria-pressed'), 'false');
  let from = videoAgent.logs.length;
  await mute.click();
  assert.equal(await mute.getAttribute('aria-pressed'), 'true');
  await logged(videoAgent, /customer media.* muted=true video=true/, from);
  // Video off: the self-view goes, the camera stops.
  const cam = page.getByTestId('call-video');
  assert.equal(await cam.getAttribute('aria-pressed'), 'true');
  from = videoAgent.logs.length;
  await cam.click();
  await page.waitForFunction(() => document.querySelector('[data-testid="call-video"]')?.getAttribute('aria-pressed') === 'false', null, { timeout: T });
  await logged(videoAgent, /customer media.* muted=true video=false/, from);
  assert.equal(await page.getByTestId('self-video').isVisible(), false);
  // Turned on again, the agent's video keeps playing and ours is back.
  from = videoAgent.logs.length;
  await cam.click();
  await logged(videoAgent, /customer media.* muted=true video=true/, from);
  await page.waitForFunction(() => document.querySelector('[data-testid="call-video"]')?.getAttribute('aria-pressed') === 'true', null, { timeout: T });
  await page.getByTestId('self-video').waitFor({ state: 'visible', timeout: T });

  from = videoAgent.logs.length;
  await page.getByTestId('call-end').click();
  const ended = page.getByTestId('call-ended');
  await ended.waitFor({ timeout: T });
  assert.match(await ended.textContent(), /Call ended · \d+:\d\d/);
  await logged(videoAgent, /call ended.*by=customer/, from);
  await accessible(page, 'portal: the call ended');
  await page.screenshot({ path: join(shots, 'portal-call-ended-phone.png') });
  // The chat goes on after the call.
  await page.getByTestId('chat-input').fill('thanks for the call');
  await page.getByTestId('chat-input').press('Enter');
  await page.locator('[data-testid="chat-message"][data-author="agent"]').filter({ hasText: 'echo: thanks for the call' }).waitFor({ timeout: T });
  await done({ context, page, errors });
});

test('checking camera and microphone before accepting: the self view plays and the meter moves; the answer still works', async () => {
  const { context, page, errors } = await customer(browser, { name: 'Checks first' });
  await page.getByTestId('call-incoming').waitFor({ timeout: T });
  const mark = videoAgent.logs.length;
  await page.getByTestId('call-check-open').click();
  await page.getByTestId('call-check-ok').waitFor({ timeout: T });
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid="call-check-video"]');
    return v && v.videoWidth > 0 && !v.paused;
  }, null, { timeout: T });
  // Chromium's fake microphone beeps: the meter moves within a few seconds.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="call-check-level"]')?.getAttribute('aria-valuenow')) > 5, null, { timeout: T });
  await page.screenshot({ path: join(shots, 'portal-call-check.png') });
  await accessible(page, 'portal: checking camera and microphone while a call rings');
  // Nothing went to the agent: the call still rings and the agent heard of no answer.
  assert.equal(videoAgent.logs.slice(mark).some((l) => /answering=true/.test(l)), false, 'the check told the agent the customer was answering');
  await page.getByTestId('accept-video').click();
  await page.getByTestId('call-check').waitFor({ state: 'detached', timeout: T });
  await waitPlaying(page);
  await page.getByTestId('call-end').click();
  await page.getByTestId('call-ended').waitFor({ timeout: T });
  await done({ context, page, errors });
});

test('decline: no device is asked for and the chat goes on', async () => {
  const { context, page, errors } = await customer(browser, { name: 'Decliner' });
  await page.getByTestId('call-incoming').waitFor({ timeout: T });
  const from = videoAgent.logs.length;
  await page.getByTestId('decline').click();
  const ended = page.getByTestId('call-ended');
  await ended.waitFor({ timeout: T });
  assert.match(await ended.textContent(), /declined/);
  await logged(videoAgent, /call ended.*outcome=declined/, from);
  assert.equal(await page.getByTestId('remote-video').count(), 0);
  await page.getByTestId('chat-input').fill('just text, please');
  await page.getByTestId('chat-input').press('Enter');
  await page.locator('[data-testid="chat-message"][data-author="agent"]').filter({ hasText: 'echo: just text, please' }).waitFor({ timeout: T });
  await done({ context, page, errors });
});

test('accept with audio: the agent is heard, no camera is used', async () => {
  const { context, page, errors } = await customer(browser, { name: 'Audio only', viewport: phone });
  await page.getByTestId('call-incoming').waitFor({ timeout: T });
  await page.getByTestId('accept-audio').click();
  await page.getByTestId('call-timer').filter({ hasText: /\d:\d\d/ }).waitFor({ timeout: T });
  const level = await audioLevel(page);
  assert.ok(level > 0.005, `agent audio arrives (rms ${level})`);
  assert.equal(await page.getByTestId('call-video').getAttribute('aria-pressed'), 'false');
  assert.equal(await page.getByTestId('self-video').isVisible(), false);
  // The customer turns the camera on mid-call: this renegotiates, the agent gets our video, and
  // the call carries on.
  const from = videoAgent.logs.length;
  await page.getByTestId('call-video').click();
  await page.getByTestId('self-video').waitFor({ state: 'visible', timeout: T });
  await logged(videoAgent, /first remote frame/, from);
  await page.waitForTimeout(1000);
  assert.equal(await page.getByTestId('call-ended').count(), 0);
  await page.screenshot({ path: join(shots, 'portal-call-audio-phone.png') });
  await page.getByTestId('call-end').click();
  await page.getByTestId('call-ended').waitFor({ timeout: T });
  await done({ context, page, errors });
});

test('closing the tab mid-call hangs up at once (not after the hub grace for lost connections)', async () => {
  const c = await customer(browser, { name: 'Tab closer', viewport: phone });
  await c.page.getByTestId('call-incoming').waitFor({ timeout: T });
  await c.page.getByTestId('accept-audio').click();
  await c.page.getByTestId('call-timer').filter({ hasText: /\d:\d\d/ }).waitFor({ timeout: T });
  const from = videoAgent.logs.length;
  open.delete(c);
  await c.page.close({ runBeforeUnload: true });
  // pagehide sent call.end: the agent hears "hangup by the customer", not "disconnected".
  await logged(videoAgent, /call ended.*reason=hangup.*by=customer/, from);
  await c.context.close();
});

test('a refused camera says so and lets the customer go on with audio only', async () => {
  // A browser without the fake permission prompt, which refuses what it is not granted: the
  // microphone is allowed, the camera is not.
  const strict = await launchChromium({ args: ['--use-fake-device-for-media-stream', '--allow-loopback-in-peer-connection', '--deny-permission-prompts'] });
  try {
    const { context, page, errors } = await customer(strict, {
      name: 'No camera',
      viewport: phone,
      contextOptions: { permissions: ['microphone'] },
    });
    await page.getByTestId('call-incoming').waitFor({ timeout: T });
    await page.getByTestId('accept-video').click();
    const problem = page.getByTestId('call-permission-error');
    await problem.waitFor({ timeout: T });
    assert.equal(await problem.getAttribute('data-device'), 'camera');
    assert.match(await problem.textContent(), /camera/);
    await page.screenshot({ path: join(shots, 'portal-call-permission-phone.png') });
    await page.getByTestId('call-audio-only').click();
    await page.getByTestId('call-timer').filter({ hasText: /\d:\d\d/ }).waitFor({ timeout: T });
    await page.getByTestId('call-end').click();
    await page.getByTestId('call-ended').waitFor({ timeout: T });
    await done({ context, page, errors });

    // With the microphone refused too, the customer stays in the chat, which declines the call.
    const second = await customer(strict, { name: 'No devices', viewport: phone, contextOptions: { permissions: [] } });
    await second.page.getByTestId('call-incoming').waitFor({ timeout: T });
    await second.page.getByTestId('accept-audio').click();
    const p2 = second.page.getByTestId('call-permission-error');
    await p2.waitFor({ timeout: T });
    assert.equal(await p2.getAttribute('data-device'), 'microphone');
    assert.equal(await second.page.getByTestId('call-audio-only').count(), 0);
    await second.page.getByTestId('call-stay').click();
    await second.page.getByTestId('call-ended').waitFor({ timeout: T });
    await done(second);
  } finally {
    await strict.close();
  }
});

test('an organisation with voice calls only: no video is offered; the agent is heard', async () => {
  // A second hub whose demo organisation allows voice calls only.
  voiceHub = await startHub({ args: ['-demo-calls', 'voice'] });
  voiceAgent = await startAgent(voiceHub.url, { args: ['-accept', '-reply-echo', '-call', 'voice'] });
  const { context, page, errors } = await customer(browser, { name: 'Voice', base: voiceHub.url });
  const incoming = page.getByTestId('call-incoming');
  await incoming.waitFor({ timeout: T });
  assert.equal(await incoming.getAttribute('data-kind'), 'voice');
  assert.equal(await page.getByTestId('accept-video').count(), 0);
  assert.match(await incoming.textContent(), /Agent One is calling you/);
  await page.getByTestId('accept-audio').click();
  await page.getByTestId('call-timer').filter({ hasText: /\d:\d\d/ }).waitFor({ timeout: T });
  const level = await audioLevel(page);
  assert.ok(level > 0.005, `agent audio arrives (rms ${level})`);
  await page.getByTestId('call-end').click();
  await page.getByTestId('call-ended').waitFor({ timeout: T });
  await done({ context, page, errors });
});

test("the customer's network probe while it rings: the relay is reached and the agent gets the figures; a relay that does not answer reaches the agent as failed", async (t) => {
  // A hub with its embedded relay over UDP and TCP: the probe goes through it.
  probeHub = await startHub({ args: ['-turn-udp', '127.0.0.1:0', '-turn-tcp', '127.0.0.1:0'] });
  probeAgent = await startAgent(probeHub.url, { args: ['-accept', '-reply-echo', '-call', 'voice'] });

  let from = probeAgent.logs.length;
  const good = await customer(browser, { name: 'Prober', base: probeHub.url });
  await good.page.getByTestId('call-incoming').waitFor({ timeout: T });
  await good.page.locator('section.call[data-probe="done"]').waitFor({ timeout: T });
  await logged(probeAgent, /customer network probe.*status=good/, from);
  const line = probeAgent.logs.slice(from).find((l) => /customer network probe/.test(l));
  t.diagnostic(`agent: ${line}`);
  const rtt = Number(/rtt_ms=(\d+)/.exec(line)[1]);
  assert.ok(rtt >= 0 && rtt < 300, `round trip through the relay on loopback: ${rtt} ms`);
  assert.match(line, /transport=udp/);
  await good.page.screenshot({ path: join(shots, 'portal-call-probe.png') });
  await good.page.getByTestId('decline').click();
  await good.page.getByTestId('call-ended').waitFor({ timeout: T });
  await done(good);

  // A relay that does not answer: the page's peer connections are pointed at a port nobody
  // serves (the call itself is declined, so nothing else is affected).
  from = probeAgent.logs.length;
  const bad = await customer(browser, {
    name: 'Unreachable',
    base: probeHub.url,
    initScript: () => {
      const Real = window.RTCPeerConnection;
      const Dead = function (config) {
        const iceServers = (config?.iceServers ?? []).map((s) => ({ ...s, urls: [].concat(s.urls).map((u) => u.replace(/:\d+(\?|$)/, ':9$1')) }));
        return new Real({ ...config, iceServers });
      };
      Dead.prototype = Real.prototype;
      window.RTCPeerConnection = Dead;
    },
  });
  await bad.page.getByTestId('call-incoming').waitFor({ timeout: T });
  await bad.page.locator('section.call[data-probe="done"]').waitFor({ timeout: T });
  await logged(probeAgent, /customer network probe.*status=failed/, from);
  await bad.page.getByTestId('decline').click();
  await bad.page.getByTestId('call-ended').waitFor({ timeout: T });
  await done(bad);
});
