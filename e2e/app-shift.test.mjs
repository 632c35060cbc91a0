// What agents meet on a real shift (issue 21), in the agent app's REAL window: the test build
// (release build plus the window harness) under Xvfb, real X clicks and keys, a real hub, and
// customers in headless Chromium with fake camera, microphone and screen. X screenshots of the
// window go to test-results/app-shift-*.png.
//
// Run: make test-app-shift-e2e (or node --test e2e/app-shift.test.mjs with out/parley-e2e,
// out/parley-hub built).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { desktop, launchChromium, resultsDir, startHub, startWindow, watch } from './lib/index.mjs';

const run = promisify(execFile);
const T = 60_000; // how long any single expectation may take (the machine may be busy)

let hub, win, browser;

before(async () => {
  hub = await startHub({ args: ['-ring-timeout', '60s'] });
  browser = await launchChromium({ media: true, args: ['--auto-select-desktop-capture-source=Entire screen'] });
  win = await startWindow({ args: ['-hub', hub.url, '-devices', 'test-pattern'] });
  await signIn(win, 'agent1');
  await win.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.value === 'available', null, { timeout: T });
});

after(async () => {
  await browser?.close();
  await win?.stop();
  await hub?.stop();
});

/** signIn fills the window's sign-in form with the real keyboard and submits it with Enter. */
async function signIn(w, user, password = 'demo') {
  await w.getByTestId('signin-username').waitFor({ timeout: T });
  await w.getByTestId('signin-hub').fill(hub.url);
  await w.getByTestId('signin-org').fill('demo');
  await w.getByTestId('signin-username').fill(user);
  await w.getByTestId('signin-password').fill(password);
  await w.keyboard.press('Enter');
  await w.getByTestId('presence').waitFor({ timeout: T });
}

/** customer starts a chat in the portal and the agent accepts it with Alt+A. */
async function customer(name, text = `hello, this is ${name}`) {
  const context = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  context.setDefaultTimeout(T);
  const page = await context.newPage();
  const errors = watch(page);
  await page.goto(`${hub.url}/chat/demo`);
  await page.getByTestId('prechat-name').fill(name);
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-input').press('Enter');
  await win.getByTestId('offer-accept').waitFor({ timeout: T });
  await win.keyboard.press('Alt+A');
  await message(win, 'customer', text).waitFor({ timeout: T });
  return { context, page, errors };
}

/** leave has a customer leave their chat (so agent1's capacity is free for the next test). */
async function leave({ page, context }) {
  await page.getByTestId('chat-leave').click();
  await page.getByTestId('chat-leave-confirm').click();
  await page.getByTestId('chat-ended').waitFor({ timeout: T });
  await context.close();
}

function message(page, author, text) {
  return page.locator(`[data-testid="chat-message"][data-author="${author}"]`).filter({ hasText: text });
}

/** videoCall starts a video call from More commands; the customer accepts with video. */
async function videoCall(cust) {
  await win.getByTestId('more-commands').click();
  await win.getByTestId('video-call').click();
  await cust.page.getByTestId('accept-video').click({ timeout: T });
  await win.locator('[data-testid="floating-call-control"][data-state="active"]').waitFor({ timeout: T });
  await win.waitForFunction(() => document.querySelector('[data-testid="remote-video"]')?.naturalWidth > 0, null, { timeout: T });
}

/** seconds reads the call timer (m:ss) of the window's floating call control. */
async function seconds() {
  const text = await win.getByTestId('call-timer').textContent();
  const m = /^(\d+):(\d\d)$/.exec(text.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : -1;
}

/**
 * afterReload waits until fn() is truthy in the window's page across a reload: a script sent into
 * a page that then dies never answers, so each try gets a short time limit.
 */
async function afterReload(fn, timeout = 90_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await win.script(`(${fn.toString()})()`, 15_000).catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`not true after the reload within ${timeout} ms: ${fn.toString().slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** recovered waits for the reloaded window's toast that says the call went on. */
const recovered = (timeout) => afterReload(() => [...document.querySelectorAll('[data-testid="toast"]')].some((t) => t.textContent.includes('Your call went on')), timeout);

/** timerMoves waits until the window's call timer has moved on. */
async function timerMoves() {
  const s0 = await seconds();
  await win.waitForFunction((s) => {
    const m = /^(\d+):(\d\d)$/.exec(document.querySelector('[data-testid="call-timer"]')?.textContent.trim() ?? '');
    return m && Number(m[1]) * 60 + Number(m[2]) > s;
  }, s0, { timeout: T });
}

/** webProcess is the pid of the window's WebKitWebProcess (0 when there is none). */
async function webProcess() {
  const app = await win.appPid();
  try {
    const { stdout } = await run('pgrep', ['-P', String(app), '-f', 'WebKitWebProcess']);
    return Number(stdout.trim().split('\n')[0]) || 0;
  } catch {
    return 0;
  }
}

/** shareScreen starts the built-in screen share from the window; the customer accepts it. */
async function shareScreen(cust) {
  if ((await win.getByTestId('provider-tab').count()) === 0) await win.getByTestId('visual-engagement').click();
  const pins = message(cust.page, 'agent', 'PIN');
  const before = await pins.count();
  await win.getByTestId('visual-create').click();
  // The built-in session's PIN reaches the chat with the invitation: no second click. (The new
  // one: a share before this one left its own PIN in the chat.)
  await pins.nth(before).waitFor({ timeout: T });
  const pin = /(\d{6})/.exec(await pins.nth(before).textContent())[1];
  await cust.page.getByTestId('visual-pin').fill(pin);
  await cust.page.getByTestId('visual-accept').click();
  // A 1280x720 screen: on a busy machine the customer's browser takes a while to send it.
  await win.waitForFunction(() => document.querySelector('[data-testid="screenshare-video"]')?.naturalWidth > 0, null, { timeout: 90_000 });
}

test('item 1: stopping a screen share mid-call (agent, then customer) leaves the window\'s page alive and the call running', async () => {
  const cust = await customer('Sam');
  await videoCall(cust);
  const web = await webProcess();
  assert.ok(web > 0, 'the window has a web process');
  for (const who of ['agent', 'customer']) {
    await shareScreen(cust);
    await win.shot(`app-shift-sharing-${who}.png`);
    if (who === 'agent') await win.getByTestId('visual-stop-agent').click();
    else await cust.page.getByTestId('visual-stop').click();
    await win.getByTestId('visual-create').waitFor({ timeout: T });
    await timerMoves();
    assert.equal(await webProcess(), web, `the web process survived the ${who}'s stop`);
  }
  await win.shot('app-shift-share-stopped.png');
  await win.getByTestId('call-end').click();
  await cust.page.getByTestId('call-ended').waitFor({ timeout: T });
  await leave(cust);
});

test('item 1: a crashed or hung page is reloaded, the agent is told, and the call goes on', async () => {
  const cust = await customer('Cara');
  await videoCall(cust);
  const web = await webProcess();
  assert.ok(web > 0, 'the window has a web process');

  // The page's process dies (as it did with a segfault in libwebkit2gtk; SIGKILL here, since
  // JavaScriptCore's own SIGSEGV handler may swallow a signal that no fault raised): the window
  // reloads it, the agent is told, and the call is still there, its timer running, the customer
  // in it.
  process.kill(web, 'SIGKILL');
  await recovered();
  const again = await webProcess();
  assert.ok(again > 0 && again !== web, `a new web process (${web} -> ${again})`);
  await win.locator('[data-testid="floating-call-control"][data-state="active"]').waitFor({ timeout: T });
  await win.waitForFunction(() => document.querySelector('[data-testid="remote-video"]')?.naturalWidth > 0, null, { timeout: T });
  await timerMoves();
  await win.getByTestId('communication-panel').waitFor({ timeout: T });
  await win.shot('app-shift-recovered.png');
  assert.equal(await cust.page.getByTestId('call-ended').count(), 0, 'the customer is still in the call');
  // The notice stays until the agent closes it.
  await win.getByTestId('toast').filter({ hasText: 'Your call went on' }).locator('button').click();
  await win.getByTestId('toast').waitFor({ state: 'detached', timeout: T });

  // A page that stops answering (its process stopped) is ended and reloaded the same way.
  // WebKit checks a quiet page only every so often (up to minutes apart once it has answered for a
  // while), but at once when input waits on it: the agent, facing a frozen window, moves the mouse.
  process.kill(again, 'SIGSTOP');
  let i = 0;
  const nudge = setInterval(() => win.mouse.move(700 + (i++ % 2) * 40, 300).catch(() => {}), 2_000);
  try {
    // Noticing (a few seconds), the 20 s limit, then a fresh web process: minutes on a loaded box.
    await recovered(300_000);
  } finally {
    clearInterval(nudge);
  }
  const third = await webProcess();
  assert.ok(third > 0 && third !== again, `a new web process after the hang (${again} -> ${third})`);
  await win.locator('[data-testid="floating-call-control"][data-state="active"]').waitFor({ timeout: T });

  // The window works: the agent ends the call with a real click, and the customer sees it.
  await win.getByTestId('call-end').click();
  await cust.page.getByTestId('call-ended').waitFor({ timeout: T });
  await leave(cust);
});

test('item 2: starting a call withdraws the offer on screen at once, and the toast says truthfully where the customer went', async () => {
  const cust = await customer('Olga');
  // A second customer writes: their offer shows while agent1 still has room.
  const context = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  const waiting = await context.newPage();
  await waiting.goto(`${hub.url}/chat/demo`);
  await waiting.getByTestId('prechat-name').fill('Pavel');
  await waiting.getByTestId('prechat-start').click();
  await waiting.getByTestId('chat-input').fill('my order is late');
  await waiting.getByTestId('chat-input').press('Enter');
  await win.getByTestId('offer').filter({ hasText: 'Pavel' }).waitFor({ timeout: T });
  await win.shot('app-shift-offer-before-call.png');

  // agent1 calls Olga: Pavel's offer goes at once (no other agent is online: back to the queue).
  await win.getByTestId('more-commands').click();
  await win.getByTestId('voice-call').click();
  await win.getByTestId('offer').waitFor({ state: 'detached', timeout: T });
  await win.getByTestId('toast').filter({ hasText: 'went back to the queue' }).waitFor({ timeout: T });
  await win.shot('app-shift-offer-withdrawn.png');
  // Pavel writes again while the call rings: no offer comes back.
  await waiting.getByTestId('chat-input').fill('hello?');
  await waiting.getByTestId('chat-input').press('Enter');
  await win.waitForTimeout(1500);
  assert.equal(await win.getByTestId('offer').count(), 0, 'no offer while the call rings');
  await win.getByTestId('call-end').click();
  await win.getByTestId('floating-call-control').waitFor({ state: 'detached', timeout: T });
  // With the call over, Pavel is offered again.
  await win.getByTestId('offer').filter({ hasText: 'Pavel' }).waitFor({ timeout: T });
  await leave({ page: waiting, context });
  await win.getByTestId('offer').waitFor({ state: 'detached', timeout: T });
  await leave(cust);
});

test('item 3: signing out with an open chat asks first; the customer goes back to the queue and is told', async () => {
  const cust = await customer('Quinn');
  await win.getByTestId('sign-out').click();
  const dialog = win.getByTestId('confirm-dialog');
  await dialog.waitFor({ timeout: T });
  assert.match(await win.getByTestId('sign-out-warning').textContent(), /Open chats: 1\. These customers go back to the front of the queue/);
  await win.shot('app-shift-sign-out-warning.png');
  // Escape keeps the agent signed in, with the chat.
  await win.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached', timeout: T });
  assert.equal(await win.getByTestId('presence').count(), 1, 'still signed in');

  await win.getByTestId('sign-out').click();
  await win.getByTestId('confirm-ok').click();
  await win.getByTestId('signin-username').waitFor({ timeout: T });
  // The customer reads why, and waits in the queue: not "Chatting with Agent One".
  await message(cust.page, 'system', 'Agent One is no longer available').waitFor({ timeout: T });
  await cust.page.locator('.status-text').filter({ hasText: /waiting|queue/i }).waitFor({ timeout: T });
  assert.doesNotMatch(await cust.page.locator('.status-text').textContent(), /Agent One/);
  await cust.page.screenshot({ path: `${resultsDir()}/portal-shift-requeued.png` });

  // agent1 signs in again: the chat is offered again, from the front of the queue.
  await signIn(win, 'agent1');
  await win.getByTestId('offer').filter({ hasText: 'Quinn' }).waitFor({ timeout: T });
  await win.keyboard.press('Alt+A');
  await message(win, 'system', 'no longer available').waitFor({ timeout: T });
  await leave(cust);
});

test('item 4: a customer whose camera is blocked: the agent is told, the ring timeout stops, audio is "audio only"', async () => {
  // A hub that rings out fast, and a browser that refuses the camera (the microphone is allowed).
  const fast = await startHub({ args: ['-ring-timeout', '10s'] });
  const strict = await launchChromium({ args: ['--use-fake-device-for-media-stream', '--allow-loopback-in-peer-connection', '--deny-permission-prompts'] });
  try {
    await win.getByTestId('sign-out').click();
    await win.getByTestId('signin-username').waitFor({ timeout: T });
    const main = hub;
    hub = fast;
    await signIn(win, 'agent1');
    const context = await strict.newContext({ viewport: desktop, locale: 'en-US', permissions: ['microphone'] });
    context.setDefaultTimeout(T);
    const page = await context.newPage();
    await page.goto(`${fast.url}/chat/demo`);
    await page.getByTestId('prechat-name').fill('Rita');
    await page.getByTestId('prechat-start').click();
    await page.getByTestId('chat-input').fill('can we talk?');
    await page.getByTestId('chat-input').press('Enter');
    await win.getByTestId('offer-accept').waitFor({ timeout: T });
    await win.keyboard.press('Alt+A');
    await message(win, 'customer', 'can we talk?').waitFor({ timeout: T });
    await win.getByTestId('more-commands').click();
    await win.getByTestId('video-call').click();
    await page.getByTestId('accept-video').click();
    await page.getByTestId('call-permission-error').waitFor();

    // The agent reads why the call waits, in place of "Calling…".
    const problem = win.getByTestId('remote-problem');
    await problem.waitFor({ timeout: T });
    assert.equal(await problem.textContent(), "Rita's camera is blocked: they may join with audio.");
    await win.shot('app-shift-camera-blocked.png');
    await page.screenshot({ path: `${resultsDir()}/portal-shift-camera-blocked.png` });
    // Past the ring timeout: no "missed call" on either side.
    await win.waitForTimeout(13_000);
    assert.equal(await win.locator('[data-testid="floating-call-control"][data-state="ringing"]').count(), 1, 'still answering at the agent');
    assert.equal(await page.getByTestId('call-ended').count(), 0, 'the customer reads no missed call');

    // Audio only: the agent's control says so, not "turned the camera off".
    await page.getByTestId('call-audio-only').click();
    await win.locator('[data-testid="floating-call-control"][data-state="active"]').waitFor({ timeout: T });
    await win.waitForFunction(() => /joined with audio only/.test(document.querySelector('[data-testid="floating-call-control"]')?.textContent ?? ''), null, { timeout: T });
    assert.doesNotMatch(await win.getByTestId('floating-call-control').textContent(), /turned the camera off/);
    await win.shot('app-shift-audio-only.png');
    await win.getByTestId('call-end').click();
    await page.getByTestId('call-ended').waitFor();
    await leave({ page, context });
    await win.getByTestId('sign-out').click();
    await win.getByTestId('signin-username').waitFor({ timeout: T });
    hub = main;
    await signIn(win, 'agent1');
  } finally {
    await strict.close();
    await fast.stop();
  }
});

test('item 10: the agent picks a language in the About box; from the next start it wins over the system\'s', async () => {
  // A Spanish desktop, and a configuration directory kept across two starts of the app.
  const config = mkdtempSync(join(tmpdir(), 'parley-shift-lang-'));
  let w = await startWindow({ args: ['-hub', hub.url, '-devices', 'test-pattern'], lang: 'es_ES.UTF-8', env: { XDG_CONFIG_HOME: config } });
  try {
    await w.getByTestId('signin-submit').waitFor({ timeout: T });
    assert.equal((await w.getByTestId('signin-submit').textContent()).trim(), 'Iniciar sesión');
    await signIn(w, 'agent2');
    await w.getByTestId('about-open').click();
    const select = w.getByTestId('about-language');
    await select.waitFor({ timeout: T });
    assert.equal(await w.evaluate(() => document.querySelector('[data-testid="about-language"]').value), '', 'follows the system at first');
    await w.shot('app-shift-language-es.png');
    await select.selectOption('en');
    await w.getByTestId('about-language-saved').waitFor({ timeout: T });
    await w.shot('app-shift-language-saved.png');
    await w.keyboard.press('Escape');
    await w.getByTestId('sign-out').click();
    await w.getByTestId('signin-submit').waitFor({ timeout: T });
  } finally {
    await w.stop();
  }
  // The next start, on the same Spanish desktop: English, as the agent chose.
  w = await startWindow({ args: ['-hub', hub.url, '-devices', 'test-pattern'], lang: 'es_ES.UTF-8', env: { XDG_CONFIG_HOME: config } });
  try {
    await w.getByTestId('signin-submit').waitFor({ timeout: T });
    assert.equal((await w.getByTestId('signin-submit').textContent()).trim(), 'Sign in');
  } finally {
    await w.stop();
  }
});
