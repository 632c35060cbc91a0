// End-to-end test of the managed settings in the agent app: the REAL Wails app (a dev build, which
// reads its policy from PARLEY_POLICY_FILE instead of /etc/parley/policy.json) under Xvfb against
// a real hub, its UI driven from headless Chromium through the Wails dev server. Screenshots of
// the sign-in screen with a locked hub, of a refused policy file and of the About box go to
// test-results/.
//
// Run: make test-app-policy-e2e (or node --test e2e/app-policy.test.mjs with PARLEY_APP pointing
// at a binary built with `go build -tags dev,webkit2_41`, and PARLEY_HUB at out/parley-hub).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { desktop, launchChromium, resultsDir, startApp as startAppUnder, startHub } from './lib/index.mjs';

const T = 20_000;
const shots = resultsDir();
let hub, browser, dir;

/** startApp runs the dev app under xvfb-run with a policy file; stop() ends its process group. */
function startApp(policyFile, args = []) {
  return startAppUnder({ args, env: { PARLEY_POLICY_FILE: policyFile, PARLEY_HUB: '' }, wait: false });
}

function policy(name, text) {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-policy-e2e-'));
  hub = await startHub();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await hub?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openUI(app, locale = 'en-US') {
  const context = await browser.newContext({ viewport: desktop, locale });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(app.url);
  return { context, page, errors };
}

test('a locked hub and organisation: the fields are locked and pre-filled, sign-in works, the About box says managed', async () => {
  const file = policy('locked.json', JSON.stringify({ hub_url: hub.url, org: 'demo', region: 'gcc', locked: ['hub_url', 'org', 'region'] }, null, 2));
  const app = await startApp(file);
  try {
    await app.ready();
    const { context, page, errors } = await openUI(app);
    const field = page.getByTestId('signin-hub');
    await page.getByTestId('signin-hub-locked').waitFor({ timeout: T });
    assert.equal(await field.inputValue(), hub.url);
    assert.equal(await field.getAttribute('readonly'), '');
    assert.equal(await page.getByTestId('signin-hub-locked').getAttribute('title'), 'Set by your organisation');
    await page.getByTestId('signin-org-locked').waitFor({ timeout: T });
    assert.equal(await page.getByTestId('signin-org').inputValue(), 'demo');
    assert.equal(await page.getByTestId('signin-org-name').textContent(), 'Demo Company');
    await page.getByTestId('signin-username').fill('agent1');
    await page.getByTestId('signin-password').fill('demo');
    await page.screenshot({ path: join(shots, 'app-policy-signin-locked.png') });
    await page.getByTestId('signin-submit').click();
    await page.getByTestId('about-open').click({ timeout: T });
    const about = page.getByTestId('about');
    await about.waitFor({ timeout: T });
    assert.equal(await page.getByTestId('about-hub').textContent(), hub.url);
    assert.equal(await page.getByTestId('about-managed').textContent(), 'Managed by your organisation');
    assert.equal(await page.getByTestId('about-policy-path').textContent(), file);
    assert.match(await page.getByTestId('about-version').textContent(), /\S/);
    assert.match(await page.getByTestId('about-license').textContent(), /open-source/);
    await page.screenshot({ path: join(shots, 'app-policy-about.png') });
    await page.keyboard.press('Escape');
    await about.waitFor({ state: 'detached', timeout: T });
    await page.getByTestId('sign-out').click();
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await app.stop();
  }
});

test('-hub to another hub than the locked one is refused at start', async () => {
  const file = policy('locked-other.json', JSON.stringify({ hub_url: 'https://parley.example.com', locked: ['hub_url'] }));
  const app = await startApp(file, ['-hub', hub.url]);
  const code = await Promise.race([app.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
  await app.stop();
  assert.notEqual(code, 0);
  assert.notEqual(code, 'still running');
  assert.ok(app.logs.some((l) => l.includes('locks the hub URL to https://parley.example.com')), app.logs.join('\n'));
});

test('a malformed policy file is shown with its file and line, and sign-in is off (Spanish too)', async () => {
  const file = policy('bad.json', '{\n  "hub_url": "https://parley.example.com",\n  "hubURL": "x"\n}\n');
  const app = await startApp(file, ['-hub', hub.url]);
  try {
    await app.ready();
    const { context, page, errors } = await openUI(app);
    const where = page.getByTestId('policy-error-where');
    await where.waitFor({ timeout: T });
    assert.match(await where.textContent(), new RegExp(`In ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}, line 3, column 3\\.`));
    assert.equal(await page.getByTestId('signin-submit').isDisabled(), true);
    await page.screenshot({ path: join(shots, 'app-policy-malformed.png') });
    await context.close();
    const es = await openUI(app, 'es-ES');
    await es.page.getByTestId('policy-error-where').waitFor({ timeout: T });
    assert.match(await es.page.getByTestId('policy-error-where').textContent(), /línea 3, columna 3/);
    await es.page.screenshot({ path: join(shots, 'app-policy-malformed-es.png') });
    await es.context.close();
    assert.deepEqual([...errors, ...es.errors], []);
  } finally {
    await app.stop();
  }
});
