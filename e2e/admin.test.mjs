// End-to-end test of the organisation admin's console (/admin/{org}) in real headless Chromium
// against the real hub (fresh SQLite database, demo organisation): sign in, invite a person who
// sets a password on the hub's setup page, change the organisation's settings, read the audit log,
// sign out (the hub ends the session); and the console at 360 px in Spanish.
// Run: make test-admin-e2e (or node --test e2e/admin.test.mjs with out/parley-hub built or
// PARLEY_HUB pointing at it). Screenshots go to test-results/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startHub, launchChromium, resultsDir, desktop, phone } from './lib/index.mjs';

const T = 20_000; // how long any single expectation may take

let hub, browser;
const shots = resultsDir();

before(async () => {
  hub = await startHub();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

/** open makes a page in a new context that fails the test on any script error. */
async function open({ viewport = desktop, locale = 'en-US' } = {}) {
  const context = await browser.newContext({ viewport, locale });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(new Error(m.text()));
  });
  return { context, page, errors };
}

async function signIn(page, user = 'admin1', password = 'demo') {
  await page.goto(`${hub.url}/admin/demo`);
  await page.getByTestId('admin-username').fill(user);
  await page.getByTestId('admin-password').fill(password);
  await page.getByTestId('admin-signin').getByRole('button').click();
  await page.getByTestId('admin-sign-out').waitFor({ timeout: T });
}

/** api calls the hub's API as the holder of token. */
async function api(method, path, token, body) {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

test('an admin signs in, invites an agent who sets a password, changes the organisation, reads it all in the audit log and signs out', async () => {
  const { context, page, errors } = await open();
  await signIn(page);
  // The header says which organisation this is and who is signed in.
  assert.equal((await page.getByTestId('admin-org-name').textContent()).trim(), 'Demo Company');
  assert.match(await page.getByTestId('admin-me').textContent(), /Admin One/);
  await page.getByTestId('people-row').first().waitFor({ timeout: T });
  const token = await page.evaluate(() => sessionStorage.getItem('parley-admin:demo'));
  assert.ok(token, 'the console keeps its token for the tab');

  // Invite: a bad username is refused with a sentence and nothing is created.
  await page.getByTestId('people-invite').click();
  await page.getByTestId('invite-username').fill('Rosa Díaz!');
  await page.getByTestId('invite-name').fill('Rosa Díaz');
  await page.getByTestId('invite-submit').click();
  await page.getByTestId('invite-error').filter({ hasText: 'the username takes lower-case letters' }).waitFor({ timeout: T });
  assert.equal((await api('GET', '/api/v1/orgs/demo/members?q=rosa', token)).body.members?.length ?? 0, 0);

  await page.getByTestId('invite-username').fill('rosa.diaz');
  await page.getByTestId('invite-role').selectOption('agent');
  await page.getByTestId('invite-capacity').fill('2');
  await page.getByTestId('invite-submit').click();
  const link = await page.getByTestId('link-url').inputValue({ timeout: T });
  assert.match(link, new RegExp(`^${hub.url}/setup#.{20,}`));
  await page.screenshot({ path: join(shots, 'admin-link-laptop.png') });
  await page.getByTestId('link-done').click();
  await page.getByTestId('people-search').fill('rosa');
  const row = page.getByTestId('people-row').filter({ hasText: 'rosa.diaz' });
  await row.waitFor({ timeout: T });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="people-row"]').length === 1, null, { timeout: T });
  assert.match(await row.textContent(), /Invited/);

  // The invitee opens the link on the hub's setup page: a weak password is refused, then set.
  const invitee = await open();
  await invitee.page.goto(link);
  assert.match(await invitee.page.getByTestId('setup-who').textContent({ timeout: T }), /Rosa Díaz/);
  assert.ok(!invitee.page.url().includes('#'), 'the secret leaves the address bar');
  await invitee.page.getByTestId('setup-password').fill('password123');
  await invitee.page.getByTestId('setup-confirm').fill('password123');
  await invitee.page.getByTestId('setup-submit').click();
  await invitee.page.getByTestId('setup-error').filter({ hasText: 'Choose a stronger password' }).waitFor({ timeout: T });
  await invitee.page.getByTestId('setup-password').fill('copper-lantern-1987');
  await invitee.page.getByTestId('setup-confirm').fill('copper-lantern-1987');
  await invitee.page.getByTestId('setup-submit').click();
  await invitee.page.getByTestId('setup-done').filter({ hasText: 'rosa.diaz' }).waitFor({ timeout: T });
  assert.deepEqual(invitee.errors, []);
  await invitee.context.close();
  const login = await api('POST', '/api/v1/login', '', { org: 'demo', username: 'rosa.diaz', password: 'copper-lantern-1987' });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  assert.equal(login.body.user.role, 'agent');
  // The same link does not work twice.
  const again = await api('POST', '/api/v1/setup/info', '', { token: link.split('#')[1] });
  assert.notEqual(again.status, 200);

  // The admin's list shows her active now; her display name and capacity change from her panel.
  await page.getByTestId('people-search').fill('rosa.');
  await page.getByTestId('people-row').filter({ hasText: 'Active' }).waitFor({ timeout: T });
  await page.getByTestId('people-row').first().click();
  await page.getByTestId('member-name').fill('Rosa Díaz Ruiz');
  await page.getByTestId('member-capacity').fill('4');
  await page.getByTestId('member-save').click();
  await page.getByTestId('member-status').waitFor({ timeout: T });
  const members = (await api('GET', '/api/v1/orgs/demo/members?q=rosa', token)).body.members;
  assert.equal(members.length, 1);
  assert.equal(members[0].display_name, 'Rosa Díaz Ruiz');
  assert.equal(members[0].capacity, 4);
  await page.getByTestId('member-close').click();

  // Organisation settings: the name (the header follows), then the auto-close time.
  await page.getByTestId('admin-nav-organisation').click();
  await page.getByTestId('org-name').fill('Demo Company Ltd');
  await page.getByTestId('org-save').click();
  await page.getByTestId('org-status').waitFor({ timeout: T });
  await page.getByTestId('admin-org-name').filter({ hasText: 'Demo Company Ltd' }).waitFor({ timeout: T });
  await page.getByTestId('admin-autoclose-minutes').fill('15');
  await page.getByTestId('admin-autoclose-save').click();
  await page.getByTestId('admin-autoclose-status').filter({ hasText: 'Saved.' }).waitFor({ timeout: T });
  assert.equal((await api('GET', '/api/v1/orgs/demo/settings/auto-close', token)).body.after_s, 900);
  // Call recording: ask the customer, kept 30 days.
  await page.getByTestId('admin-recording-ask').check();
  await page.getByTestId('admin-recording-days').fill('30');
  await page.getByTestId('admin-recording-save').click();
  await page.getByTestId('admin-recording-status').filter({ hasText: 'Saved.' }).waitFor({ timeout: T });
  assert.deepEqual((await api('GET', '/api/v1/orgs/demo/settings/recording', token)).body, { mode: 'ask', retention_days: 30 });
  // Supervisors on calls: the customer and the agent are told when one listens or whispers.
  assert.equal(await page.getByTestId('admin-monitoring-notice').isChecked(), false, 'no notice until an admin asks for one');
  await page.getByTestId('admin-monitoring-notice').check();
  await page.getByTestId('admin-monitoring-save').click();
  await page.getByTestId('admin-monitoring-status').filter({ hasText: 'Saved.' }).waitFor({ timeout: T });
  assert.deepEqual((await api('GET', '/api/v1/orgs/demo/settings/monitoring', token)).body, { notice: true });
  await page.getByTestId('admin-monitoring').screenshot({ path: join(shots, 'admin-monitoring-notice.png') });
  // A queue records every call although the organisation asks: the Routing page overrides it.
  await page.getByTestId('admin-nav-queues').click();
  const general = page.locator('[data-testid="queue-card"][data-queue="general"]');
  await general.getByTestId('queue-edit').click();
  assert.equal(await page.getByTestId('queue-recording').inputValue(), '', 'a queue starts as the organisation');
  await page.getByTestId('queue-recording').selectOption('always');
  await page.getByTestId('queue-dialog').screenshot({ path: join(shots, 'admin-queue-recording.png') });
  await page.getByTestId('queue-save').click();
  await general.getByTestId('queue-overrides').filter({ hasText: 'recording: always' }).waitFor({ timeout: T });
  const routing = (await api('GET', '/api/v1/orgs/demo/routing', token)).body;
  assert.equal(routing.queues.find((q) => q.id === 'general').recording, 'always');
  await page.getByTestId('admin-nav-organisation').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="admin-wrapup-codes"]')?.value, null, { timeout: T });
  assert.equal((await api('GET', '/api/v1/orgs/demo', token)).body.name, 'Demo Company Ltd');
  // The wrap-up step: the default codes are listed; the admin sets their own and a wrap-up time.
  assert.match(await page.getByTestId('admin-wrapup-codes').inputValue(), /^resolved: Resolved\n/);
  await page.getByTestId('admin-wrapup-codes').fill('bad code: Bad');
  await page.getByTestId('admin-wrapup-save').click();
  await page.getByTestId('admin-wrapup-status').filter({ hasText: 'Each line needs a code' }).waitFor({ timeout: T });
  await page.getByTestId('admin-wrapup-codes').fill('sold: Sale made\ncallback: Call back tomorrow');
  await page.getByTestId('admin-wrapup-seconds').fill('90');
  await page.getByTestId('admin-wrapup-save').click();
  await page.getByTestId('admin-wrapup-status').filter({ hasText: 'Saved.' }).waitFor({ timeout: T });
  const wu = (await api('GET', '/api/v1/orgs/demo/settings/wrap-up', token)).body;
  assert.deepEqual(wu, { codes: [{ id: 'sold', label: 'Sale made' }, { id: 'callback', label: 'Call back tomorrow' }], limit_s: 90 });
  await page.screenshot({ path: join(shots, 'admin-organisation-laptop.png'), fullPage: true });

  // The audit log lists each change with who made it and from where.
  await page.getByTestId('admin-nav-audit').click();
  const audit = page.getByTestId('audit-row');
  for (const [what, on] of [
    ['Member invited', 'rosa.diaz'],
    ['Password set', 'rosa.diaz'],
    ['Member changed', 'rosa.diaz'],
    ['Organisation changed', 'demo'],
    ['Auto-close time changed', 'demo'],
    ['Wrap-up step changed', 'demo'],
  ]) {
    await audit.filter({ hasText: what }).filter({ hasText: on }).first().waitFor({ timeout: T });
  }
  const orgRow = await audit.filter({ hasText: 'Organisation changed' }).first().textContent();
  assert.match(orgRow, /admin1/);
  assert.match(orgRow, /127\.0\.0\.1/);
  await page.screenshot({ path: join(shots, 'admin-audit-laptop.png'), fullPage: true });

  // Sign-out ends the session on the hub, not only in the tab.
  await page.getByTestId('admin-sign-out').click();
  await page.getByTestId('admin-username').waitFor({ timeout: T });
  assert.equal((await api('GET', '/api/v1/me', token)).status, 401);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('parley-admin:demo')), null);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the console at 360 px in Spanish: header, navigation and pages fit the width; an invitation error is a Spanish sentence', async () => {
  const { context, page, errors } = await open({ viewport: phone, locale: 'es-ES' });
  await signIn(page);
  await page.getByTestId('people-row').first().waitFor({ timeout: T });
  assert.equal((await page.getByTestId('admin-sign-out').textContent()).trim(), 'Cerrar sesión');
  const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.ok(await fits(), 'the people page fits 360 px');
  for (const p of ['people', 'queues', 'replies', 'organisation', 'providers', 'audit']) assert.ok(await page.getByTestId(`admin-nav-${p}`).isVisible(), p);
  await page.screenshot({ path: join(shots, 'admin-people-phone-es.png'), fullPage: true });

  await page.getByTestId('people-invite').click();
  await page.getByTestId('invite-username').fill('agent1');
  await page.getByTestId('invite-name').fill('Otro agente');
  await page.getByTestId('invite-submit').click();
  await page.getByTestId('invite-error').filter({ hasText: 'Ese usuario ya existe en esta organización' }).waitFor({ timeout: T });
  assert.ok(await fits(), 'the invitation fits 360 px');
  await page.screenshot({ path: join(shots, 'admin-invite-phone-es.png') });
  await page.keyboard.press('Escape');
  await page.getByTestId('invite-dialog').waitFor({ state: 'detached', timeout: T });

  for (const p of ['organisation', 'audit']) {
    await page.getByTestId(`admin-nav-${p}`).click();
    await page.waitForFunction((id) => document.querySelector(`[data-testid="admin-nav-${id}"]`)?.getAttribute('aria-current') === 'page', p, { timeout: T });
    if (p === 'organisation') await page.getByTestId('org-form').waitFor({ timeout: T });
    else {
      await page.getByTestId('audit-row').first().waitFor({ timeout: T });
      // The details are Spanish too: the hub's "role agent, capacity 3" reads "rol agente, capacidad 3".
      const details = await page.locator('[data-testid="audit-row"] .detail').allTextContents();
      assert.ok(details.some((d) => /^rol agente, capacidad \d+$/.test(d)), details.join(' | '));
      assert.ok(!details.some((d) => /\b(role|capacity|sessions ended|password)\b/.test(d)), details.join(' | '));
    }
    assert.ok(await fits(), `the ${p} page fits 360 px`);
    await page.screenshot({ path: join(shots, `admin-${p}-phone-es.png`), fullPage: true });
  }
  assert.deepEqual(errors, []);
  await context.close();
});
