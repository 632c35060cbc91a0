// End-to-end test of the external visual engagement provider: a fake third-party co-browse site
// (a tiny HTTP server in this test), the organisation's admin choosing it, the REAL Wails app under
// Xvfb (driven through its dev server by Chromium) whose agent opens the provider tab, signs in to
// the provider (credentials kept in the real gnome-keyring of the private session bus this test
// runs in), creates a session and shares its PIN into the chat with one click, and a customer in
// the portal who sees the invitation, types the PIN and accepts: the provider's join page opens
// with that PIN. Screenshots go to test-results/.
//
// Run: make test-visual-e2e (it starts dbus-run-session and an unlocked gnome-keyring), or by hand
// inside such a session with PARLEY_APP (go build -tags dev,webkit2_41) and PARLEY_HUB set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { desktop, launchChromium, resultsDir, signIn, startApp, startHub } from './lib/index.mjs';

const T = 20_000;
const run = promisify(execFile);
const shots = resultsDir();

let hub, app, browser, provider;

/** fakeProvider is the third-party service: sign-in page, credentials check, session API, join page. */
function fakeProvider() {
  const seen = [];
  const authed = (req) => req.headers.authorization === 'Basic ' + Buffer.from('agent@acme:hunter2').toString('base64');
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.method === 'GET' && url.pathname === '/login') {
      res.setHeader('Content-Type', 'text/html');
      return res.end('<!doctype html><title>AcmeView</title><h1 data-testid="acme-login">AcmeView console</h1>');
    }
    if (url.pathname === '/api/me') {
      res.statusCode = authed(req) ? 200 : 401;
      return res.end();
    }
    if (req.method === 'POST' && url.pathname === '/api/sessions') {
      if (!authed(req)) {
        res.statusCode = 401;
        return res.end();
      }
      res.setHeader('Content-Type', 'application/json');
      return res.end(JSON.stringify({ session: { id: 'S-42', pin: '731904' } }));
    }
    if (url.pathname === '/join/S-42') {
      res.setHeader('Content-Type', 'text/html');
      return res.end(`<!doctype html><title>Join</title><h1 data-testid="acme-join">Joined with PIN ${url.searchParams.get('pin') === '731904' ? 'ok' : 'wrong'}</h1>`);
    }
    res.statusCode = 404;
    res.end();
  });
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${srv.address().port}`, seen, close: () => srv.close() })),
  );
}

/** setProvider makes the fake site the demo organisation's co-browse provider, as its admin. */
async function setProvider(change = {}) {
  const login = await (
    await fetch(`${hub.url}/api/v1/login`, { method: 'POST', body: JSON.stringify({ org: 'demo', username: 'admin1', password: 'demo' }) })
  ).json();
  const res = await fetch(`${hub.url}/api/v1/orgs/demo/settings/visual`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${login.token}` },
    body: JSON.stringify({
      cobrowse: {
        provider: 'external',
        external: {
          name: 'AcmeView',
          sign_in_url: `${provider.url}/login`,
          verify_url: `${provider.url}/api/me`,
          session_url: `${provider.url}/api/sessions`,
          session_id_pointer: '/session/id',
          pin_pointer: '/session/pin',
          join_url: `${provider.url}/join/{session}?pin={pin}`,
          ...change,
        },
      },
      screenshare: { provider: 'builtin-screenshare' },
    }),
  });
  assert.equal(res.status, 200, await res.text());
}

before(async () => {
  assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, 'run inside dbus-run-session with gnome-keyring (make test-visual-e2e)');
  provider = await fakeProvider();
  hub = await startHub();
  await setProvider();
  browser = await launchChromium();
  // The app runs in this test's session bus (the keyring).
  app = await startApp({ args: ['-hub', hub.url], readyTimeoutMs: 90_000 });
});

after(async () => {
  await browser?.close();
  await app?.stop();
  await hub?.stop();
  provider?.close();
});

test('external provider: tab, sign-in kept in the keyring, PIN shared into the chat, customer accepts', async () => {
  const agentCtx = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  const page = await agentCtx.newPage();
  await page.goto(app.url);
  await signIn(page, { hub: hub.url, user: 'agent1', timeout: T });

  const custCtx = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  const cust = await custCtx.newPage();
  await cust.goto(`${hub.url}/chat/demo`);
  await cust.getByTestId('prechat-name').fill('Ann');
  await cust.getByTestId('prechat-start').click();
  await cust.getByTestId('chat-input').fill('Can you help me fill in this form?');
  await cust.getByTestId('chat-input').press('Enter');
  await page.getByTestId('offer-accept').click({ timeout: T });

  // The computer icon next to End opens the provider tab with the provider's own page.
  await page.getByTestId('visual-engagement').click({ timeout: T });
  const tab = page.getByTestId('provider-tab');
  await tab.waitFor({ timeout: T });
  await page.getByTestId('visual-kind-cobrowse').click();
  await page.screenshot({ path: join(shots, 'visual-provider-agent-tab-open.png') });
  await page.frameLocator('[data-testid="provider-frame"]').getByTestId('acme-login').waitFor({ timeout: T });

  // A wrong password is refused by the provider; the right one is kept in the keyring.
  await page.getByTestId('provider-username').fill('agent@acme');
  await page.getByTestId('provider-password').fill('nope');
  await page.getByTestId('provider-sign-in').click();
  await page.locator('[data-testid="visual-error"][data-code="EUNAUTHORIZED"]').waitFor({ timeout: T });
  await page.getByTestId('provider-password').fill('hunter2');
  await page.getByTestId('provider-sign-in').click();
  await page.getByTestId('provider-signed-in').waitFor({ timeout: T });
  const { stdout } = await run('secret-tool', ['lookup', 'service', 'Parley visual provider', 'username', `${hub.url} demo AcmeView`]);
  assert.match(stdout, /hunter2/, 'the credentials are in the real keyring');

  // Create the session; share its PIN into the chat with one click.
  await page.getByTestId('visual-create').click();
  const pin = page.getByTestId('visual-pin-agent');
  await pin.waitFor({ timeout: T });
  assert.equal(await pin.textContent(), '731904');
  await page.screenshot({ path: join(shots, 'visual-provider-agent-tab.png') });
  await page.getByTestId('share-pin').click();
  await cust.locator('[data-testid="chat-message"][data-author="agent"]').filter({ hasText: '731904' }).waitFor({ timeout: T });

  // The customer sees the invitation, types the PIN and accepts: the provider's join page opens.
  const invite = cust.getByTestId('visual-invite');
  await invite.waitFor({ timeout: T });
  await cust.getByTestId('visual-pin').fill('000000');
  await cust.getByTestId('visual-accept').click();
  await cust.locator('[data-testid="visual-error"][data-code="EUNAUTHORIZED"]').waitFor({ timeout: T });
  await cust.screenshot({ path: join(shots, 'visual-provider-customer-invite.png') });
  await cust.getByTestId('visual-pin').fill('731904');
  const popup = custCtx.waitForEvent('page', { timeout: T });
  await cust.getByTestId('visual-accept').click();
  const joinPage = await popup;
  await joinPage.getByTestId('acme-join').waitFor({ timeout: T });
  assert.equal(await joinPage.getByTestId('acme-join').textContent(), 'Joined with PIN ok');
  await cust.getByTestId('visual-indicator').waitFor({ timeout: T });
  await page.locator('[data-testid="visual-engagement-state"][data-state="active"]').waitFor({ timeout: T });
  await cust.screenshot({ path: join(shots, 'visual-provider-customer-shared.png') });

  // The customer stops at any time; sign-out removes the keyring entry.
  await cust.getByTestId('visual-stop').click();
  await cust.getByTestId('visual-indicator').waitFor({ state: 'detached', timeout: T });
  await page.getByTestId('provider-sign-out').click();
  await page.getByTestId('provider-username').waitFor({ timeout: T });
  await assert.rejects(run('secret-tool', ['lookup', 'service', 'Parley visual provider', 'username', `${hub.url} demo AcmeView`]));

  // The form says where the password goes before the agent types it.
  const host = new URL(provider.url).host;
  assert.match(await page.getByTestId('provider-host').textContent(), new RegExp(`sends this username and password to ${host}`));
  await page.getByTestId('provider-password').fill('hunter2');
  await page.getByTestId('provider-sign-in').click();
  await page.getByTestId('provider-signed-in').waitFor({ timeout: T });

  // An admin keeps the provider's name and points its session URL at another server: the saved
  // password is dropped, not sent there, and the agent is told why and where it would go now.
  const other = await fakeProvider();
  try {
    await setProvider({ session_url: `${other.url}/api/sessions` });
    const moved = page.getByTestId('provider-moved');
    await moved.waitFor({ timeout: T });
    assert.equal(await moved.getAttribute('data-from'), host);
    assert.equal(await moved.getAttribute('data-to'), `${host}, ${new URL(other.url).host}`);
    assert.match(await moved.textContent(), /address changed from/);
    await page.screenshot({ path: join(shots, 'visual-provider-moved.png') });
    assert.deepEqual(other.seen, [], 'the new server received nothing');
    await assert.rejects(run('secret-tool', ['lookup', 'service', 'Parley visual provider', 'username', `${hub.url} demo AcmeView`]));
  } finally {
    other.close();
  }
  await agentCtx.close();
  await custCtx.close();
});
