// End-to-end test of chats whose customer has gone, in the agent app's REAL window (the test
// build under Xvfb, real X input, e2e/lib/window.mjs) against the real hub with shortened times:
// a customer gone after 2 s without a connection, chats closed 16 s after that with a warning 10 s
// before (long enough for the window's real input on a busy machine). Customers are headless Chromium in the real portal.
//
// agent1 carries three chats (full); a fourth customer waits. One customer closes their tab: the
// window shows them away, then gone ("Left … ago") with a line in the transcript; the warning comes
// and one click keeps the chat open; the next warning is left alone and the chat closes after the
// idle time, which gives the capacity back: the waiting customer is offered to agent1 at once.
// The customer, reopening the tab, finds the chat closed after inactivity. Then the same in
// Spanish. A supervisor closes a gone customer's chat from the team view, and one they were asked
// to read along in from the chat itself (Close, never an End the hub refuses). X screenshots of the window and portal screenshots go to test-results/app-idle-*.png.
//
// Run: make test-app-idle-e2e.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { desktop, launchChromium, resultsDir, startAgent, startHub, startWindow, watch } from './lib/index.mjs';

const T = 20_000; // how long any single expectation may take
const GONE_S = 2;
const CLOSE_S = 16;
const WARN_S = 10;

let hub, browser;
/** customers are the test's portal customers, closed after it whatever happens. */
let customers = [];

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** freshHub starts a hub with the shortened times for one test. */
async function freshHub() {
  hub = await startHub({ args: ['-customer-gone', `${GONE_S}s`, '-auto-close', `${CLOSE_S}s`, '-auto-close-warning', `${WARN_S}s`] });
  customers = [];
}

async function cleanUp(win) {
  for (const c of customers) await c.context.close().catch(() => {});
  await win?.stop();
  await hub?.stop();
}

/** signIn fills the window's sign-in form with the real keyboard and submits it with Enter. */
async function signIn(w, user) {
  await w.getByTestId('signin-username').waitFor({ timeout: T });
  await w.getByTestId('signin-hub').fill(hub.url);
  await w.getByTestId('signin-org').fill('demo');
  await w.getByTestId('signin-username').fill(user);
  await w.getByTestId('signin-password').fill('demo');
  await w.keyboard.press('Enter');
  await w.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.value === 'available', null, { timeout: T });
}

/** customer opens the portal in a new context and starts a chat with a first message. */
async function customer(name, text, locale = 'en-US') {
  const context = await browser.newContext({ viewport: desktop, locale });
  const page = await context.newPage();
  const errors = watch(page);
  await page.goto(`${hub.url}/chat/demo`);
  await page.getByTestId('prechat-name').fill(name);
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('chat-input').waitFor({ timeout: T });
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-input').press('Enter');
  const c = { context, page, errors, name };
  customers.push(c);
  return c;
}

/** accept takes the offer of the chat from name in the window. */
async function accept(w, name) {
  await w.locator('[data-testid="offer"]').filter({ hasText: name }).waitFor({ timeout: T });
  await w.getByTestId('offer-accept').click();
  await item(w, name).waitFor({ timeout: T });
}

/** item is the conversation list's line of name's chat. */
const item = (w, name) => w.locator('[data-testid="conversation-item"]').filter({ hasText: name });

const line = (pageOrWin, author, text) => pageOrWin.locator(`[data-testid="chat-message"][data-author="${author}"]`).filter({ hasText: text });

/** presenceOf reads the presence mark of name's line in the list ('' when none shows). */
function presenceOf(w, name) {
  return w.evaluate((n) => {
    const it = [...document.querySelectorAll('[data-testid="conversation-item"]')].find((e) => e.textContent.includes(n));
    return it?.querySelector('[data-testid="customer-presence"]')?.dataset.presence ?? '';
  }, name);
}

/** closeTab closes the customer's tab, keeping its sessionStorage to reopen it later as a browser would. */
async function closeTab(cust) {
  cust.saved = await cust.page.evaluate(() => JSON.stringify(sessionStorage));
  await cust.page.close();
}

/** reopenTab opens the portal again in the customer's context with the closed tab's storage. */
async function reopenTab(cust) {
  const page = await cust.context.newPage();
  await page.addInitScript((saved) => {
    if (location.pathname.startsWith('/chat/')) for (const [k, v] of Object.entries(JSON.parse(saved))) sessionStorage.setItem(k, v);
  }, cust.saved);
  await page.goto(`${hub.url}/chat/demo`);
  return page;
}

test('a customer who closes the tab: the agent sees them leave, the chat closes after the idle time, and the next customer is offered at once', async () => {
  await freshHub();
  const win = await startWindow({ args: ['-hub', hub.url] });
  try {
    await win.evaluate(() => {
      window.__errors = [];
      window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
    });
    await signIn(win, 'agent1');
    const ann = await customer('Ann', 'Hi, a question about my bill');
    await accept(win, 'Ann');
    const bob = await customer('Bob', 'My parcel has not arrived');
    await accept(win, 'Bob');
    const cat = await customer('Cat', 'Can I change my address?');
    await accept(win, 'Cat');
    // Full (3/3): Dan waits in the queue, no offer.
    const dan = await customer('Dan', 'Hello?');
    await dan.page.getByTestId('queue-position').waitFor({ timeout: T });
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await win.locator('[data-testid="offer"]').count(), 0, 'no offer while agent1 is full');

    // Bob's chat is open, his customer is here; the agent answers him.
    await item(win, 'Bob').click();
    await line(win, 'customer', 'My parcel has not arrived').waitFor({ timeout: T });
    await win.getByTestId('chat-input').fill('Let me check the tracking number.');
    await win.getByTestId('chat-input').press('Enter');
    await line(bob.page, 'agent', 'Let me check the tracking number.').waitFor({ timeout: T });
    assert.equal(await presenceOf(win, 'Bob'), '', 'nothing extra in the list while the customer is here');

    // Bob closes the tab: away at once, then gone with the time since, and one line in the transcript.
    await closeTab(bob);
    const closedAt = Date.now();
    await win.waitForFunction((n) => {
      const it = [...document.querySelectorAll('[data-testid="conversation-item"]')].find((e) => e.textContent.includes(n));
      return it?.querySelector('[data-testid="customer-presence"]')?.dataset.presence === 'gone';
    }, 'Bob', { timeout: T });
    const goneAfter = (Date.now() - closedAt) / 1000;
    assert.ok(goneAfter >= GONE_S - 0.5, `gone after ${goneAfter}s; want the ${GONE_S}s grace`);
    await line(win, 'system', 'The customer has left the chat.').waitFor({ timeout: T });
    assert.equal(await line(win, 'system', 'The customer has left the chat.').count(), 1, 'one line when the customer leaves');
    const header = await win.locator('[data-testid="communication-panel"] [data-testid="customer-presence"]').textContent();
    assert.match(header, /Left the chat \d+s ago/);
    assert.match(await item(win, 'Bob').textContent(), /Left \d+s ago · closes in 0:\d\d/);
    await win.shot('app-idle-left.png');

    // The warning, and one click keeps the chat open: the wait starts again.
    await win.getByTestId('close-warning').waitFor({ timeout: T });
    assert.match(await win.getByTestId('close-warning').textContent(), /Bob left the chat \d+s ago\. It closes in 0:\d\d unless you keep it open\./);
    await win.shot('app-idle-warning.png');
    await win.getByTestId('keep-open').click();
    await win.getByTestId('close-warning').waitFor({ state: 'detached', timeout: T });
    const keptAt = Date.now();
    assert.equal(await win.locator('[data-testid="conversation-item"][data-state="ended"]').count(), 0);

    // Left alone this time: it closes after the idle time, and Dan is offered to agent1 at once.
    await win.getByTestId('close-warning').waitFor({ timeout: T });
    await win.locator('[data-testid="conversation-item"][data-state="ended"]').filter({ hasText: 'Bob' }).waitFor({ timeout: T });
    const endedAt = Date.now();
    const open = (endedAt - keptAt) / 1000;
    assert.ok(open >= CLOSE_S - 1, `closed ${open}s after keep-open; want about ${CLOSE_S}s`);
    await win.locator('[data-testid="offer"]').filter({ hasText: 'Dan' }).waitFor({ timeout: 3000 });
    const offeredIn = Date.now() - endedAt;
    await win.getByTestId('conversation-ended').waitFor({ timeout: T });
    // The transcript's line says why; the note under it only that it is closed (said once).
    await line(win, 'system', 'Closed after inactivity.').waitFor({ timeout: T });
    assert.equal((await win.getByTestId('conversation-ended').textContent()).trim(), 'This conversation is closed.');
    assert.equal(await win.getByTestId('chat-input').count(), 0, 'no composer once closed');
    await win.shot('app-idle-closed-offer.png');
    assert.ok(offeredIn < 2000, `Dan offered ${offeredIn} ms after the close; want at once`);
    await win.getByTestId('offer-accept').click();
    await item(win, 'Dan').waitFor({ timeout: T });

    // Bob reopens the tab: his transcript keeps the close, the portal says why.
    const again = await reopenTab(bob);
    await again.getByTestId('chat-ended').waitFor({ timeout: T });
    await line(again, 'system', 'Closed after inactivity.').waitFor({ timeout: T });
    assert.equal(await line(again, 'system', 'left the chat').count(), 0, 'the customer is not told they left');
    assert.match(await again.getByTestId('chat-ended').textContent(), /closed after a while with nobody writing/);
    await again.screenshot({ path: join(resultsDir(), 'app-idle-portal-closed.png') });

    assert.deepEqual(await win.evaluate(() => window.__errors), []);
    for (const c of [ann, bob, cat, dan]) assert.deepEqual(c.errors, [], `${c.name}'s page errors`);
  } finally {
    await cleanUp(win);
  }
});

test('the same in Spanish: the window says the customer left and that the chat closed', async () => {
  await freshHub();
  const es = await startWindow({ args: ['-hub', hub.url], lang: 'es_ES.UTF-8' });
  try {
    await signIn(es, 'agent2');
    const lucia = await customer('Lucía', 'Hola, necesito ayuda', 'es-ES');
    await accept(es, 'Lucía');
    await item(es, 'Lucía').click();
    await line(es, 'customer', 'Hola, necesito ayuda').waitFor({ timeout: T });
    await closeTab(lucia);
    await line(es, 'system', 'El cliente ha abandonado el chat.').waitFor({ timeout: T });
    assert.match(await item(es, 'Lucía').textContent(), /Se fue hace \d+ s · se cierra en 0:\d\d/);
    await es.getByTestId('close-warning').waitFor({ timeout: T });
    assert.match(await es.getByTestId('close-warning').textContent(), /Lucía salió del chat hace \d+ s\. Se cerrará en 0:\d\d/);
    assert.equal((await es.getByTestId('keep-open').textContent()).trim(), 'Mantener abierta');
    await es.shot('app-idle-warning-es.png');
    await es.getByTestId('conversation-ended').waitFor({ timeout: T });
    await line(es, 'system', 'Cerrada por inactividad.').waitFor({ timeout: T });
    assert.equal((await es.getByTestId('conversation-ended').textContent()).trim(), 'Esta conversación está cerrada.');
    await es.shot('app-idle-closed-es.png');
    const again = await reopenTab(lucia);
    await again.getByTestId('chat-ended').waitFor({ timeout: T });
    assert.match(await again.getByTestId('chat-ended').textContent(), /se cerró tras un rato sin que nadie escribiera/);
    await again.screenshot({ path: join(resultsDir(), 'app-idle-portal-closed-es.png') });
  } finally {
    await cleanUp(es);
  }
});

test('a supervisor sees which customers are gone and closes their chats', async () => {
  await freshHub();
  const agent = await startAgent(hub.url, { args: ['-accept'] }); // takes every chat, never writes
  const win = await startWindow({ args: ['-hub', hub.url] });
  try {
    await win.getByTestId('signin-username').waitFor({ timeout: T });
    await win.getByTestId('signin-hub').fill(hub.url);
    await win.getByTestId('signin-org').fill('demo');
    await win.getByTestId('signin-username').fill('super1');
    await win.getByTestId('signin-password').fill('demo');
    await win.keyboard.press('Enter');
    const gus = await customer('Gus', 'Is anyone there?');
    await customer('Hana', 'Hello');
    const row = (name) => win.locator('[data-testid="team-conversation"][data-state="active"]').filter({ hasText: name });
    await row('Gus').waitFor({ timeout: T });
    await row('Hana').waitFor({ timeout: T });
    await closeTab(gus);
    await win.getByTestId('gone-count').waitFor({ timeout: T });
    assert.equal((await win.getByTestId('gone-count').textContent()).trim(), 'Customers gone: 1');
    assert.match(await row('Gus').textContent(), /Left the chat \d+s ago/);
    assert.equal(await row('Hana').getByTestId('close-conversation').count(), 0, 'no Close for a customer who is here');
    await win.shot('app-idle-team-gone.png');
    await row('Gus').getByTestId('close-conversation').click();
    await row('Gus').waitFor({ state: 'detached', timeout: T });
    await win.getByTestId('gone-count').waitFor({ state: 'detached', timeout: T });
    await win.waitForFunction(() => document.querySelector('[data-testid="conversation-outcomes"] [data-outcome="abandoned"] b')?.textContent === '1', null, { timeout: T });
    await win.shot('app-idle-team-closed.png');
    const again = await reopenTab(gus);
    await again.getByTestId('chat-ended').waitFor({ timeout: T });
    assert.match(await again.getByTestId('chat-ended').textContent(), /The chat was closed\./);
  } finally {
    await agent.stop();
    await cleanUp(win);
  }
});

/** agentInvitesSupervisor has agent1 (over the hub's own WebSocket, from a page on the hub's origin) invite
 * super1 to read along in the chat of customerName; it resolves once the hub acknowledged. */
async function agentInvitesSupervisor(customerName) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${hub.url}/healthz`);
    return await page.evaluate(async (name) => {
      const login = async (username) => {
        const res = await fetch('/api/v1/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ org: 'demo', username, password: 'demo', client: 'agent' }) });
        if (!res.ok) throw new Error(`login ${username}: ${res.status}`);
        return res.json();
      };
      const sup = await login('super1');
      const agent = await login('agent1');
      const ws = new WebSocket(location.origin.replace('http', 'ws') + '/ws');
      const frames = [];
      let wake = () => {};
      ws.onmessage = (e) => { frames.push(JSON.parse(e.data)); wake(); };
      const next = async (match) => {
        for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
          const i = frames.findIndex(match);
          if (i >= 0) return frames.splice(i, 1)[0];
          await new Promise((r) => { wake = r; setTimeout(r, 200); });
        }
        throw new Error('no answer from the hub');
      };
      await new Promise((r, j) => { ws.onopen = r; ws.onerror = j; });
      ws.send(JSON.stringify({ type: 'hello', data: { token: agent.token } }));
      const welcome = await next((f) => f.type === 'welcome' || f.type === 'error');
      if (welcome.type !== 'welcome') throw new Error(JSON.stringify(welcome));
      const conv = welcome.data.conversations.find((c) => c.customer_name === name && c.state === 'active');
      if (!conv) throw new Error(`agent1 has no active chat with ${name}`);
      ws.send(JSON.stringify({ type: 'conv.invite', rid: 'invite', data: { conv: conv.id, user: sup.user.id, note: 'Can you look at this one?' } }));
      const ans = await next((f) => f.rid === 'invite');
      ws.close();
      if (ans.type !== 'ack') throw new Error(JSON.stringify(ans));
      return conv.id;
    }, customerName);
  } finally {
    await context.close();
  }
}

// A supervisor reading along in someone else's chat is offered Close (supervisor.close), not an
// End the hub can only refuse (EFORBIDDEN); closing it ends the chat for the customer too.
test('a supervisor reading along closes the chat from it: Close, not End', async () => {
  await freshHub();
  const agent = await startAgent(hub.url, { args: ['-accept'] });
  let win;
  try {
    const ivy = await customer('Ivy', 'I would like to speak to a supervisor');
    await line(ivy.page, 'system', 'joined').waitFor({ timeout: T });
    win = await startWindow({ args: ['-hub', hub.url] });
    await win.getByTestId('signin-username').waitFor({ timeout: T });
    await win.getByTestId('signin-hub').fill(hub.url);
    await win.getByTestId('signin-org').fill('demo');
    await win.getByTestId('signin-username').fill('super1');
    await win.getByTestId('signin-password').fill('demo');
    await win.keyboard.press('Enter');
    await win.getByTestId('nav-conversations').waitFor({ timeout: T });
    // Agent One asks the supervisor, now signed in, to read along.
    const conv = await agentInvitesSupervisor('Ivy');
    await win.getByTestId('nav-conversations').click();
    await item(win, 'Ivy').click();
    await win.locator(`[data-testid="communication-panel"][data-conv="${conv}"]`).waitFor({ timeout: T });
    await win.getByTestId('supervisor-close').waitFor({ timeout: T });
    assert.equal(await win.getByTestId('end-conversation').count(), 0, 'no End for a supervisor on Agent One\'s chat');
    // Reading along, the composer writes internal notes only (no Note switch to turn it off): the
    // note reaches Agent One's panel as a note and never the customer.
    assert.match(await win.getByTestId('conversation-state').textContent(), /Reading along · Agent One/);
    assert.equal(await win.getByTestId('chat-note-toggle').count(), 0, 'a reader writes notes only');
    await win.getByTestId('chat-input').fill('Offer the refund');
    await win.getByTestId('chat-input').press('Enter');
    await win.locator('[data-testid="chat-message"][data-internal="true"]').filter({ hasText: 'Offer the refund' }).waitFor({ timeout: T });
    await line(ivy.page, 'system', 'joined').waitFor({ timeout: T });
    assert.equal(await ivy.page.getByText('Offer the refund').count(), 0, 'the customer never reads a note');
    await win.shot('app-supervisor-reads-along.png');
    await win.getByTestId('supervisor-close').click();
    assert.match(await win.getByTestId('close-warning').textContent(), /Agent One can no longer write in it/);
    await win.shot('app-supervisor-close-confirm.png');
    await win.getByTestId('confirm-ok').click();
    await win.locator(`[data-testid="communication-panel"][data-state="ended"]`).waitFor({ timeout: T });
    await ivy.page.getByTestId('chat-ended').waitFor({ timeout: T });
    assert.equal(await win.locator('[data-testid="toast"][role="alert"]').count(), 0, 'no error shown');
    await win.shot('app-supervisor-closed.png');
  } finally {
    await agent.stop();
    await cleanUp(win);
  }
});
