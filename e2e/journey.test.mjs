// The IT journey of issue 11 as one end-to-end test, with the REAL release package of the hub:
// the hub .deb that `make dist-hub` builds is unpacked (dpkg-deb -x, so this machine's packages are
// left alone; test-dist installs it for real) and its /usr/bin/parley-hub runs on a scratch
// database. Then, as IT would: `parley-hub init` prints a setup link; the admin opens it in Chromium
// and chooses a password, signs in to the console and invites an agent and a supervisor; the agent
// opens her link, then signs in from the REAL agent app window (Xvfb, real X input) and takes a chat
// from a customer in the portal; the admin disables her mid-chat, the conversation goes back to the
// queue and the supervisor takes it with nothing lost; the audit log lists all of it.
// A second test turns on single sign-on against a real OpenID provider (internal/testidp, zitadel's
// op) from the console: the app signs in the RFC 8252 way — it asks the system browser (here
// Chromium, through an xdg-open on PATH) to open the hub, the person signs in at the provider, the
// code comes back to the app's loopback address — and the admin ends that session from the member's
// panel, which signs the window out.
//
// Run: make test-journey-e2e (needs dist/parley-hub_*.deb, out/parley-e2e, out/parley-agent and
// out/testidp). Screenshots go to test-results/journey-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary, desktop, launchChromium, resultsDir, root, start, startAgent, startWindow, watch } from './lib/index.mjs';

const T = 30_000; // how long any single expectation may take
const shots = resultsDir();
const ORG = 'acme';

let scratch, hubBin, hub, browser, win, idp, admin;
const stopLater = [];

/** deb is the hub package that `make dist-hub` wrote (PARLEY_HUB_DEB overrides). */
function deb() {
  if (process.env.PARLEY_HUB_DEB) return process.env.PARLEY_HUB_DEB;
  const dist = join(root, 'dist');
  const f = existsSync(dist) && readdirSync(dist).find((n) => /^parley-hub_.*_amd64\.deb$/.test(n));
  if (!f) throw new Error('no dist/parley-hub_*_amd64.deb: run make dist-hub');
  return join(dist, f);
}

/** cli runs the packaged parley-hub's subcommand with --json and returns its parsed output. */
function cli(...args) {
  const out = execFileSync(hubBin, [...args, '-db', join(scratch, 'var/lib/parley-hub/parley.db'), '-public-url', hub.url, '--json'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out);
}

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'parley-journey-'));
  execFileSync('dpkg-deb', ['-x', deb(), scratch]);
  hubBin = join(scratch, 'usr/bin/parley-hub');
  assert.ok(existsSync(hubBin), 'the package holds /usr/bin/parley-hub');
  execFileSync('mkdir', ['-p', join(scratch, 'var/lib/parley-hub')]);
  // The service's settings, as the package ships them (PARLEY_DB and the log format).
  const defaults = readFileSync(join(scratch, 'etc/default/parley-hub'), 'utf8');
  assert.match(defaults, /PARLEY_DB=/);
  const h = await start(hubBin, ['-addr', '127.0.0.1:0', '-db', join(scratch, 'var/lib/parley-hub/parley.db')], {
    ready: /listening on (http:\/\/[^\s"]+)/,
    name: 'hub',
  });
  hub = { ...h, url: h.match[1].replace(/\/$/, '') };
  stopLater.push(() => hub.stop());
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await win?.stop();
  for (const stop of stopLater.reverse()) await stop().catch(() => {});
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** open makes a page in a new context that fails the test on any script error. */
async function open({ viewport = desktop, locale = 'en-US' } = {}) {
  const context = await browser.newContext({ viewport, locale });
  const page = await context.newPage();
  return { context, page, errors: watch(page) };
}

/** setPassword opens a setup link and chooses a password on the hub's page. */
async function setPassword(link, username, password) {
  const p = await open();
  await p.page.goto(link);
  await p.page.getByTestId('setup-who').waitFor({ timeout: T });
  await p.page.getByTestId('setup-password').fill(password);
  await p.page.getByTestId('setup-confirm').fill(password);
  await p.page.getByTestId('setup-submit').click();
  await p.page.getByTestId('setup-done').filter({ hasText: username }).waitFor({ timeout: T });
  assert.deepEqual(p.errors, []);
  return p;
}

/** invite invites someone from the console's People page and returns the link shown once. */
async function invite(page, username, name, role) {
  await page.getByTestId('admin-nav-people').click();
  await page.getByTestId('people-invite').click();
  await page.getByTestId('invite-username').fill(username);
  await page.getByTestId('invite-name').fill(name);
  await page.getByTestId('invite-role').selectOption(role);
  await page.getByTestId('invite-submit').click();
  const link = await page.getByTestId('link-url').inputValue({ timeout: T });
  assert.match(link, new RegExp(`^${hub.url}/setup#.{20,}`));
  await page.getByTestId('link-done').click();
  return link;
}

/** memberPanel opens a member's panel from the People page. */
async function memberPanel(page, username) {
  await page.getByTestId('admin-nav-people').click();
  await page.getByTestId('people-search').fill(username);
  await page.getByTestId('people-row').filter({ hasText: username }).first().click();
  await page.getByTestId('member-panel').waitFor({ timeout: T });
}

function message(page, author, text) {
  return page.locator(`[data-testid="chat-message"][data-author="${author}"]`).filter({ hasText: text });
}

test('IT installs the hub package, runs init, the admin invites people, the agent signs in from the app and takes a chat, the admin disables her mid-chat', async () => {
  // 1. parley-hub init on the packaged binary prints a one-time setup link (no password anywhere).
  const init = cli('init', '--org', ORG, '--name', 'Acme Insurance', '--admin', 'boss', '--email', 'boss@acme.test');
  assert.equal(init.org.id, ORG);
  assert.match(init.setup_link, new RegExp(`^${hub.url}/setup#.{20,}`));
  assert.equal(cli('org', 'list').orgs.length, 1);

  // 2. The admin opens the link in Chromium and chooses a password: she lands in the console,
  // signed in. The link works once.
  admin = await open();
  const page = admin.page;
  await page.goto(init.setup_link);
  await page.getByTestId('setup-who').filter({ hasText: 'boss' }).waitFor({ timeout: T });
  await page.getByTestId('setup-password').fill('harbour-violet-2231');
  await page.getByTestId('setup-confirm').fill('harbour-violet-2231');
  await page.getByTestId('setup-submit').click();
  await page.getByTestId('admin-sign-out').waitFor({ timeout: T });
  assert.equal(new URL(page.url()).pathname, `/admin/${ORG}`);
  assert.equal((await page.getByTestId('admin-org-name').textContent()).trim(), 'Acme Insurance');
  assert.match(await page.getByTestId('admin-me').textContent(), /boss/);
  const again = await open();
  await again.page.goto(init.setup_link);
  await again.page.getByTestId('setup-error').waitFor({ timeout: T });
  await again.context.close();

  // 3. She invites an agent and a supervisor.
  const kimLink = await invite(page, 'kim', 'Kim Agent', 'agent');
  const samLink = await invite(page, 'sam', 'Sam Supervisor', 'supervisor');
  await page.screenshot({ path: join(shots, 'journey-console-people.png'), fullPage: true });

  // 4. The agent opens her link and chooses a password; the supervisor too.
  await (await setPassword(kimLink, 'kim', 'meadow-copper-7781')).context.close();
  await (await setPassword(samLink, 'sam', 'granite-otter-5140')).context.close();

  // 5. The agent signs in from the real app window: hub address, organisation, then her password.
  win = await startWindow({ args: [] });
  await win.getByTestId('signin-hub').waitFor({ timeout: T });
  // A first start suggests no hub and no organisation (no "demo" outside the demo).
  assert.deepEqual(await win.evaluate(() => ['hub', 'org'].map((f) => document.querySelector(`[data-testid="signin-${f}"]`).value)), ['', '']);
  await win.getByTestId('signin-hub').fill(hub.url);
  await win.getByTestId('signin-org').fill(ORG);
  await win.keyboard.press('Tab'); // leaving the field looks the organisation up
  await win.getByTestId('signin-org-name').filter({ hasText: 'Acme Insurance' }).waitFor({ timeout: T });
  await win.getByTestId('signin-username').fill('kim');
  await win.getByTestId('signin-password').fill('meadow-copper-7781');
  await win.keyboard.press('Enter');
  await win.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.value === 'available', null, { timeout: T });

  // 6. A customer chats from the portal; the agent takes the chat and answers.
  const cust = await open();
  await cust.page.goto(`${hub.url}/chat/${ORG}`);
  await cust.page.getByTestId('prechat-name').fill('Priya');
  await cust.page.getByTestId('prechat-start').click();
  await cust.page.getByTestId('chat-input').waitFor({ timeout: T });
  await cust.page.getByTestId('chat-input').fill('My claim form will not upload');
  await cust.page.getByTestId('chat-input').press('Enter');
  await win.getByTestId('offer-accept').waitFor({ timeout: T });
  await win.getByTestId('offer-accept').click();
  await message(win, 'customer', 'My claim form will not upload').waitFor({ timeout: T });
  await win.getByTestId('chat-input').fill('Hi Priya, I can help with that.');
  await win.getByTestId('chat-input').press('Enter');
  await message(cust.page, 'agent', 'Hi Priya, I can help with that.').waitFor({ timeout: T });
  await new Promise((r) => setTimeout(r, 2000)); // a settled frame for the X screenshot
  await win.shot('journey-app-chat.png');

  // The admin sees the agent's app session in her panel.
  await memberPanel(page, 'kim');
  await page.getByTestId('member-session').first().waitFor({ timeout: T });
  assert.match(await page.getByTestId('member-session').first().textContent(), /app/i);
  await page.screenshot({ path: join(shots, 'journey-console-member.png') });

  // 7. The supervisor signs in (a supervisor, by the role the admin gave), and a second agent, added
  // by an IT script with `parley-hub user add`, comes on shift (the headless agent, taking offers).
  const samLogin = await fetch(`${hub.url}/api/v1/login`, { method: 'POST', body: JSON.stringify({ org: ORG, username: 'sam', password: 'granite-otter-5140' }) });
  assert.equal(samLogin.status, 200);
  assert.equal((await samLogin.json()).user.role, 'supervisor');
  const lee = cli('user', 'add', '--org', ORG, 'lee', '--name', 'Lee Agent', '--role', 'agent');
  assert.equal(lee.member.role, 'agent');
  await (await setPassword(lee.setup_link, 'lee', 'saffron-kettle-3307')).context.close();
  const leeAgent = await startAgent(hub.url, { user: 'lee', password: 'saffron-kettle-3307', org: ORG, args: ['-accept', '-reply-echo'] });
  stopLater.push(() => leeAgent.stop());

  // 8. The admin disables the agent mid-chat: her window signs out and says why, the customer reads
  // a system line, the conversation goes back to the queue and the supervisor takes it.
  await page.getByTestId('member-toggle').click();
  await page.getByTestId('member-confirm-yes').click();
  await page.getByTestId('member-status').waitFor({ timeout: T });
  await page.getByTestId('member-no-sessions').waitFor({ timeout: T });
  await page.getByTestId('member-close').click();
  await win.getByTestId('signin-username').waitFor({ timeout: T });
  await win.getByTestId('toast').filter({ hasText: 'an admin ended it' }).waitFor({ timeout: T });
  await message(cust.page, 'system', 'back in the queue').first().waitFor({ timeout: T });
  await cust.page.getByTestId('chat-input').fill('Are you still there?');
  await cust.page.getByTestId('chat-input').press('Enter');
  await message(cust.page, 'agent', 'Are you still there?').waitFor({ timeout: T }); // Lee's echo
  // Nothing lost: the customer still reads her first message and Kim's answer.
  await message(cust.page, 'customer', 'My claim form will not upload').waitFor({ timeout: T });
  await message(cust.page, 'agent', 'Hi Priya, I can help with that.').waitFor({ timeout: T });
  // The disabled agent cannot sign in again: the window says so in a sentence.
  await win.getByTestId('signin-password').fill('meadow-copper-7781');
  await win.keyboard.press('Enter');
  await win.getByTestId('signin-error').filter({ hasText: 'disabled' }).waitFor({ timeout: T });
  await win.shot('journey-app-disabled.png');
  assert.deepEqual(cust.errors, []);
  await cust.context.close();

  // 9. The audit log lists all of it, with who did it and from where.
  await page.getByTestId('admin-nav-audit').click();
  const audit = page.getByTestId('audit-row');
  for (const [action, target, who] of [
    ['org.create', ORG, ''],
    ['member.password_set', 'boss', ''],
    ['member.invite', 'kim', 'boss'],
    ['member.invite', 'sam', 'boss'],
    ['member.password_set', 'kim', ''],
    ['session.signin', 'kim', ''],
    ['member.invite', 'lee', ''],
    ['member.disable', 'kim', 'boss'],
  ]) {
    const row = page.locator(`[data-testid="audit-row"][data-action="${action}"]`).filter({ hasText: target }).first();
    await row.waitFor({ timeout: T });
    if (who) assert.match(await row.textContent(), new RegExp(`${who}[\\s\\S]*127\\.0\\.0\\.1`));
  }
  assert.ok((await audit.count()) >= 8);
  await page.screenshot({ path: join(shots, 'journey-console-audit.png'), fullPage: true });
  assert.deepEqual(admin.errors, []);
});

test('single sign-on from the console, the app signs in through the system browser (RFC 8252), the admin ends that session', async () => {
  assert.ok(admin, 'runs after the first test');
  const page = admin.page;
  // A real OpenID provider with Ann in the group "agents", and the hub registered as its client.
  const p = await start(binary('testidp', 'PARLEY_TESTIDP'), [
    '-client', `parley:idp-s3cret:${hub.url}/sso/callback`,
    '-user', 'u1:ann:ann-idp-pw:ann@acme.test:agents',
  ], { ready: /^issuer (http:\/\/\S+)/, name: 'idp' });
  stopLater.push(() => p.stop());
  const issuer = p.match[1];

  // The admin turns it on in the Organisation page.
  await page.getByTestId('admin-nav-organisation').click();
  await page.getByTestId('sso-form').waitFor({ timeout: T });
  if (!(await page.getByTestId('sso-enabled').isChecked())) await page.getByTestId('sso-enabled').check();
  await page.getByTestId('sso-name').fill('Acme Login');
  await page.getByTestId('sso-issuer').fill(issuer);
  await page.getByTestId('sso-client-id').fill('parley');
  await page.getByTestId('sso-client-secret').fill('idp-s3cret');
  await page.getByTestId('sso-domains').fill('acme.test');
  await page.getByTestId('sso-agent-groups').fill('agents');
  await page.getByTestId('sso-save').click();
  await page.getByTestId('sso-status').waitFor({ timeout: T });
  await page.screenshot({ path: join(shots, 'journey-console-sso.png'), fullPage: true });

  // The app's "system browser": an xdg-open on PATH that hands the address to the test, which opens
  // it in Chromium as a person's browser would.
  const bin = mkdtempSync(join(tmpdir(), 'parley-xdg-'));
  const opened = join(bin, 'opened');
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$1" >> '${opened}'\n`);
  chmodSync(join(bin, 'xdg-open'), 0o755);
  stopLater.push(async () => rmSync(bin, { recursive: true, force: true }));
  await win.stop();
  win = await startWindow({ args: [], env: { PATH: `${bin}:${process.env.PATH}` } });
  await win.getByTestId('signin-hub').waitFor({ timeout: T });
  await win.getByTestId('signin-hub').fill(hub.url);
  await win.getByTestId('signin-org').fill(ORG);
  await win.keyboard.press('Tab');
  const sso = win.getByTestId('signin-sso');
  await sso.filter({ hasText: 'Acme Login' }).waitFor({ timeout: T });
  await sso.click();
  await win.getByTestId('signin-sso-waiting').waitFor({ timeout: T });
  const deadline = Date.now() + T;
  while (!existsSync(opened) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const url = readFileSync(opened, 'utf8').trim();
  assert.ok(url.startsWith(`${hub.url}/sso/start?`), url);
  const q = new URL(url).searchParams;
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.equal(new URL(q.get('redirect_uri')).hostname, '127.0.0.1');

  const b = await open();
  await b.page.goto(url);
  await b.page.getByTestId('idp-username').fill('ann');
  await b.page.getByTestId('idp-password').fill('ann-idp-pw');
  await b.page.getByTestId('idp-submit').click();
  // The provider sends the browser to the hub, the hub to the app's loopback address.
  await b.page.waitForURL((u) => u.hostname === '127.0.0.1' && u.port === new URL(q.get('redirect_uri')).port, { timeout: T });
  await b.page.screenshot({ path: join(shots, 'journey-browser-done.png') });
  await win.waitForFunction(() => document.querySelector('[data-testid="presence"]') !== null, null, { timeout: T });
  await b.context.close();

  // The admin sees Ann (created at her first sign-in, an agent by her group) with an app session
  // through single sign-on, and ends it: the window signs out.
  await memberPanel(page, 'ann@acme.test');
  const session = page.getByTestId('member-session').first();
  await session.waitFor({ timeout: T });
  assert.match(await session.textContent(), /single sign-on/i);
  assert.equal(await page.getByTestId('member-role').inputValue(), 'agent');
  await page.screenshot({ path: join(shots, 'journey-console-sessions.png') });
  await page.getByTestId('member-end-session').first().click();
  await page.getByTestId('member-no-sessions').waitFor({ timeout: T });
  await win.getByTestId('signin-hub').waitFor({ timeout: T });
  await win.getByTestId('toast').filter({ hasText: 'an admin ended it' }).waitFor({ timeout: T });
  await win.shot('journey-app-ended.png');
  await page.getByTestId('member-close').click();

  await page.getByTestId('admin-nav-audit').click();
  for (const [action, target] of [['settings.sso', ORG], ['member.invite', 'ann@acme.test'], ['session.signin', 'ann@acme.test'], ['session.end', 'ann@acme.test']]) {
    await page.locator(`[data-testid="audit-row"][data-action="${action}"]`).filter({ hasText: target }).first().waitFor({ timeout: T });
  }
  assert.deepEqual(admin.errors, []);
  await admin.context.close();
});
