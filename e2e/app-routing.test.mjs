// End-to-end test of routing as issue 14 shows it, with the agent app in its REAL window (the test
// build under Xvfb, real X keys and clicks) against a real hub, a customer in Chromium with fake
// media devices, and headless agents (cmd/parley-agent) for the second agent and the supervisor
// who reads along:
//
//   the supervisor's Queues table has no figures for Billing or Sales; a customer answers
//   "Billing" in the pre-chat form and, nobody being online, reads that the team is away and
//   keeps waiting; Agent One (the
//   one with the billing skill) takes the chat, answers with the "/refund" quick reply from the
//   keyboard, asks the supervisor to read along (Consult…), writes an internal note, and
//   transfers the chat to the Sales queue with a note; Agent Two takes it and calls the customer,
//   who answers; the customer never received the notes; the supervisor's Queues table now shows
//   a service level for both queues.
//
// Run: make test-app-routing-e2e. X screenshots in test-results/app-window-routing-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { desktop, launchChromium, startAgent, startHub, startWindow, watch } from './lib/index.mjs';

const T = 30_000; // how long any single expectation may take (a shared, loaded machine)

let hub, win, browser;

before(async () => {
  hub = await startHub();
  browser = await launchChromium({ media: true });
  win = await startWindow({ args: ['-hub', hub.url, '-devices', 'test-pattern'] });
  await win.evaluate(() => {
    window.__errors = [];
    window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
  });
});

after(async () => {
  await browser?.close();
  await win?.stop();
  await hub?.stop();
});

async function signIn(user) {
  await win.getByTestId('signin-username').waitFor({ timeout: T });
  await win.getByTestId('signin-hub').fill(hub.url);
  await win.getByTestId('signin-org').fill('demo');
  await win.getByTestId('signin-username').fill(user);
  await win.getByTestId('signin-password').fill('demo');
  await win.keyboard.press('Enter');
}

async function signOut() {
  await win.getByTestId('sign-out').click();
  await win.getByTestId('signin-username').waitFor({ timeout: T });
}

/** serviceLevels reads the supervisor's Queues table: queue id → the service level cell. */
async function serviceLevels() {
  await win.locator('[data-testid="queue-figures"][data-queue="billing"]').waitFor({ timeout: T });
  return win.evaluate(() =>
    Object.fromEntries([...document.querySelectorAll('[data-testid="queue-figures"]')].map((r) => [r.dataset.queue, r.querySelector('[data-testid="queue-service-level"]')?.textContent.trim()])),
  );
}

function message(page, author, text) {
  return page.locator(`[data-testid="chat-message"][data-author="${author}"]`).filter({ hasText: text });
}

test('billing → quick reply → consult and internal note → transfer to Sales with a note → Agent Two calls back → both queues\' service level in the supervisor\'s view', async () => {
  // The supervisor's view before: no answered chats in either queue.
  await signIn('super1');
  const before = await serviceLevels();
  assert.equal(before.billing, '—', JSON.stringify(before));
  assert.equal(before.sales, '—', JSON.stringify(before));
  await signOut();

  // The customer picks Billing and waits (nobody is signed in yet).
  const context = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  const page = await context.newPage();
  const errors = watch(page);
  await page.goto(`${hub.url}/chat/demo`);
  await page.getByTestId('prechat-question').waitFor({ timeout: T });
  await page.getByTestId('prechat-name').fill('Bea');
  await page.getByTestId('prechat-choice-billing').check();
  await page.getByTestId('prechat-start').click();
  // Nobody of the team is online: the customer reads so (never "You are next" with an estimate
  // nobody will meet) and is offered to leave a message; they keep waiting.
  await page.getByTestId('queue-position').filter({ hasText: 'Nobody is available right now' }).waitFor({ timeout: T });
  assert.equal(await page.getByTestId('queue-wait').count(), 0);
  await page.locator('[data-testid="queue-overflow"][data-reason="away"]').waitFor({ timeout: T });
  await page.getByTestId('chat-input').fill('I was charged twice for March');
  await page.getByTestId('chat-input').press('Enter');

  // Agent One has the billing skill: the offer comes to them; they take it from the keyboard.
  await signIn('agent1');
  await win.getByTestId('offer-accept').waitFor({ timeout: T });
  await win.keyboard.press('Alt+A');
  await message(win, 'customer', 'charged twice').waitFor({ timeout: T });
  await message(page, 'system', 'joined').first().waitFor({ timeout: T });

  // "/" opens the quick replies: the Billing queue's /refund is there (this chat is Billing's);
  // Enter puts it in the composer, Enter again sends it.
  await win.getByTestId('chat-input').fill('/ref');
  await win.getByTestId('quick-reply-refund').waitFor({ timeout: T });
  assert.equal(await win.getByTestId('quick-reply-refund').getAttribute('aria-selected'), 'true');
  await new Promise((r) => setTimeout(r, 1500)); // a settled frame for the screenshot (FACTS: stale frames under load)
  await win.shot('app-window-routing-quick-replies.png');
  await win.keyboard.press('Enter');
  await win.waitForFunction(() => document.querySelector('[data-testid="chat-input"]')?.value.startsWith('I have started your refund'), null, { timeout: T });
  await win.keyboard.press('Enter');
  await message(page, 'agent', 'I have started your refund').waitFor({ timeout: T });

  // Consult: the supervisor (signed in, headless) reads along; then an internal note.
  const sup = await startAgent(hub.url, { user: 'super1', args: ['-presence', ''] }); // supervisors have no presence
  let agent2;
  try {
    await win.getByTestId('more-commands').click();
    await win.getByTestId('consult').click();
    await win.getByTestId('consult-form').waitFor({ timeout: T });
    await win.waitForFunction(() => [...document.querySelectorAll('[data-testid="consult-member"] option')].some((o) => o.textContent.startsWith('Supervisor One')), null, { timeout: T });
    const superID = await win.evaluate(() => [...document.querySelectorAll('[data-testid="consult-member"] option')].find((o) => o.textContent.startsWith('Supervisor One')).value);
    await win.getByTestId('consult-member').selectOption(superID);
    await win.getByTestId('consult-note').fill('SECRET-CONSULT is a double charge refundable?');
    await win.getByTestId('consult-submit').click();
    await win.getByTestId('consultants').waitFor({ timeout: T });
    assert.equal(await win.getByTestId('consultants').textContent(), 'Reading along: Supervisor One');
    await win.getByTestId('chat-note-toggle').click();
    await win.getByTestId('chat-input').fill('SECRET-NOTE invoice 2291 charged twice');
    await win.keyboard.press('Enter');
    await win.locator('[data-testid="chat-message"][data-internal="true"]').filter({ hasText: 'invoice 2291' }).waitFor({ timeout: T });
    await new Promise((r) => setTimeout(r, 1500));
    await win.shot('app-window-routing-consult.png');

    // Transfer to Sales with a note; Agent Two (headless: takes every offer, calls the customer
    // on their next message) is the one available there.
    agent2 = await startAgent(hub.url, { user: 'agent2', args: ['-accept', '-call', 'voice'] });
    await win.getByTestId('more-commands').click();
    await win.getByTestId('transfer').click();
    await win.getByTestId('transfer-form').waitFor({ timeout: T });
    await win.getByTestId('transfer-queue').selectOption('sales');
    await win.getByTestId('transfer-note').fill('SECRET-TRANSFER wants 40 seats after the refund');
    await win.getByTestId('transfer-submit').click();
    await message(page, 'system', 'Sales').first().waitFor({ timeout: T });
    await win.getByTestId('conversation-moved').waitFor({ timeout: T });
    await message(page, 'system', 'Agent Two').first().waitFor({ timeout: T });
    await win.shot('app-window-routing-transferred.png');

    // Agent Two calls back; the customer answers.
    await page.getByTestId('chat-input').fill('Thanks! About the seats…');
    await page.getByTestId('chat-input').press('Enter');
    await page.getByTestId('call-incoming').waitFor({ timeout: T });
    await page.getByTestId('accept-audio').click();
    await page.getByTestId('call-timer').waitFor({ timeout: T });
    await page.screenshot({ path: 'test-results/portal-routing-call-back.png' });
    await page.getByTestId('call-end').click();
  } finally {
    await agent2?.stop();
    await sup.stop();
  }

  // The customer never received a note, in the page or on the wire.
  const html = await page.content();
  assert.doesNotMatch(html, /SECRET|read along|Supervisor One/);
  assert.deepEqual(errors, []);
  await context.close();
  await signOut();

  // The supervisor's view after: both queues have a service level now.
  await signIn('super1');
  await win.waitForFunction(() => {
    const sl = (q) => document.querySelector(`[data-testid="queue-figures"][data-queue="${q}"] [data-testid="queue-service-level"]`)?.textContent.trim();
    return /%$/.test(sl('billing') ?? '') && /%$/.test(sl('sales') ?? '');
  }, null, { timeout: T });
  const after = await serviceLevels();
  assert.notEqual(after.billing, before.billing);
  assert.notEqual(after.sales, before.sales);
  await new Promise((r) => setTimeout(r, 1500));
  await win.shot('app-window-routing-service-level.png');
  assert.deepEqual(await win.evaluate(() => window.__errors), []);
});
