// End-to-end test of the agent desktop app in its REAL window: the test build of the app (the
// release build plus the window harness, internal/winharness) runs under Xvfb against a real hub;
// the test clicks and types into the WebKitGTK window with real X input and reads the page
// through the harness. Customers are headless Chromium in the real portal. X screenshots of the
// window at each step go to test-results/app-window-*.png.
//
// axe-core (e2e/lib/axe.mjs) checks each main screen in the window itself (sign-in, an offer, a
// chat, the About box with its settings, the team view and a transcript read along): no serious
// or critical WCAG 2.1 AA violation. One test goes through an offer and a chat with the keyboard
// alone, and every Tab stop on the way must show where the focus is.
//
// Run: make test-app-e2e (or node --test e2e/app.test.mjs with out/parley-e2e, out/parley-hub and
// out/parley-agent built).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessible, desktop, launchChromium, startAgent, startHub, startWindow, watch } from './lib/index.mjs';

const T = 20_000; // how long any single expectation may take

let hub, win, browser;

before(async () => {
  hub = await startHub();
  browser = await launchChromium();
  win = await startWindow({ args: ['-hub', hub.url] });
  await win.evaluate(() => {
    // Anything a chat message could make the page run would end up here.
    window.__errors = [];
    window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
    window.alert = (m) => window.__errors.push(`alert(${m})`);
  });
});

after(async () => {
  await browser?.close();
  await win?.stop();
  await hub?.stop();
});

/** pageErrors is what went wrong inside the window's page since it started. */
const pageErrors = () => win.evaluate(() => window.__errors);

/** signIn fills the window's sign-in form with the real keyboard and submits it with Enter. */
async function signIn(w, user, password = 'demo') {
  await w.getByTestId('signin-username').waitFor({ timeout: T });
  await w.getByTestId('signin-hub').fill(hub.url);
  await w.getByTestId('signin-org').fill('demo');
  await w.getByTestId('signin-username').fill(user);
  await w.getByTestId('signin-password').fill(password);
  await w.keyboard.press('Enter');
}

async function signOut(w) {
  await w.getByTestId('sign-out').click();
  await w.getByTestId('signin-username').waitFor({ timeout: T });
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
  await win.getByTestId('signin-username').waitFor({ timeout: T });
  await accessible(win, 'app: sign-in');
  await signIn(win, 'agent1', 'wrong');
  const err = win.getByTestId('signin-error');
  await err.waitFor({ timeout: T });
  assert.equal(await err.textContent(), 'The organisation, username or password is not right.');
  await accessible(win, 'app: sign-in refused');
  await win.shot('app-window-signin-error.png');
  assert.deepEqual(await pageErrors(), []);
});

test('agent1 accepts a portal customer with Alt+A, chats both ways and ends the chat', async () => {
  await signIn(win, 'agent1');
  const presence = win.getByTestId('presence');
  // Available once the hub's agent.state arrives (a moment after the header shows).
  await win.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.value === 'available', null, { timeout: T });

  // Busy, then available again: the switch goes through the hub and back.
  await presence.selectOption('busy');
  await win.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.value === 'busy', null, { timeout: T });
  await presence.selectOption('available');
  await win.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.value === 'available', null, { timeout: T });

  const cust = await customer('Dana');
  await cust.page.getByTestId('chat-input').fill('Hello, my parcel has not arrived');
  await cust.page.getByTestId('chat-input').press('Enter');

  // The offer, with its countdown; the agent takes it from the keyboard.
  await win.getByTestId('offer-accept').waitFor({ timeout: T });
  await win.getByTestId('offer-decline').waitFor();
  const secs = Number(await win.getByTestId('offer-countdown').textContent());
  assert.ok(secs > 0 && secs <= 60, `countdown shows ${secs}`);
  await win.shot('app-window-offer.png');
  await accessible(win, 'app: an offer');
  await win.keyboard.press('Alt+A');

  // The conversation opens with the customer's first message.
  await message(win, 'customer', 'Hello, my parcel has not arrived').waitFor({ timeout: T });
  assert.equal(await win.getByTestId('conversation-item').count(), 1);
  await message(cust.page, 'system', 'joined').first().waitFor({ timeout: T });

  // Agent → customer, typed and sent with the Enter key.
  await win.getByTestId('chat-input').fill('Hi Dana, let me look into that.');
  await win.getByTestId('chat-input').press('Enter');
  await message(cust.page, 'agent', 'Hi Dana, let me look into that.').waitFor({ timeout: T });
  // The customer's portal received it: the marker moves on from "sent".
  await win.locator('[data-testid="receipt"][data-receipt="delivered"], [data-testid="receipt"][data-receipt="read"]').first().waitFor({ timeout: T });

  // Customer → agent: markup stays text, scripts never run in the window.
  const nasty = '<img src=x onerror="alert(1)"><b>bold?</b>';
  await cust.page.getByTestId('chat-input').fill(nasty);
  await cust.page.getByTestId('chat-input').press('Enter');
  const shown = message(win, 'customer', 'bold?');
  await shown.waitFor({ timeout: T });
  assert.equal(await shown.locator('.bubble').textContent(), nasty);
  assert.equal(await win.locator('[data-testid="chat-message"] img').count(), 0);

  // The send button works too.
  await win.getByTestId('chat-input').fill('Your parcel arrives tomorrow.');
  await win.getByTestId('chat-send').click();
  await message(cust.page, 'agent', 'Your parcel arrives tomorrow.').waitFor({ timeout: T });
  await win.shot('app-window-chat.png');
  await accessible(win, 'app: the conversation list with a chat open');

  // The About box holds the agent's settings (language).
  await win.getByTestId('about-open').click();
  await win.getByTestId('about-language').waitFor({ timeout: T });
  await accessible(win, 'app: About and settings');
  await win.keyboard.press('Escape');
  await win.getByTestId('about').waitFor({ state: 'detached', timeout: T });

  // More commands (…) opens its menu next to End; Escape closes it.
  await win.getByTestId('more-commands').click();
  await win.getByTestId('more-commands-menu').waitFor({ timeout: T });
  await win.shot('app-window-chat-menu.png');
  await win.keyboard.press('Escape');
  await win.getByTestId('more-commands-menu').waitFor({ state: 'detached', timeout: T });

  // End asks first (it cannot be taken back); then the customer sees the chat ended, the panel says so.
  await win.getByTestId('end-conversation').click();
  await win.getByTestId('confirm-dialog').waitFor({ timeout: T });
  await win.shot('app-window-end-confirm.png');
  await win.getByTestId('confirm-ok').click();
  await cust.page.getByTestId('chat-ended').waitFor({ timeout: T });
  await win.getByTestId('conversation-ended').waitFor({ timeout: T });
  await win.locator('[data-testid="conversation-item"][data-state="ended"]').waitFor({ timeout: T });
  assert.equal(await win.getByTestId('chat-input').count(), 0, 'composer gone after End');
  await win.shot('app-window-ended.png');

  assert.deepEqual(await pageErrors(), []);
  assert.deepEqual(cust.errors, []);
  await cust.context.close();
  await signOut(win);
});

/**
 * focusNow runs in the page: what has the keyboard focus and whether its focus ring shows: an
 * outline, or the UI's blue ring (a box shadow in the primary colour) on it or on the box around
 * it (the composer draws the ring on its frame).
 */
function focusNow() {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return { el: 'nothing', testid: '', shown: false };
  const ring = (e) => {
    const cs = getComputedStyle(e);
    return (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || /rgba?\(36, 83, 214/.test(cs.boxShadow);
  };
  let shown = false;
  for (let e = el, up = 0; e && e !== document.body && up < 3 && !shown; e = e.parentElement, up++) shown = ring(e);
  return { el: `<${el.tagName.toLowerCase()} ${el.dataset.testid ?? el.getAttribute('aria-label') ?? ''}>`, testid: el.dataset.testid ?? '', shown };
}

/**
 * tabTo presses Tab (or Shift+Tab) until testid has the focus, failing on any stop on the way
 * that shows no focus, or after max presses.
 */
async function tabTo(w, testid, { shift = false, max = 40 } = {}) {
  const stops = [];
  for (let i = 0; i < max; i++) {
    const before = await w.evaluate(focusNow);
    await w.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
    // The key reaches the page a moment after xdotool returns.
    let now = before;
    for (const end = Date.now() + 3_000; now.el === before.el && Date.now() < end; ) {
      await w.waitForTimeout(30);
      now = await w.evaluate(focusNow);
    }
    stops.push(now.el);
    assert.ok(now.shown, `Tab stop ${i + 1}, ${now.el}, shows no focus (stops so far: ${stops.join(' ')})`);
    if (now.testid === testid) return;
  }
  assert.fail(`${testid} not reached in ${max} Tab presses: ${stops.join(' ')}`);
}

test('keyboard only: Tab to an offer, Enter takes it, write and send, Escape keeps the chat, End with Enter', async () => {
  await signIn(win, 'agent1');
  await win.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.value === 'available', null, { timeout: T });
  const cust = await customer('Kim');
  await cust.page.getByTestId('chat-input').fill('Can you hear me typing?');
  await cust.page.getByTestId('chat-input').press('Enter');
  await win.getByTestId('offer-accept').waitFor({ timeout: T });

  await tabTo(win, 'offer-accept');
  await win.keyboard.press('Enter');
  await message(win, 'customer', 'Can you hear me typing?').waitFor({ timeout: T });

  await tabTo(win, 'chat-input');
  await win.keyboard.type('Loud and clear.');
  await win.waitForFunction(() => document.querySelector('[data-testid="chat-input"]')?.value === 'Loud and clear.', null, { timeout: T });
  await win.keyboard.press('Enter');
  await message(cust.page, 'agent', 'Loud and clear.').waitFor({ timeout: T });
  // Past the composer (its Send button is off while it is empty) the focus stays in the window,
  // on a control that shows it, and comes round to the composer again.
  await tabTo(win, 'chat-input');
  await win.shot('app-window-keyboard-chat.png');

  // End asks; Escape keeps the chat; End again, Tab from Keep chatting to End chat, Enter.
  await tabTo(win, 'end-conversation', { shift: true });
  await win.keyboard.press('Enter');
  await win.getByTestId('confirm-dialog').waitFor({ timeout: T });
  await win.keyboard.press('Escape');
  await win.getByTestId('confirm-dialog').waitFor({ state: 'detached', timeout: T });
  assert.equal(await win.getByTestId('conversation-ended').count(), 0);
  await tabTo(win, 'end-conversation', { shift: true });
  await win.keyboard.press('Enter');
  await win.getByTestId('confirm-dialog').waitFor({ timeout: T });
  await tabTo(win, 'confirm-ok');
  await win.shot('app-window-keyboard-confirm.png');
  await win.keyboard.press('Enter');
  await cust.page.getByTestId('chat-ended').waitFor({ timeout: T });
  await win.getByTestId('conversation-ended').waitFor({ timeout: T });

  assert.deepEqual(await pageErrors(), []);
  assert.deepEqual(cust.errors, []);
  await cust.context.close();
  await signOut(win);
});

test('super1 sees the agents and assigns a waiting conversation', async () => {
  // agent2 is a headless agent set to busy: never offered, but a supervisor can still assign.
  const agent2 = await startAgent(hub.url, { user: 'agent2', args: ['-presence', 'busy', '-reply-echo'] });
  try {
    await signIn(win, 'super1');
    await win.locator('[data-testid="team-agent"]').first().waitFor({ timeout: T });
    const agents = await win.evaluate(() => [...document.querySelectorAll('[data-testid="team-agent"]')].map((r) => [r.textContent, r.dataset.presence, r.dataset.agent]));
    assert.ok(agents.some(([text, p]) => text.includes('Agent Two') && p === 'busy'), JSON.stringify(agents));
    assert.ok(agents.some(([text]) => text.includes('Agent One')), JSON.stringify(agents));

    const cust = await customer('Wanda');
    const row = win.locator('[data-testid="team-conversation"][data-state="waiting"]').filter({ hasText: 'Wanda' });
    await row.waitFor({ timeout: T });
    // What she asked shows in the waiting list as soon as she writes it.
    await cust.page.getByTestId('chat-input').fill('Where is my refund?');
    await cust.page.getByTestId('chat-input').press('Enter');
    await row.getByTestId('team-first-message').filter({ hasText: 'Where is my refund?' }).waitFor({ timeout: T });
    await accessible(win, 'app: the team view');
    const agent2Id = agents.find(([text]) => text.includes('Agent Two'))[2];
    await row.getByTestId('assign-agent').selectOption(agent2Id);
    await win.shot('app-window-team.png');
    await row.getByTestId('assign').click();

    await win.locator('[data-testid="team-conversation"][data-state="active"]').filter({ hasText: 'Wanda' }).waitFor({ timeout: T });
    await cust.page.getByTestId('chat-input').fill('anyone there?');
    await cust.page.getByTestId('chat-input').press('Enter');
    await message(cust.page, 'agent', 'echo: anyone there?').waitFor({ timeout: T });
    await win.shot('app-window-team-assigned.png');

    // Reading it along: the transcript follows Wanda's typing and her next line live.
    const active = win.locator('[data-testid="team-conversation"][data-state="active"]').filter({ hasText: 'Wanda' });
    await active.getByTestId('team-open').click();
    const line = (text) => win.locator('[data-testid="transcript-line"]').filter({ hasText: text });
    await line('echo: anyone there?').waitFor({ timeout: T });
    await cust.page.getByTestId('chat-input').fill('one more thing');
    const typing = win.locator('[data-testid="transcript-typing"][data-author="customer"]');
    await typing.waitFor({ timeout: T });
    assert.equal(await typing.textContent(), 'Wanda is typing…');
    await accessible(win, 'app: a transcript read along');
    await win.shot('app-window-team-transcript-typing.png');
    await cust.page.getByTestId('chat-input').press('Enter');
    await line('echo: one more thing').waitFor({ timeout: T });
    await typing.waitFor({ state: 'detached', timeout: T });
    await win.keyboard.press('Escape');
    await win.getByTestId('supervisor-transcript').waitFor({ state: 'detached', timeout: T });

    assert.deepEqual(await pageErrors(), []);
    await cust.context.close();
    await signOut(win);
  } finally {
    await agent2.stop();
  }
});

test('the window speaks Spanish on a Spanish system (LANG=es_ES.UTF-8)', async () => {
  const es = await startWindow({ args: ['-hub', hub.url], lang: 'es_ES.UTF-8' });
  try {
    await es.getByTestId('signin-submit').waitFor({ timeout: T });
    assert.equal((await es.getByTestId('signin-submit').textContent()).trim(), 'Iniciar sesión');
    await es.shot('app-window-signin-es.png');
    await signIn(es, 'agent1');
    await es.getByTestId('presence').waitFor({ timeout: T });
    await es.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.value === 'available', null, { timeout: T });
    assert.equal(await es.locator('[data-testid="presence"] option:checked').textContent(), 'Disponible');
    const cust = await customer('Lucía');
    await cust.page.getByTestId('chat-input').fill('Hola, necesito ayuda');
    await cust.page.getByTestId('chat-input').press('Enter');
    // Wanda's chat went back to the front of the queue when the last test's Agent Two signed out
    // with it open: agent1 is offered it first, then Lucía.
    const offer = (name) => es.locator('[data-testid="offer"]').filter({ hasText: name });
    await offer('Wanda').waitFor({ timeout: T });
    await offer('Wanda').getByTestId('offer-accept').click();
    await offer('Lucía').waitFor({ timeout: T });
    assert.equal((await offer('Lucía').getByTestId('offer-accept').textContent()).trim(), 'Aceptar');
    await offer('Lucía').getByTestId('offer-accept').click();
    await message(es, 'customer', 'Hola, necesito ayuda').waitFor({ timeout: T });
    assert.equal((await es.getByTestId('end-conversation').textContent()).trim(), 'Finalizar');
    await es.shot('app-window-es.png');
    await es.getByTestId('end-conversation').click();
    await es.getByTestId('confirm-ok').click();
    await cust.page.getByTestId('chat-ended').waitFor({ timeout: T });
    await cust.context.close();
  } finally {
    await es.stop();
  }
});
