// End-to-end test of the built-in co-browse and screen share as the agent meets them: in the app's
// REAL window (test build under Xvfb, e2e/lib/window.mjs), against a real hub, with a customer in
// headless Chromium on a web site that embeds the chat widget. The agent starts each from the
// computer icon next to End, shares the PIN into the chat, and sees the customer's page (the
// co-browse replay) or screen (the Go engine's decoded video) inside the window; the laser pointer
// is real mouse movement over it. X screenshots go to test-results/app-window-{cobrowse,screenshare}*.png.
//
// Run: make test-app-visual-e2e (or node --test e2e/app-visual.test.mjs with out/parley-e2e and
// out/parley-hub built).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { launchChromium, startHub, startWindow } from './lib/index.mjs';

const T = 20_000;

/** bare checks the element lays nothing over the picture it shows (no fill, border or padding). */
async function assertBare(locator, what) {
  const st = await locator.on((el) => {
    const c = getComputedStyle(el);
    return { bg: c.backgroundColor, border: c.borderTopWidth, pad: c.paddingTop };
  });
  assert.deepEqual(st, { bg: 'rgba(0, 0, 0, 0)', border: '0px', pad: '0px' }, `${what} is drawn over`);
}

let hub, win, browser, site;

before(async () => {
  hub = await startHub();
  // The customer's screen is the browser's fake "Entire screen" (checked in FACTS.md).
  browser = await launchChromium({ media: true, args: ['--auto-select-desktop-capture-source=Entire screen'] });
  site = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html><head><title>Acme Store</title></head><body style="font:16px sans-serif;margin:24px">
<h1>Acme Checkout</h1><p>Order 1234: two lamps.</p><label>Name <input id="name" value="Ada"></label>
<script src="${hub.url}/widget.js" data-org="demo" async></script></body></html>`);
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  win = await startWindow({ args: ['-hub', hub.url, '-devices', 'test-pattern'] });
  await win.evaluate(() => {
    window.__errors = [];
    // "ResizeObserver loop completed with undelivered notifications" is the browser noting a
    // layout that settled over two frames, not a failure.
    window.addEventListener('error', (e) => /^ResizeObserver loop/.test(e.message) || window.__errors.push(String(e.message)));
  });
  await win.getByTestId('signin-username').waitFor({ timeout: T });
  await win.getByTestId('signin-hub').fill(hub.url);
  await win.getByTestId('signin-org').fill('demo');
  await win.getByTestId('signin-username').fill('agent1');
  await win.getByTestId('signin-password').fill('demo');
  await win.keyboard.press('Enter');
  await win.getByTestId('presence').waitFor({ timeout: T });
});

after(async () => {
  await browser?.close();
  await win?.stop();
  site?.closeAllConnections();
  await new Promise((r) => (site ? site.close(r) : r()));
  await hub?.stop();
});

/**
 * engage has a customer on the site chat (name, text), the agent accept with Alt+A and start the
 * given kind from the computer icon, share the PIN, and the customer type it and accept. It
 * returns the customer's page and chat frame.
 */
async function engage(name, text, kind) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.goto(`http://localhost:${site.address().port}/`);
  await page.getByRole('button', { name: 'Open chat' }).click();
  const chat = page.frameLocator('iframe[title="Chat with us"]');
  await chat.getByTestId('prechat-name').fill(name);
  await chat.getByTestId('prechat-start').click();
  await chat.getByTestId('chat-input').fill(text);
  await chat.getByTestId('chat-send').click();

  await win.getByTestId('offer-accept').waitFor({ timeout: T });
  await win.keyboard.press('Alt+A');
  await win.locator('[data-testid="chat-message"][data-author="customer"]').filter({ hasText: text }).waitFor({ timeout: T });
  await win.getByTestId('visual-engagement').click();
  await win.getByTestId('provider-tab').waitFor({ timeout: T });
  await win.getByTestId(`visual-kind-${kind}`).click();
  await win.getByTestId('visual-create').click();
  const pin = await win.getByTestId('visual-pin-agent').textContent();
  assert.match(pin, /^\d{6}$/);
  await win.shot(`app-window-${kind}-pin.png`);
  // A built-in session's PIN goes into the chat by itself, once, with the invitation.
  const pinMsg = chat.locator('[data-testid="chat-message"][data-author="agent"]').filter({ hasText: pin });
  await pinMsg.waitFor({ timeout: T });
  await win.waitForFunction(() => document.querySelector('[data-testid="share-pin"]')?.textContent.trim() === 'PIN shared ✓', null, { timeout: T });
  assert.equal(await pinMsg.count(), 1, 'the PIN is posted once');
  await chat.getByTestId('visual-invite').waitFor({ timeout: T });
  await chat.getByTestId('visual-pin').fill(pin);
  await chat.getByTestId('visual-accept').click();
  await win.locator('[data-testid="visual-engagement-state"][data-state="active"]').waitFor({ timeout: T });
  return { page, chat };
}

async function endChat() {
  await win.getByTestId('end-conversation').click();
  await win.getByTestId('confirm-ok').click();
  await win.getByTestId('conversation-ended').waitFor({ timeout: T });
}

test('co-browse: the agent sees the customer\'s page inside the window and points at it', async () => {
  const { page, chat } = await engage('Grace', 'can you see my page?', 'cobrowse');
  await win.getByTestId('cobrowse-view').waitFor({ timeout: T });
  // The replay (a same-origin, script-less iframe) shows the customer's page.
  await win.waitForFunction(() => document.querySelector('[data-testid="cobrowse-view"] iframe')?.contentDocument?.body?.textContent.includes('Acme Checkout'), null, { timeout: T });

  // The laser pointer follows the agent's real mouse over the replay, onto the customer's page.
  const box = await win.getByTestId('cobrowse-input').boundingBox();
  // The input surface covers the whole replay (it once took a text field's style: 36 px high).
  assert.ok(box.width > 300 && Math.abs(box.width / box.height - 1200 / 800) < 0.05, `the replay shows the customer's 1200x800 page whole (${JSON.stringify(box)})`);
  await assertBare(win.getByTestId('cobrowse-input'), 'the replay');
  await win.mouse.move(box.x + box.width / 4, box.y + box.height / 2);
  await win.mouse.move(box.x + box.width / 4 + 2, box.y + box.height / 2 + 2);
  const dot = page.getByTestId('laser-dot');
  await dot.waitFor({ state: 'visible', timeout: T });
  const x = Number(await dot.getAttribute('data-x'));
  assert.ok(Math.abs(x - 300) < 20, `the dot is a quarter across the customer's 1200 px page (x ${x})`);
  await win.shot('app-window-cobrowse.png');

  // The customer's page changes (the site moves to its next step): the agent's replay follows.
  await page.evaluate(() => (document.querySelector('h1').textContent = 'Acme Checkout: delivery'));
  await win.waitForFunction(() => document.querySelector('[data-testid="cobrowse-view"] iframe')?.contentDocument?.querySelector('h1')?.textContent === 'Acme Checkout: delivery', null, { timeout: T });
  await win.shot('app-window-cobrowse-changed.png');

  await win.getByTestId('visual-stop-agent').click();
  await chat.getByTestId('visual-indicator').waitFor({ state: 'detached', timeout: T });
  await win.getByTestId('cobrowse-view').waitFor({ state: 'detached', timeout: T });
  await endChat();
  assert.deepEqual(await win.evaluate(() => window.__errors), []);
  await page.close();
});

test('screen share: the agent sees the customer\'s screen move inside the window', async () => {
  const { page, chat } = await engage('Linus', 'my screen is weird', 'screenshare');
  await win.getByTestId('screenshare-view').waitFor({ timeout: T });
  await win.waitForFunction(() => document.querySelector('[data-testid="screenshare-video"]')?.naturalWidth > 0, null, { timeout: T });
  const img = win.getByTestId('screenshare-video');
  const box = await img.boundingBox();
  assert.ok(box.width > 200 && box.height > 100, `the screen is big enough to see (${JSON.stringify(box)})`);
  await assertBare(img, 'the screen');
  // Real pixels of the window: the customer's screen is there, and it moves.
  const a = await win.pixels(box);
  let b = a;
  for (const end = Date.now() + T; b.equals(a) && Date.now() < end; ) {
    await win.waitForTimeout(300);
    b = await win.pixels(box);
  }
  assert.ok(!a.equals(b), 'the customer\'s screen moves in the window');
  await win.shot('app-window-screenshare.png');

  // The customer stops sharing: the view goes, the window stays usable.
  await chat.getByTestId('visual-stop').click();
  await win.getByTestId('screenshare-view').waitFor({ state: 'detached', timeout: T });
  await win.getByTestId('chat-input').fill('thanks, all clear');
  await win.keyboard.press('Enter');
  await chat.locator('[data-testid="chat-message"][data-author="agent"]').filter({ hasText: 'thanks, all clear' }).waitFor({ timeout: T });
  await win.shot('app-window-screenshare-stopped.png');
  await endChat();
  assert.deepEqual(await win.evaluate(() => window.__errors), []);
  await page.close();
});
