// End-to-end test of calls from the agent desktop app: the REAL Wails app (dev build, with
// -devices test-pattern so its Go media engine sends the moving test pattern and a tone) runs under
// Xvfb against a real hub and calls a customer in headless Chromium (fake camera and microphone)
// in the real portal. Chromium drives the app's UI through the Wails dev server; the remote video
// the agent sees is the Go engine's MJPEG stream in an <img>. X screenshots of the real window go
// to test-results/.
//
// Run: make test-app-calls-e2e (or node --test e2e/app-calls.test.mjs with PARLEY_APP pointing at
// a `go build -tags dev,webkit2_41` binary and out/parley-hub built).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  audioLevel as customerAudio,
  desktop,
  launchChromium,
  resultsDir,
  signIn,
  startApp,
  startHub,
  videoFrame as customerFrame,
  videoTint as customerTint,
  watch,
  xshot as xshotOf,
} from './lib/index.mjs';

const T = 20_000; // how long any single expectation may take
const shots = resultsDir();

let hub, app, uiBrowser, custBrowser, ui;

/** xshot saves an X screenshot of the Xvfb display: the real Wails window. */
const xshot = (name) => xshotOf(app, name);

before(async () => {
  // Calls ring for 8 s, so the missed-call test need not wait the default 45 s.
  hub = await startHub({ args: ['-ring-timeout', '8s'] });
  uiBrowser = await launchChromium();
  custBrowser = await launchChromium({ media: true });
  // Test-pattern devices: the Go media engine sends a moving test pattern and a tone.
  app = await startApp({ args: ['-hub', hub.url, '-devices', 'test-pattern'] });
  const context = await uiBrowser.newContext({ viewport: desktop, locale: 'en-US' });
  const page = await context.newPage();
  ui = { context, page, errors: watch(page) };
  // The remote video and self-view are images from the Go engine's loopback bridge: the UI's
  // Content-Security-Policy must let them through.
  page.on('requestfailed', (r) => r.url().includes('/video/') && ui.errors.push(new Error(`video ${r.url()}: ${r.failure()?.errorText}`)));
  await page.goto(app.url);
  await signIn(page, { hub: hub.url, user: 'agent1', timeout: T });
  await page.getByTestId('presence').waitFor({ timeout: T });
});

after(async () => {
  await uiBrowser?.close();
  await custBrowser?.close();
  await app?.stop();
  await hub?.stop();
});

/** load reads the agent's "Chats n/m" indicator. */
async function load() {
  const text = await ui.page.locator('header').getByText(/Chats \d+\/\d+/).textContent();
  const [, n, m] = text.match(/(\d+)\/(\d+)/);
  return [Number(n), Number(m)];
}

async function waitLoad(n) {
  await ui.page.locator('header').getByText(new RegExp(`Chats ${n}/\\d+`)).waitFor({ timeout: T });
}

/** customer starts a chat in the portal and the agent accepts it in the app. */
async function customer(name) {
  const context = await custBrowser.newContext({ viewport: desktop, locale: 'en-US' });
  const page = await context.newPage();
  const errors = watch(page);
  await page.goto(`${hub.url}/chat/demo`);
  await page.getByTestId('prechat-name').fill(name);
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('chat-input').fill(`hello, this is ${name}`);
  await page.getByTestId('chat-input').press('Enter');
  await ui.page.getByTestId('offer-accept').waitFor({ timeout: T });
  await ui.page.getByTestId('offer-accept').click();
  await ui.page.locator('[data-testid="chat-message"][data-author="customer"]').filter({ hasText: `hello, this is ${name}` }).waitFor({ timeout: T });
  return { context, page, errors };
}

/** call opens More commands (…) and picks Voice call or Video call. */
async function call(kind) {
  await ui.page.getByTestId('more-commands').click();
  await ui.page.getByTestId(`${kind}-call`).click();
  await ui.page.locator('[data-testid="floating-call-control"][data-state="ringing"]').waitFor({ timeout: T });
}

/** control returns the floating call control in a state. */
const control = (state) => ui.page.locator(`[data-testid="floating-call-control"][data-state="${state}"]`);

/** agentFrame is a PNG of the agent's remote-video <img> (the MJPEG stream from Go) as shown now. */
const agentFrame = () => ui.page.getByTestId('remote-video').screenshot();

async function leave({ context, page, errors }) {
  await page.getByTestId('chat-leave').click();
  await page.getByTestId('chat-leave-confirm').click();
  await page.getByTestId('chat-ended').waitFor({ timeout: T });
  assert.deepEqual(errors, []);
  await context.close();
}

test('video call: accepted with video, moving video and sound both ways, mute and camera state, End restores capacity', async () => {
  const cust = await customer('Vera');
  await waitLoad(1);
  await call('video');
  await cust.page.getByTestId('call-incoming').waitFor({ timeout: T });
  // Ringing takes the agent's remaining capacity.
  const [n, m] = await load();
  assert.equal(n, m, `load while ringing ${n}/${m}`);
  await ui.page.screenshot({ path: join(shots, 'app-call-ringing.png') });

  await cust.page.getByTestId('accept-video').click();
  await control('active').waitFor({ timeout: T });

  // The agent sees the customer's moving fake camera through the MJPEG bridge.
  await ui.page.getByTestId('remote-video').waitFor({ timeout: T });
  await ui.page.getByTestId('self-video').waitFor({ timeout: T });
  await ui.page.waitForFunction(() => document.querySelector('[data-testid="remote-video"]')?.naturalWidth > 0, null, { timeout: T });
  const a1 = await agentFrame();
  await ui.page.waitForTimeout(700);
  const a2 = await agentFrame();
  assert.notDeepEqual(a1, a2, 'the agent sees moving video');

  // The customer sees the agent's moving test pattern and hears the tone.
  await cust.page.waitForFunction(() => {
    const v = document.querySelector('[data-testid="remote-video"]');
    return v && v.videoWidth > 0 && v.currentTime > 0;
  }, null, { timeout: T });
  const c1 = await customerFrame(cust.page);
  await cust.page.waitForTimeout(600);
  const c2 = await customerFrame(cust.page);
  assert.ok(c1 !== null && c2 !== null && c1 !== c2, 'the customer sees moving video');
  const level = await customerAudio(cust.page);
  assert.ok(level > 0.005, `the agent's audio reaches the customer (rms ${level})`);

  await ui.page.getByTestId('call-timer').filter({ hasText: /^\d:\d\d$/ }).waitFor({ timeout: T });
  await ui.page.waitForTimeout(1500); // a quality reading
  await ui.page.screenshot({ path: join(shots, 'app-call-video.png') });
  await xshot('app-window-call-video.png');
  await ui.page.getByTestId('call-quality').click();
  await ui.page.getByTestId('call-quality-details').waitFor({ timeout: T });
  assert.match(await ui.page.getByTestId('call-route').textContent(), /Direct|Relayed/);
  await ui.page.screenshot({ path: join(shots, 'app-call-quality.png') });
  await ui.page.getByTestId('call-quality').click();

  // The customer mutes and turns the camera off: the agent's control says so.
  await cust.page.getByTestId('call-mute').click();
  await ui.page.getByTestId('remote-muted').waitFor({ timeout: T });
  await cust.page.getByTestId('call-video').click();
  await ui.page.getByTestId('remote-video-off').waitFor({ timeout: T });
  await cust.page.getByTestId('call-mute').click();
  await ui.page.getByTestId('remote-muted').waitFor({ state: 'detached', timeout: T });

  // The agent mutes (shortcut) and turns video off (button): the customer sees both.
  const mute = ui.page.getByTestId('call-mute');
  assert.equal(await mute.getAttribute('aria-pressed'), 'false');
  await ui.page.keyboard.press('Control+Shift+M');
  await ui.page.waitForFunction(() => document.querySelector('[data-testid="call-mute"]')?.getAttribute('aria-pressed') === 'true', null, { timeout: T });
  await cust.page.getByTestId('agent-muted').waitFor({ timeout: T });
  const video = ui.page.getByTestId('call-video');
  assert.equal(await video.getAttribute('aria-pressed'), 'true');
  await video.click();
  await ui.page.waitForFunction(() => document.querySelector('[data-testid="call-video"]')?.getAttribute('aria-pressed') === 'false', null, { timeout: T });
  await cust.page.getByTestId('agent-video-off').waitFor({ timeout: T });
  assert.equal(await ui.page.getByTestId('self-video').count(), 0);
  await video.click();
  await ui.page.getByTestId('self-video').waitFor({ timeout: T });

  // The agent switches camera mid-call: the customer sees the second test camera's blue cast.
  const before = await customerTint(cust.page);
  assert.ok(before !== null && before < 40, `the first camera is not blue (${before})`);
  await ui.page.getByTestId('call-devices-button').click();
  await ui.page.getByTestId('call-devices').waitFor({ timeout: T });
  const mb = await ui.page.getByTestId('call-devices').boundingBox();
  const vp = ui.page.viewportSize();
  assert.ok(mb.y >= 0 && mb.y + mb.height <= vp.height, `the device menu is on screen (${JSON.stringify(mb)})`);
  await ui.page.getByTestId('call-device-camera').selectOption('test-pattern-2');
  let after = before;
  for (const deadline = Date.now() + T; after <= 60 && Date.now() < deadline; ) {
    await cust.page.waitForTimeout(200);
    after = (await customerTint(cust.page)) ?? before;
  }
  assert.ok(after > 60, `the customer sees the second camera (blue ${before} -> ${after})`);
  assert.equal(await ui.page.getByTestId('call-device-camera').inputValue(), 'test-pattern-2');
  await ui.page.screenshot({ path: join(shots, 'app-call-devices.png') });
  await ui.page.getByTestId('call-devices').getByRole('button').click();

  // The control stays while the agent looks elsewhere, and moves when dragged.
  const box = await ui.page.getByTestId('floating-call-control').boundingBox();
  await ui.page.mouse.move(box.x + 40, box.y + 12);
  await ui.page.mouse.down();
  await ui.page.mouse.move(box.x - 260, box.y + 112, { steps: 5 });
  await ui.page.mouse.up();
  const moved = await ui.page.getByTestId('floating-call-control').boundingBox();
  assert.ok(Math.abs(moved.x - (box.x - 300)) < 10 && Math.abs(moved.y - (box.y + 100)) < 10, `control moved from ${JSON.stringify(box)} to ${JSON.stringify(moved)}`);

  // End: both sides see it, and the capacity is back.
  await ui.page.getByTestId('call-end').click();
  await cust.page.getByTestId('call-ended').waitFor({ timeout: T });
  await control('active').waitFor({ state: 'detached', timeout: T });
  await waitLoad(1);
  await ui.page.locator('[data-testid="chat-message"][data-author="system"]').filter({ hasText: /Call ended/ }).waitFor({ timeout: T });
  await ui.page.screenshot({ path: join(shots, 'app-call-ended.png') });
  await leave(cust);
  assert.deepEqual(ui.errors, []);
});

test('declined: the agent is told and no call is left', async () => {
  const cust = await customer('Dora');
  await call('video');
  await cust.page.getByTestId('call-incoming').waitFor({ timeout: T });
  await cust.page.getByTestId('decline').click();
  await ui.page.getByText('Dora declined the call.').waitFor({ timeout: T });
  await ui.page.getByTestId('floating-call-control').waitFor({ state: 'detached', timeout: T });
  await waitLoad(1);
  await leave(cust);
});

test('missed: the customer does not answer in time', async () => {
  const cust = await customer('Mia');
  await call('voice');
  await cust.page.getByTestId('call-incoming').waitFor({ timeout: T });
  await ui.page.getByText('Mia did not answer the call.').waitFor({ timeout: T });
  await ui.page.getByTestId('floating-call-control').waitFor({ state: 'detached', timeout: T });
  await waitLoad(1);
  await leave(cust);
});

test('voice call: accepted with audio; the customer hears the agent; a supervisor assigns a chat during the call', async () => {
  const cust = await customer('Vic');
  await call('voice');
  await cust.page.getByTestId('call-incoming').waitFor({ timeout: T });
  await cust.page.getByTestId('accept-audio').click();
  await control('active').waitFor({ timeout: T });
  assert.equal(await ui.page.getByTestId('remote-video').count(), 0, 'no video in a voice call');
  await ui.page.waitForFunction(() => document.querySelector('[data-testid="floating-call-control"] [data-testid="call-timer"]')?.textContent.match(/^\d:\d\d$/), null, { timeout: T });
  const level = await customerAudio(cust.page);
  assert.ok(level > 0.005, `the agent's audio reaches the customer (rms ${level})`);
  await ui.page.screenshot({ path: join(shots, 'app-call-voice.png') });

  // At capacity while on the call: a new customer waits, but a supervisor can assign them.
  const waiting = await uiBrowser.newContext({ viewport: desktop, locale: 'en-US' });
  const wpage = await waiting.newPage();
  await wpage.goto(`${hub.url}/chat/demo`);
  await wpage.getByTestId('prechat-name').fill('Walter');
  await wpage.getByTestId('prechat-start').click();
  await wpage.getByTestId('chat-input').fill('is anyone there?');
  await wpage.getByTestId('chat-input').press('Enter');
  await ui.page.waitForTimeout(1500);
  assert.equal(await ui.page.getByTestId('offer-accept').count(), 0, 'no offer while on a call');
  // The supervisor speaks the hub's protocol from a page of its own (on the hub's origin).
  const spage = await waiting.newPage();
  await spage.goto(`${hub.url}/chat/demo`);
  const assigned = await spage.evaluate(async (hubURL) => {
    const login = await (await fetch(`${hubURL}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ org: 'demo', username: 'super1', password: 'demo' }) })).json();
    const ws = new WebSocket(hubURL.replace(/^http/, 'ws') + '/ws');
    const frames = [];
    await new Promise((resolve, reject) => {
      ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', data: { token: login.token } }));
      ws.onmessage = (e) => {
        const f = JSON.parse(e.data);
        frames.push(f);
        if (f.type === 'supervisor.snapshot') {
          const conv = f.data.conversations.find((c) => c.state === 'waiting' && c.customer_name === 'Walter');
          const agent = f.data.agents.find((a) => a.display_name === 'Agent One');
          if (conv && agent && !frames.assigned) {
            frames.assigned = true;
            ws.send(JSON.stringify({ type: 'supervisor.assign', rid: 'a1', data: { conv: conv.id, agent: agent.id } }));
          }
        }
        if (f.rid === 'a1') resolve();
      };
      ws.onerror = reject;
      setTimeout(() => reject(new Error('no answer to the assignment')), 15000);
    });
    ws.close();
    return frames.find((f) => f.rid === 'a1')?.type;
  }, hub.url);
  assert.equal(assigned, 'ack');
  await ui.page.getByTestId('conversation-item').filter({ hasText: 'Walter' }).waitFor({ timeout: T });
  // The call goes on, and its control stays while the agent opens the other conversation.
  await ui.page.getByTestId('conversation-item').filter({ hasText: 'Walter' }).click();
  await control('active').waitFor({ timeout: T });
  await ui.page.screenshot({ path: join(shots, 'app-call-voice-assigned.png') });
  await xshot('app-window-call-voice.png');

  await ui.page.keyboard.press('Control+Shift+E');
  await cust.page.getByTestId('call-ended').waitFor({ timeout: T });
  await ui.page.getByTestId('floating-call-control').waitFor({ state: 'detached', timeout: T });
  await waitLoad(2);
  await waiting.close();
  await leave(cust);
  assert.deepEqual(ui.errors, []);
});
