// End-to-end test of the customer portal: real headless Chromium, the real hub (with a fresh SQLite
// database) and a real headless agent that accepts every offer and echoes each message.
// axe-core (e2e/lib/axe.mjs) checks the pre-chat form, the queue, a chat, the leave question and
// the ended chat: no serious or critical WCAG 2.1 AA violation.
// Run: make test-portal-e2e (or node --test e2e/portal.test.mjs with out/parley-hub and
// out/parley-agent built, or PARLEY_HUB/PARLEY_AGENT pointing at them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { startHub, startAgent, startProxy, launchChromium, resultsDir, desktop, phone, accessible } from './lib/index.mjs';

const T = 20_000; // how long any single expectation may take

let hub, agent, browser, proxy;
const shots = resultsDir();

before(async () => {
  hub = await startHub();
  agent = await startAgent(hub.url);
  proxy = await startProxy(hub.url);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  await agent?.stop();
  await hub?.stop();
});

/** customer opens the portal in a new browser context and starts a chat. */
async function customer({ base = hub.url, name = 'Dana', viewport = desktop, locale = 'en-US' } = {}) {
  const context = await browser.newContext({ viewport, locale });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => {
    // The page's CSP (self only, no inline code) must never have to block anything of ours.
    if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(new Error(m.text()));
  });
  page.on('dialog', (d) => {
    errors.push(new Error(`unexpected dialog: ${d.message()}`));
    d.dismiss();
  });
  await page.goto(`${base}/chat/demo`);
  if (name !== null) {
    await page.getByTestId('prechat-name').fill(name);
    await page.getByTestId('prechat-start').click();
    await page.getByTestId('chat-input').waitFor({ timeout: T });
  }
  return { context, page, errors };
}

async function send(page, text) {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-input').press('Enter');
}

/** lines returns the transcript as [author, text] pairs. */
async function lines(page) {
  return page.$$eval('[data-testid="chat-message"]', (els) =>
    els.map((el) => [el.dataset.author, el.querySelector('.bubble, .system')?.textContent ?? '']),
  );
}

function messageFrom(page, author, text) {
  return page.locator(`[data-testid="chat-message"][data-author="${author}"]`).filter({ hasText: text });
}

async function leave(page) {
  await page.getByTestId('chat-leave').click();
  await page.getByTestId('chat-leave-confirm').click();
  await page.getByTestId('chat-ended').waitFor({ timeout: T });
}

test('the customer chats with the agent, who answers', async () => {
  const { context, page, errors } = await customer();
  await send(page, 'hello from the portal');
  await messageFrom(page, 'agent', 'echo: hello from the portal').waitFor({ timeout: T });
  await messageFrom(page, 'system', 'joined').first().waitFor({ timeout: T });
  // The agent's client marks our message delivered (read needs a person looking).
  await page.waitForFunction(
    () => ['delivered', 'read'].includes(document.querySelector('[data-testid="chat-message"][data-author="customer"]')?.dataset.status),
    null,
    { timeout: T },
  );
  const mine = (await lines(page)).filter(([a]) => a === 'customer');
  assert.deepEqual(mine, [['customer', 'hello from the portal']]);
  await accessible(page, 'portal: a chat');
  await page.screenshot({ path: join(shots, 'portal-desktop.png') });
  await page.setViewportSize(phone);
  await page.screenshot({ path: join(shots, 'portal-phone.png') });
  await page.getByTestId('chat-leave').click();
  await page.getByTestId('chat-leave-confirm').waitFor({ timeout: T });
  await accessible(page, 'portal: leave the chat?');
  await page.getByTestId('chat-leave-confirm').click();
  await page.getByTestId('chat-ended').waitFor({ timeout: T });
  await accessible(page, 'portal: the chat ended');
  await page.screenshot({ path: join(shots, 'portal-ended-phone.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a dropped connection resumes with nothing lost and nothing doubled', async () => {
  const { context, page, errors } = await customer({ base: proxy.url, name: 'Resumer' });
  await send(page, 'before the drop');
  await messageFrom(page, 'agent', 'echo: before the drop').waitFor({ timeout: T });

  // The link goes silent: what the customer sends still reaches the hub, and the agent answers,
  // but neither the hub's Ack nor the agent's answer reaches the browser.
  proxy.freeze();
  await send(page, 'during the drop');
  await new Promise((r) => setTimeout(r, 1500));
  // Then it breaks, and stays down for a while.
  proxy.block(true);
  proxy.drop();
  await page.getByTestId('reconnecting').waitFor({ timeout: T });
  await send(page, 'while offline');
  await page.screenshot({ path: join(shots, 'portal-reconnecting.png') });
  await new Promise((r) => setTimeout(r, 1000));
  proxy.block(false);

  await page.getByTestId('reconnecting').waitFor({ state: 'detached', timeout: T });
  await messageFrom(page, 'agent', 'echo: during the drop').waitFor({ timeout: T });
  await messageFrom(page, 'agent', 'echo: while offline').waitFor({ timeout: T });
  await page.waitForTimeout(500); // time for any duplicate to show up

  const texts = (await lines(page)).filter(([a]) => a !== 'system');
  assert.deepEqual(
    texts.map(([a, t]) => `${a}: ${t}`).sort(),
    [
      'agent: echo: before the drop',
      'agent: echo: during the drop',
      'agent: echo: while offline',
      'customer: before the drop',
      'customer: during the drop',
      'customer: while offline',
    ],
  );

  // Nothing is left hanging: every message of ours was acknowledged.
  const statuses = await page.$$eval('[data-testid="chat-message"][data-author="customer"]', (els) => els.map((e) => e.dataset.status));
  assert.ok(statuses.every((st) => ['sent', 'delivered', 'read'].includes(st)), `statuses ${statuses}`);

  // A reload resumes the same conversation from sessionStorage, again with each message once.
  const before = await lines(page);
  await page.reload();
  await messageFrom(page, 'agent', 'echo: while offline').waitFor({ timeout: T });
  await page.waitForTimeout(500);
  assert.deepEqual(await lines(page), before);
  await leave(page);
  assert.deepEqual(errors, []);
  await context.close();
});

test('markup in a message is shown as text and never runs', async () => {
  const { context, page, errors } = await customer({ name: '<b>Mallory</b>' });
  const evil = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><a href="javascript:window.__pwned=3">x</a>`;
  await send(page, evil);
  await messageFrom(page, 'agent', 'echo: <img').waitFor({ timeout: T });
  const pwned = await page.evaluate(() => window.__pwned);
  assert.equal(pwned, undefined);
  const inTranscript = await page.$$eval('[data-testid="chat-message"] img, [data-testid="chat-message"] script, [data-testid="chat-message"] a', (e) => e.length);
  assert.equal(inTranscript, 0);
  const texts = await lines(page);
  assert.ok(texts.some(([a, t]) => a === 'customer' && t === evil), JSON.stringify(texts));
  assert.ok(texts.some(([a, t]) => a === 'agent' && t === `echo: ${evil}`), JSON.stringify(texts));
  await leave(page);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a message over the limit is refused with the limit, in Spanish for a Spanish browser', async () => {
  const { context, page, errors } = await customer({ name: null, locale: 'es-ES' });
  await page.getByRole('heading', { name: '¡Hola!' }).waitFor({ timeout: T });
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('queue-position').or(messageFrom(page, 'system', '')).first().waitFor({ timeout: T });
  await page.getByTestId('chat-input').fill('x'.repeat(4001));
  const error = page.getByTestId('chat-error');
  await error.waitFor({ timeout: T });
  assert.match(await error.textContent(), /4000/);
  assert.match(await error.textContent(), /demasiado largo/);
  assert.equal(await page.getByTestId('chat-send').isDisabled(), true);
  await page.screenshot({ path: join(shots, 'portal-es-too-long.png') });
  await leave(page);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the customer can leave, keeps the transcript and can start a new chat', async () => {
  const { context, page, errors } = await customer({ viewport: phone });
  await send(page, 'one question');
  await messageFrom(page, 'agent', 'echo: one question').waitFor({ timeout: T });
  await page.getByTestId('chat-leave').click();
  // The confirmation can be cancelled.
  await page.getByRole('button', { name: 'Stay' }).click();
  assert.equal(await page.getByTestId('chat-ended').count(), 0);
  await leave(page);
  await messageFrom(page, 'customer', 'one question').waitFor();
  assert.equal(await page.getByTestId('chat-input').count(), 0);
  await page.screenshot({ path: join(shots, 'portal-left-phone.png') });
  // A reload still shows the ended chat and its transcript.
  await page.reload();
  await page.getByTestId('chat-ended').waitFor({ timeout: T });
  await messageFrom(page, 'agent', 'echo: one question').waitFor({ timeout: T });
  await page.getByRole('button', { name: 'Start a new chat' }).click();
  await page.getByTestId('prechat-start').waitFor({ timeout: T });
  assert.deepEqual(errors, []);
  await context.close();
});

test('the widget loader opens the chat in an iframe on any site', async () => {
  // A host page on another origin, with CSS that would wreck the widget if it could reach it.
  const host = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Store</title>
<style>body{font:16px Georgia,serif;margin:0;padding:40px;background:#fbf7ef;color:#333}
button{display:none!important} iframe{border:12px solid red!important} *{font-size:30px}</style></head>
<body><h1>Acme Store</h1><p>Our finest products, now with live chat.</p>
<script src="${hub.url}/widget.js" data-org="demo" async></script></body></html>`);
  });
  await new Promise((r) => host.listen(0, '127.0.0.1', r));
  const hostURL = `http://localhost:${host.address().port}/`;
  try {
    for (const [label, viewport] of [['desktop', desktop], ['phone', phone]]) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e));
      await page.goto(hostURL);
      const launcher = page.getByRole('button', { name: 'Open chat' });
      await launcher.waitFor({ timeout: T });
      assert.ok(await launcher.isVisible(), 'host CSS hid the launcher');
      await launcher.click();
      const frame = page.frameLocator('iframe[title="Chat with us"]');
      await frame.getByTestId('prechat-name').fill(`Widget ${label}`);
      await frame.getByTestId('prechat-start').click();
      await frame.getByTestId('chat-input').fill(`hi from the ${label} widget`);
      await frame.getByTestId('chat-send').click();
      await frame.locator('[data-testid="chat-message"][data-author="agent"]').filter({ hasText: `echo: hi from the ${label} widget` }).waitFor({ timeout: T });
      const box = await page.locator('iframe[title="Chat with us"]').boundingBox();
      if (label === 'phone') assert.deepEqual([box.width, box.height], [phone.width, phone.height], 'full-screen panel on a phone');
      else assert.ok(box.width <= 400 && box.height >= 400, `panel ${box.width}x${box.height}`);
      await page.screenshot({ path: join(shots, `portal-widget-${label}.png`) });
      // The next page of the site resumes the same chat (the loader keeps the token when the
      // browser denies the iframe its own storage).
      await page.reload();
      await page.getByRole('button', { name: 'Open chat' }).click();
      await frame.locator('[data-testid="chat-message"][data-author="agent"]').filter({ hasText: `echo: hi from the ${label} widget` }).waitFor({ timeout: T });
      // Leaving from the widget, then minimising it, hands focus back to the launcher.
      await frame.getByTestId('chat-leave').click();
      await frame.getByTestId('chat-leave-confirm').click();
      await frame.getByTestId('chat-ended').waitFor({ timeout: T });
      await frame.getByRole('button', { name: 'Minimise chat' }).click();
      await page.getByRole('button', { name: 'Open chat' }).waitFor({ timeout: T });
      assert.equal(await page.locator('iframe[title="Chat with us"]').isVisible(), false);
      assert.deepEqual(errors, []);
      await context.close();
    }
  } finally {
    host.close();
  }
});

test('a page that frames the chat without the loader is told nothing (not the conversation token)', async () => {
  // The browser denies the framed chat its storage, so the chat hands its token to the loader on
  // the host page; a page that frames the chat directly must not receive it.
  const evil = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>Not the shop</title><script>window.got = []; addEventListener('message', (e) => got.push(e.data));</script>
<iframe title="framed chat" style="width:400px;height:600px" src="${hub.url}/chat/demo?embed=1"></iframe>`);
  });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
  try {
    const context = await browser.newContext({ viewport: desktop });
    const page = await context.newPage();
    await page.goto(`http://localhost:${evil.address().port}/`);
    const frame = page.frameLocator('iframe[title="framed chat"]');
    await frame.getByTestId('prechat-name').fill('Framed');
    await frame.getByTestId('prechat-start').click();
    await send(frame, 'hello from a framed chat');
    await frame.locator('[data-testid="chat-message"][data-author="agent"]').filter({ hasText: 'echo: hello from a framed chat' }).waitFor({ timeout: T });
    assert.deepEqual(await page.evaluate(() => window.got), [], 'the framing page received messages from the chat');
    await frame.getByTestId('chat-leave').click();
    await frame.getByTestId('chat-leave-confirm').click();
    await frame.getByTestId('chat-ended').waitFor({ timeout: T });
    await context.close();
  } finally {
    evil.close();
  }
});

test('customers beyond the agent\'s capacity wait and see their place in the queue', async () => {
  // agent1 takes 3 chats at once (demo capacity); the next two customers queue.
  const first = [];
  for (let i = 1; i <= 3; i++) {
    const c = await customer({ name: `Busy ${i}` });
    await send(c.page, `busy ${i}`);
    await messageFrom(c.page, 'agent', `echo: busy ${i}`).waitFor({ timeout: T });
    first.push(c);
  }
  const fourth = await customer({ name: 'Fourth', viewport: phone });
  const fifth = await customer({ name: 'Fifth' });
  await fourth.page.getByTestId('queue-position').filter({ hasText: 'next in the queue' }).waitFor({ timeout: T });
  await fifth.page.getByTestId('queue-position').filter({ hasText: 'number 2 in the queue' }).waitFor({ timeout: T });
  await send(fourth.page, 'waiting patiently');
  await accessible(fourth.page, 'portal: waiting in the queue');
  await fourth.page.screenshot({ path: join(shots, 'portal-queue-phone.png') });

  // One chat ends: the fourth customer gets the agent, the fifth moves up.
  await leave(first[0].page);
  await messageFrom(fourth.page, 'agent', 'echo: waiting patiently').waitFor({ timeout: T });
  assert.equal(await fourth.page.getByTestId('queue-position').count(), 0);
  await fifth.page.getByTestId('queue-position').filter({ hasText: 'next in the queue' }).waitFor({ timeout: T });

  for (const c of [first[1], first[2], fourth, fifth]) await leave(c.page);
  for (const c of [...first, fourth, fifth]) {
    assert.deepEqual(c.errors, []);
    await c.context.close();
  }
});

test('the pre-chat form, at desktop and phone width', async () => {
  for (const [label, viewport] of [['desktop', desktop], ['phone', phone]]) {
    const { context, page, errors } = await customer({ name: null, viewport });
    await page.getByTestId('prechat-start').waitFor({ timeout: T });
    await accessible(page, `portal: the pre-chat form (${label})`);
    // Keyboard only: the name field, the pre-chat question (one stop), then the start button.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'prechat-name');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'prechat-choice');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'prechat-start');
    await page.screenshot({ path: join(shots, `portal-prechat-${label}.png`) });
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('an unreachable hub gives a clear, translated error and a way to retry', async () => {
  const context = await browser.newContext({ viewport: phone, locale: 'en-GB' });
  const page = await context.newPage();
  await page.route('**/api/v1/orgs/demo/widget', (route) => route.abort('connectionrefused'));
  await page.goto(`${hub.url}/chat/demo`);
  const alert = page.getByRole('alert');
  await alert.waitFor({ timeout: T });
  assert.match(await alert.textContent(), /cannot reach the chat service/);
  await page.screenshot({ path: join(shots, 'portal-unreachable-phone.png') });
  // "Try again" tries again (and fails again, still unreachable)...
  let tries = 0;
  await page.route('**/api/v1/orgs/demo/widget', (route) => (tries++, route.abort('connectionrefused')));
  await page.getByRole('button', { name: 'Try again' }).click();
  await alert.waitFor({ timeout: T });
  assert.ok(tries >= 1);
  // ...and once the hub is back the page gets there by itself.
  await page.unroute('**/api/v1/orgs/demo/widget');
  await page.getByTestId('prechat-start').waitFor({ timeout: T });
  await context.close();
});

test('an unknown organisation is reported as such', async () => {
  const context = await browser.newContext({ locale: 'es' });
  const page = await context.newPage();
  await page.goto(`${hub.url}/chat/no-such-org`);
  const alert = page.getByRole('alert');
  await alert.waitFor({ timeout: T });
  assert.match(await alert.textContent(), /El chat no está disponible/);
  await context.close();
});

test('the admin console: a wrong password and an agent are refused with a sentence; the admin picks an external provider and agents get it', async () => {
  const context = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${hub.url}/admin/demo`);
  const signIn = async (user, password) => {
    await page.getByTestId('admin-username').fill(user);
    await page.getByTestId('admin-password').fill(password);
    await page.getByTestId('admin-signin').getByRole('button').click();
  };
  await signIn('admin1', 'wrong');
  await page.getByRole('alert').filter({ hasText: 'The username or password is not right' }).waitFor({ timeout: T });

  await signIn('admin1', 'demo');
  await page.getByTestId('admin-nav-providers').click();
  const provider = page.getByTestId('admin-cobrowse-provider');
  await provider.waitFor({ timeout: T });
  const before = await provider.inputValue();
  await provider.selectOption('external');
  await page.getByTestId('admin-cobrowse-name').fill('Acme Assist');
  await page.getByTestId('admin-cobrowse-sign_in_url').fill('ftp://assist.example/login');
  await page.getByTestId('admin-save').click();
  await page.getByTestId('admin-status').filter({ hasText: 'every URL must start with http:// or https://' }).waitFor({ timeout: T });
  await page.getByTestId('admin-cobrowse-sign_in_url').fill('https://assist.example/login');
  await page.getByTestId('admin-cobrowse-join_url').fill('https://assist.example/join?pin={pin}');
  await page.getByTestId('admin-save').click();
  await page.getByTestId('admin-status').filter({ hasText: 'Saved.' }).waitFor({ timeout: T });
  await page.screenshot({ path: join(shots, 'admin-visual.png'), fullPage: true });

  // An agent's app reads the same settings.
  const login = await (await fetch(`${hub.url}/api/v1/login`, { method: 'POST', body: JSON.stringify({ org: 'demo', username: 'agent2', password: 'demo' }) })).json();
  const settings = await (await fetch(`${hub.url}/api/v1/orgs/demo/settings/visual`, { headers: { Authorization: `Bearer ${login.token}` } })).json();
  assert.equal(settings.cobrowse.provider, 'external');
  assert.equal(settings.cobrowse.external.name, 'Acme Assist');
  assert.equal(settings.cobrowse.external.join_url, 'https://assist.example/join?pin={pin}');

  // A reload keeps the admin signed in and shows what was saved; then the old choice goes back.
  await page.reload();
  await page.getByTestId('admin-cobrowse-name').waitFor({ timeout: T });
  assert.equal(await page.getByTestId('admin-cobrowse-name').inputValue(), 'Acme Assist');
  await page.getByTestId('admin-cobrowse-provider').selectOption(before);
  await page.getByTestId('admin-save').click();
  await page.getByTestId('admin-status').filter({ hasText: 'Saved.' }).waitFor({ timeout: T });

  // An agent is told the console is for admins, and the API refuses their change.
  const agentCtx = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  const agentPage = await agentCtx.newPage();
  await agentPage.goto(`${hub.url}/admin/demo#providers`);
  await agentPage.getByTestId('admin-username').fill('agent1');
  await agentPage.getByTestId('admin-password').fill('demo');
  await agentPage.getByTestId('admin-signin').getByRole('button').click();
  await agentPage.getByRole('alert').filter({ hasText: 'Only the organisation’s admins may use this console.' }).waitFor({ timeout: T });
  assert.equal(await agentPage.getByTestId('admin-cobrowse-provider').count(), 0);
  const put = await fetch(`${hub.url}/api/v1/orgs/demo/settings/visual`, { method: 'PUT', headers: { Authorization: `Bearer ${login.token}` }, body: JSON.stringify(settings) });
  assert.equal(put.status, 403);
  assert.equal((await put.json()).code, 'EFORBIDDEN');
  await agentCtx.close();
  assert.deepEqual(errors, []);
  await context.close();
});

/** inView says whether el (a locator) lies wholly inside the page's viewport and is what a click there hits. */
const inView = (loc) =>
  loc.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && !!hit && (hit === el || el.contains(hit));
  });

test('screen-share consent: the PIN comes with the invitation, the prompt looks like the call invitation, and the composer stays in view (desktop and phone)', async (t) => {
  // A hub of its own, with an agent that invites every customer to the built-in screen share.
  const own = await startHub();
  t.after(() => own.stop());
  const inviter = await startAgent(own.url, { args: ['-accept', '-screenshare'] });
  t.after(() => inviter.stop());
  const sb = await launchChromium({ media: true, args: ['--auto-select-desktop-capture-source=Entire screen'] });
  t.after(() => sb.close());
  for (const [label, viewport] of [
    ['desktop', desktop],
    ['phone', phone],
  ]) {
    const context = await sb.newContext({ viewport, locale: 'en-US' });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(`${own.url}/chat/demo`);
    await page.getByTestId('prechat-name').fill('Linus');
    await page.getByTestId('prechat-start').click();
    await send(page, 'my screen looks wrong');
    // The invitation and its PIN, posted in the chat with it: nothing else for the agent to click.
    const invite = page.getByTestId('visual-invite');
    await invite.waitFor({ timeout: T });
    const pinMsg = page.locator('[data-testid="chat-message"][data-author="agent"]').filter({ hasText: /\d{6}/ });
    await pinMsg.waitFor({ timeout: T });
    const pin = /(\d{6})/.exec(await pinMsg.textContent())[1];
    // Styled as the call invitation: big green Accept, red Decline; no browser-default buttons.
    const look = await page.evaluate(() => {
      const s = (id) => {
        const cs = getComputedStyle(document.querySelector(`[data-testid="${id}"]`));
        return { bg: cs.backgroundColor, color: cs.color, h: parseFloat(cs.minHeight) || 0, radius: parseFloat(cs.borderTopLeftRadius) };
      };
      return { accept: s('visual-accept'), decline: s('visual-decline') };
    });
    assert.equal(look.accept.bg, 'rgb(43, 122, 59)', `${label}: Accept is the call invitation's green (${JSON.stringify(look)})`);
    assert.equal(look.accept.color, 'rgb(255, 255, 255)');
    assert.ok(look.accept.h >= 44 && look.decline.h >= 44 && look.accept.radius >= 8, `${label}: big round buttons (${JSON.stringify(look)})`);
    assert.notEqual(look.decline.bg, 'rgb(239, 239, 239)', `${label}: Decline is not the browser's grey button`);
    // The composer stays whole and usable below the prompt.
    assert.ok(await inView(page.getByTestId('chat-input')), `${label}: the composer is in view under the invitation`);
    assert.ok(await inView(page.getByTestId('chat-send')), `${label}: Send is in view under the invitation`);
    await page.screenshot({ path: join(shots, `portal-screenshare-invite-${label}.png`) });
    await accessible(page, `portal: screen-share invitation (${label})`);

    await page.getByTestId('visual-pin').fill(pin);
    await page.getByTestId('visual-accept').click();
    await page.getByTestId('visual-indicator').waitFor({ timeout: T });
    assert.ok(await inView(page.getByTestId('chat-input')), `${label}: the composer is in view while sharing`);
    await page.screenshot({ path: join(shots, `portal-screenshare-sharing-${label}.png`) });
    await page.getByTestId('visual-stop').click();
    await page.getByTestId('visual-indicator').waitFor({ state: 'detached', timeout: T });
    assert.deepEqual(errors, []);
    await context.close();
  }
});
