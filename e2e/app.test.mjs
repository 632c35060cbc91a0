// End-to-end test of the agent desktop app: the REAL Wails app (a dev build, so its UI is also
// served to browsers by the Wails dev server with working Go bindings) runs under Xvfb against a
// real hub; headless Chromium drives its UI and plays the customer in the portal. Screenshots of
// the Wails window (an X screenshot of the Xvfb display) and of the UI go to test-results/.
//
// Run: make test-app-e2e (or node --test e2e/app.test.mjs with PARLEY_APP pointing at a binary
// built with `go build -tags dev,webkit2_41`, and out/parley-hub, out/parley-agent built).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { desktop, launchChromium, resultsDir, signIn as fillSignIn, startAgent, startApp, startHub, watch, xshot as xshotOf } from './lib/index.mjs';

const T = 20_000; // how long any single expectation may take
const shots = resultsDir();

let hub, app, browser, agentPage, x;

/** xshot saves an X screenshot of the Xvfb display: the real Wails window. */
const xshot = (name) => xshotOf(x, name);

before(async () => {
  hub = await startHub();
  browser = await launchChromium();
  app = await startApp({ args: ['-hub', hub.url] });
  x = app;
});

after(async () => {
  await browser?.close();
  await app?.stop();
  await hub?.stop();
});

/** openAgentUI opens the app's UI (through the Wails dev server) in Chromium. */
async function openAgentUI(locale = 'en-US') {
  const context = await browser.newContext({ viewport: desktop, locale });
  const page = await context.newPage();
  const errors = watch(page);
  await page.goto(app.url);
  return { context, page, errors };
}

async function signIn(page, user) {
  // The app keeps one session for all its views: sign out whoever an earlier test left signed in.
  await page.locator('[data-testid="signin-username"], [data-testid="sign-out"]').first().waitFor({ timeout: T });
  if (await page.getByTestId('sign-out').count()) await page.getByTestId('sign-out').click();
  await fillSignIn(page, { hub: hub.url, user, timeout: T });
}

/** customer opens the portal in a new context and starts a chat. */
async function customer(name) {
  const context = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  const page = await context.newPage();
  const errors = watch(page);
  await page.goto(`${hub.url}/chat/demo`);
  await page.getByTestId('prechat-name').fill(name);
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('chat-input').waitFor({ timeout: T });
  return { context, page, errors };
}

function message(page, author, text) {
  return page.locator(`[data-testid="chat-message"][data-author="${author}"]`).filter({ hasText: text });
}

test('a wrong password gets a translated sentence, not an error string', async () => {
  const { context, page, errors } = await openAgentUI();
  await page.getByTestId('signin-username').waitFor({ timeout: T });
  await page.getByTestId('signin-hub').fill(hub.url);
  await page.getByTestId('signin-username').fill('agent1');
  await page.getByTestId('signin-password').fill('wrong');
  await page.getByTestId('signin-submit').click();
  const err = page.getByTestId('signin-error');
  await err.waitFor({ timeout: T });
  assert.equal(await err.textContent(), 'The organisation, username or password is not right.');
  assert.deepEqual(errors, []);
  await context.close();
});

test('agent1 accepts a portal customer, chats both ways and ends the chat', async () => {
  const { context, page, errors } = (agentPage = await openAgentUI());
  await signIn(page, 'agent1');
  const presence = page.getByTestId('presence');
  await presence.waitFor({ timeout: T });
  // Available once the hub's agent.state arrives (a moment after the header shows).
  await page.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.value === 'available', null, { timeout: T });
  assert.equal(await presence.inputValue(), 'available');

  // Busy, then available again: the switch goes through the hub and back.
  await presence.selectOption('busy');
  await page.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.value === 'busy', null, { timeout: T });
  await presence.selectOption('available');
  await page.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.value === 'available', null, { timeout: T });

  const cust = await customer('Dana');
  await cust.page.getByTestId('chat-input').fill('Hello, my parcel has not arrived');
  await cust.page.getByTestId('chat-input').press('Enter');

  // The offer, with its countdown.
  const accept = page.getByTestId('offer-accept');
  await accept.waitFor({ timeout: T });
  await page.getByTestId('offer-decline').waitFor();
  const secs = Number(await page.getByTestId('offer-countdown').textContent());
  assert.ok(secs > 0 && secs <= 60, `countdown shows ${secs}`);
  await page.screenshot({ path: join(shots, 'app-ui-offer.png') });
  await xshot('app-window-offer.png');
  await accept.click();

  // The conversation opens with the customer's first message.
  await message(page, 'customer', 'Hello, my parcel has not arrived').waitFor({ timeout: T });
  await page.getByTestId('conversation-item').first().waitFor();
  assert.equal(await page.getByTestId('conversation-item').count(), 1);
  await message(cust.page, 'system', 'joined').first().waitFor({ timeout: T });

  // Agent → customer, with the Enter key.
  await page.getByTestId('chat-input').fill('Hi Dana, let me look into that.');
  await page.getByTestId('chat-input').press('Enter');
  await message(cust.page, 'agent', 'Hi Dana, let me look into that.').waitFor({ timeout: T });
  // The customer's portal received it: the marker moves on from "sent" (to "read" when the
  // portal's tab has focus, which headless Chromium does not promise).
  await page.locator('[data-testid="receipt"][data-receipt="delivered"], [data-testid="receipt"][data-receipt="read"]').first().waitFor({ timeout: T });

  // Customer → agent: markup stays text, scripts never run.
  const nasty = '<img src=x onerror="alert(1)"><b>bold?</b>';
  await cust.page.getByTestId('chat-input').fill(nasty);
  await cust.page.getByTestId('chat-input').press('Enter');
  const shown = message(page, 'customer', 'bold?');
  await shown.waitFor({ timeout: T });
  assert.equal(await shown.locator('.bubble').textContent(), nasty);
  assert.equal(await page.locator('[data-testid="chat-message"] img').count(), 0);

  // The send button works too.
  await page.getByTestId('chat-input').fill('Your parcel arrives tomorrow.');
  await page.getByTestId('chat-send').click();
  await message(cust.page, 'agent', 'Your parcel arrives tomorrow.').waitFor({ timeout: T });

  // More commands (…) opens its menu next to End.
  await page.getByTestId('more-commands').click();
  await page.getByTestId('more-commands-menu').waitFor({ timeout: T });
  await page.screenshot({ path: join(shots, 'app-ui-chat-menu.png') });
  await page.keyboard.press('Escape');
  await page.getByTestId('more-commands-menu').waitFor({ state: 'detached', timeout: T });

  await page.screenshot({ path: join(shots, 'app-ui-chat.png') });
  await xshot('app-window-chat.png');

  // End: the customer sees the chat ended, the panel says so, the load drops.
  await page.getByTestId('end-conversation').click();
  await cust.page.getByTestId('chat-ended').waitFor({ timeout: T });
  await page.getByTestId('conversation-ended').waitFor({ timeout: T });
  await page.locator('[data-testid="conversation-item"][data-state="ended"]').waitFor({ timeout: T });
  assert.equal(await page.getByTestId('chat-input').count(), 0, 'composer gone after End');
  await page.screenshot({ path: join(shots, 'app-ui-ended.png') });

  assert.deepEqual(errors, []);
  assert.deepEqual(cust.errors, []);
  await cust.context.close();
  await page.getByTestId('sign-out').click();
  await page.getByTestId('signin-username').waitFor({ timeout: T });
  await context.close();
});

test('super1 sees the agents and assigns a waiting conversation', async () => {
  // agent2 is a headless agent set to busy: never offered, but a supervisor can still assign.
  const agent2 = await startAgent(hub.url, { user: 'agent2', args: ['-presence', 'busy', '-reply-echo'] });
  try {
    const { context, page, errors } = await openAgentUI();
    await signIn(page, 'super1');
    await page.locator('[data-testid="team-agent"]').first().waitFor({ timeout: T });
    const agents = await page.$$eval('[data-testid="team-agent"]', (rows) => rows.map((r) => [r.textContent, r.dataset.presence]));
    assert.ok(agents.some(([text, p]) => text.includes('Agent Two') && p === 'busy'), JSON.stringify(agents));
    assert.ok(agents.some(([text]) => text.includes('Agent One')), JSON.stringify(agents));

    const cust = await customer('Wanda');
    const row = page.locator('[data-testid="team-conversation"][data-state="waiting"]').filter({ hasText: 'Wanda' });
    await row.waitFor({ timeout: T });
    const agent2Id = await page.$$eval('[data-testid="team-agent"]', (rows) => rows.find((r) => r.textContent.includes('Agent Two'))?.dataset.agent);
    await row.getByTestId('assign-agent').selectOption(agent2Id);
    await page.screenshot({ path: join(shots, 'app-ui-team.png') });
    await xshot('app-window-team.png');
    await row.getByTestId('assign').click();

    await page.locator('[data-testid="team-conversation"][data-state="active"]').filter({ hasText: 'Wanda' }).waitFor({ timeout: T });
    await cust.page.getByTestId('chat-input').fill('anyone there?');
    await cust.page.getByTestId('chat-input').press('Enter');
    await message(cust.page, 'agent', 'echo: anyone there?').waitFor({ timeout: T });
    await page.screenshot({ path: join(shots, 'app-ui-team-assigned.png') });

    assert.deepEqual(errors, []);
    await cust.context.close();
    await context.close();
  } finally {
    await agent2.stop();
  }
});

test('the UI speaks Spanish to a Spanish system', async () => {
  const { context, page, errors } = await openAgentUI('es-ES');
  // Still signed in as super1 from the previous test in the app itself.
  await page.getByTestId('sign-out').waitFor({ timeout: T });
  await page.getByTestId('sign-out').click();
  await page.getByTestId('signin-submit').waitFor({ timeout: T });
  assert.equal((await page.getByTestId('signin-submit').textContent()).trim(), 'Iniciar sesión');
  await page.screenshot({ path: join(shots, 'app-ui-signin-es.png') });
  await signIn(page, 'agent1');
  await page.getByTestId('presence').waitFor({ timeout: T });
  assert.equal(await page.locator('[data-testid="presence"] option:checked').textContent(), 'Disponible');
  const cust = await customer('Lucía');
  await cust.page.getByTestId('chat-input').fill('Hola, necesito ayuda');
  await cust.page.getByTestId('chat-input').press('Enter');
  await page.getByTestId('offer-accept').waitFor({ timeout: T });
  assert.equal((await page.getByTestId('offer-accept').textContent()).trim(), 'Aceptar');
  await page.getByTestId('offer-accept').click();
  await message(page, 'customer', 'Hola, necesito ayuda').waitFor({ timeout: T });
  assert.equal((await page.getByTestId('end-conversation').textContent()).trim(), 'Finalizar');
  await page.screenshot({ path: join(shots, 'app-ui-es.png') });
  await page.getByTestId('end-conversation').click();
  await cust.page.getByTestId('chat-ended').waitFor({ timeout: T });
  await cust.context.close();
  assert.deepEqual(errors, []);
  await context.close();
});
