// End-to-end test of routing as the customer meets it: real headless Chromium, the real hub with the
// demo organisation's queues (General, Sales, Billing that needs the billing skill) and pre-chat
// question, and real headless agents (Agent One has billing:2, Agent Two only sales:2).
// Run: make test-portal-e2e (or node --test e2e/portal-routing.test.mjs with out/parley-hub and
// out/parley-agent built, or PARLEY_HUB/PARLEY_AGENT pointing at them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startHub, startAgent, launchChromium, resultsDir, desktop, phone, accessible } from './lib/index.mjs';

const T = 20_000; // how long any single expectation may take

let hub, browser, token;
const agents = [];
const shots = resultsDir();

before(async () => {
  hub = await startHub();
  browser = await launchChromium();
  const login = await fetch(`${hub.url}/api/v1/login`, { method: 'POST', body: JSON.stringify({ org: 'demo', username: 'admin1', password: 'demo' }) });
  assert.equal(login.status, 200);
  token = (await login.json()).token;
});

after(async () => {
  await browser?.close();
  for (const a of agents) await a.stop();
  await hub?.stop();
});

/** api calls the hub's API as the demo organisation's admin. */
async function api(method, path, body) {
  const res = await fetch(`${hub.url}/api/v1/orgs/demo${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** queue returns the demo organisation's stored queue id. */
async function queue(id) {
  const routing = await api('GET', '/routing');
  const q = routing.queues.find((x) => x.id === id);
  assert.ok(q, `no queue ${id} in ${JSON.stringify(routing.queues.map((x) => x.id))}`);
  return q;
}

async function open(path, { viewport = desktop, locale = 'en-US' } = {}) {
  const context = await browser.newContext({ viewport, locale });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(new Error(m.text()));
  });
  await page.goto(`${hub.url}${path}`);
  return { context, page, errors };
}

function messageFrom(page, author, text) {
  return page.locator(`[data-testid="chat-message"][data-author="${author}"]`).filter({ hasText: text });
}

async function leave(page) {
  await page.getByTestId('chat-leave').click();
  await page.getByTestId('chat-leave-confirm').click();
  await page.getByTestId('chat-ended').waitFor({ timeout: T });
}

test('a widget naming a queue skips the question; outside the queue\'s hours the customer reads its closed message, in its language, and leaves a message', async () => {
  const sales = await queue('sales');
  // Open one hour a week, three days from today: closed now.
  const day = (new Date().getUTCDay() + 3) % 7;
  await api('PUT', '/routing/queues/sales', {
    ...sales,
    language: 'es',
    hours: { time_zone: 'UTC', intervals: [{ day, from: '09:00', to: '10:00' }] },
    closed_message: 'Ventas abre una hora a la semana.',
  });
  try {
    // An English browser: the queue serves in Spanish, so the portal speaks Spanish.
    const { context, page, errors } = await open('/chat/demo?queue=sales', { viewport: phone });
    await page.getByTestId('queue-closed').waitFor({ timeout: T });
    assert.equal(await page.getByTestId('queue-closed').textContent(), 'Ventas abre una hora a la semana.');
    assert.equal(await page.getByTestId('prechat-question').count(), 0);
    assert.equal(await page.locator('html').getAttribute('lang'), 'es');
    // The header says it is closed, never that we usually reply in a few minutes.
    assert.equal(await page.getByTestId('chat-status').textContent(), 'Cerrado ahora · déjanos un mensaje');
    // Sending without a message says what is missing and starts nothing.
    await page.getByTestId('prechat-start').click();
    await page.getByRole('alert').filter({ hasText: 'Escribe tu mensaje' }).waitFor({ timeout: T });
    await page.getByTestId('prechat-name').fill('Carmen');
    await page.getByTestId('prechat-message').fill('Quiero un presupuesto para 40 puestos.');
    await page.getByTestId('prechat-contact').fill('carmen@example.com');
    await page.screenshot({ path: join(shots, 'portal-closed-es-phone.png') });
    await accessible(page, 'portal: a closed queue takes a message (es)');
    await page.getByTestId('prechat-start').click();
    // Nobody is online: the message waits for the next agent, and the customer may go.
    await page.getByTestId('message-left').waitFor({ timeout: T });
    await messageFrom(page, 'customer', 'Quiero un presupuesto').waitFor({ timeout: T });
    await messageFrom(page, 'system', 'Has dejado un mensaje').waitFor({ timeout: T });
    await page.screenshot({ path: join(shots, 'portal-message-left-es-phone.png') });
    await accessible(page, 'portal: a message left (es)');
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await api('PUT', '/routing/queues/sales', sales);
  }
});

test('the customer answers the pre-chat question "Billing", waits with a place and an estimated wait, and gets the agent with the billing skill', async () => {
  const { context, page, errors } = await open('/chat/demo');
  const question = page.getByTestId('prechat-question');
  await question.waitFor({ timeout: T });
  assert.match(await question.locator('legend').textContent(), /What is it about\?/);
  assert.deepEqual(await question.locator('label').allTextContents().then((l) => l.map((s) => s.trim())), ['Buying something', 'Billing', 'Something else']);
  // Keyboard: the name, then the question (one stop for the radio group), then the start button.
  await page.getByTestId('prechat-name').focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'prechat-choice');
  await page.getByTestId('prechat-name').fill('Bea');
  await page.getByTestId('prechat-choice-billing').check();
  // Nobody is online: the header says so before the chat starts (never "We usually reply in a few minutes").
  await page.getByTestId('chat-status').filter({ hasText: 'Our team is away right now · leave us a message' }).waitFor({ timeout: T });
  await page.screenshot({ path: join(shots, 'portal-prechat-question.png') });
  await page.setViewportSize(phone);
  await page.screenshot({ path: join(shots, 'portal-prechat-question-phone.png') });
  await page.getByTestId('prechat-start').click();

  // Nobody is online: the customer reads that nobody is available (not "You are next") and is
  // offered to leave a message; they keep waiting.
  await page.getByTestId('queue-position').filter({ hasText: 'Nobody is available right now' }).waitFor({ timeout: T });
  assert.equal(await page.getByTestId('queue-wait').count(), 0);
  const away = page.locator('[data-testid="queue-overflow"][data-reason="away"]');
  await away.waitFor({ timeout: T });
  assert.match(await away.textContent(), /Our team is away right now/);
  await page.getByTestId('chat-input').fill('My invoice shows the wrong amount');
  await page.getByTestId('chat-input').press('Enter');
  await messageFrom(page, 'customer', 'wrong amount').waitFor({ timeout: T });
  await page.screenshot({ path: join(shots, 'portal-nobody-available-phone.png') });
  await accessible(page, 'portal: nobody available');

  // Agent Two (sales, no billing skill) comes online: the Billing chat is not offered to them
  // before the queue widens (60 s), so the customer still waits.
  agents.push(await startAgent(hub.url, { user: 'agent2' }));
  const waited = Date.now();
  while (Date.now() - waited < 2_000) {
    assert.equal(await page.getByTestId('queue-position').count(), 1, 'the chat went to the agent without the skill');
    await page.waitForTimeout(200);
  }
  // With an agent of the queue online, first in the Billing queue, and with no answers yet in the
  // queue's recent history the estimate is "a few minutes".
  await page.getByTestId('queue-position').filter({ hasText: 'You are next in the queue' }).waitFor({ timeout: T });
  assert.equal(await page.getByTestId('queue-wait').textContent(), 'Estimated wait: a few minutes');
  assert.equal(await away.count(), 0);
  await page.screenshot({ path: join(shots, 'portal-waiting-phone.png') });
  // Agent One (billing:2) comes online and gets it at once.
  agents.push(await startAgent(hub.url, { user: 'agent1' }));
  await messageFrom(page, 'system', 'Agent One joined').waitFor({ timeout: T });
  await page.getByTestId('queue-position').waitFor({ state: 'detached', timeout: T });
  await page.getByTestId('chat-input').fill('It is invoice 1042');
  await page.getByTestId('chat-input').press('Enter');
  await messageFrom(page, 'agent', 'echo: It is invoice 1042').waitFor({ timeout: T });
  assert.equal(await messageFrom(page, 'system', 'Agent Two').count(), 0);
  await leave(page);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a widget naming an unknown queue gets the organisation\'s default queue, never a broken chat', async () => {
  const { context, page, errors } = await open('/chat/demo?queue=no-such-queue');
  await page.getByTestId('prechat-start').waitFor({ timeout: T });
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('chat-input').waitFor({ timeout: T });
  await messageFrom(page, 'system', 'joined').first().waitFor({ timeout: T });
  await leave(page);
  assert.ok(hub.logs.some((l) => /unknown queue/.test(l)), 'no warning in the hub log');
  assert.deepEqual(errors, []);
  await context.close();
});
