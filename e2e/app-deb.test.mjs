// The shipped Linux app takes a chat: the release binary as the .deb installs it (no test harness
// compiled in, no demo hub: that is make demo's build only) runs under Xvfb against a hub
// (PARLEY_HUB, parley-hub -demo), the agent signs in by typing into the window, a customer chats
// from the portal in Chromium, and the agent takes the offer with Alt+A and answers by typing,
// all with real X keys. What the customer reads is the proof; an X screenshot of the window goes to
// test-results/app-deb-chat.png.
//
// Run: by scripts/dist/test-dist.sh after installing the .deb (PARLEY_APP_BIN=/usr/bin/parley,
// PARLEY_HUB=out/parley-hub), or node --test e2e/app-deb.test.mjs with PARLEY_APP_BIN naming a
// release build.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { desktop, launchChromium, resultsDir, startHub, watch } from './lib/index.mjs';

const run = promisify(execFile);
const T = 60_000;
const BIN = process.env.PARLEY_APP_BIN || '/usr/bin/parley';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let app, browser, hub;
after(async () => {
  await browser?.close();
  await app?.stop();
  await hub?.stop();
});

/**
 * startRelease runs bin under its own Xvfb (fresh XDG folders, as on a new desktop) with the hub
 * and organisation filled in, and resolves with its display and stop().
 */
async function startRelease(bin, hubURL) {
  const home = mkdtempSync(join(tmpdir(), 'parley-deb-'));
  const xdg = Object.fromEntries(['config', 'data', 'cache'].map((d) => [`XDG_${d.toUpperCase()}_HOME`, join(home, d)]));
  for (const d of Object.values(xdg)) mkdirSync(d);
  const proc = spawn(
    'xvfb-run',
    ['-a', '-s', '-screen 0 1280x800x24 -nolisten tcp -r', 'sh', '-c', 'echo "xdisplay $DISPLAY $XAUTHORITY"; exec "$0" "$@"',
      bin, '-hub', hubURL, '-org', 'demo', '-devices', 'test-pattern'],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...xdg, LANG: 'en_US.UTF-8', LC_ALL: '', LANGUAGE: '', GDK_BACKEND: 'x11' } },
  );
  const logs = [];
  let display;
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  for (const s of [proc.stdout, proc.stderr]) {
    s.setEncoding('utf8');
    s.on('data', (chunk) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        logs.push(line);
        display ??= line.match(/xdisplay (\S+) (\S+)/);
      }
    });
  }
  const kill = (sig) => {
    try {
      process.kill(-proc.pid, sig);
    } catch {}
  };
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(home, { recursive: true, force: true });
  };
  process.on('exit', () => kill('SIGKILL'));
  for (const end = Date.now() + T; !display; await sleep(100)) {
    if (Date.now() > end || proc.exitCode !== null) {
      await stop();
      throw new Error(`${bin} did not start: ${logs.join('\n')}`);
    }
  }
  const env = { ...process.env, DISPLAY: display[1], XAUTHORITY: display[2] };
  const xdo = (...args) => run('xdotool', args, { env, timeout: 20_000 });
  return { env, xdo, logs, stop };
}

/** loosely matches text as typed on a loaded machine, where a key may come out twice. */
const typed = (text) => new RegExp(text.split('').map((c) => `${c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}+`).join(''));

test('the installed release app under Xvfb takes a portal chat with Alt+A and answers it', async () => {
  statSync(BIN); // a clear error when the binary is missing
  hub = await startHub();
  app = await startRelease(BIN, hub.url);
  // The window: mapped once GTK has shown it.
  const { stdout } = await app.xdo('search', '--sync', '--onlyvisible', '--name', '^Parley$');
  const wid = stdout.trim().split('\n')[0];
  assert.ok(wid, 'the app shows a window named Parley');

  // Sign-in: hub and organisation are filled in, so the cursor waits in the username field once
  // the hub has answered for the organisation.
  await sleep(5000);
  await app.xdo('windowfocus', '--sync', wid);
  await app.xdo('type', '--delay', '60', 'agent1');
  await app.xdo('key', 'Tab');
  await app.xdo('type', '--delay', '60', 'demo');
  await app.xdo('key', 'Return');

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  context.setDefaultTimeout(T);
  const page = await context.newPage();
  const errors = watch(page);
  await page.goto(`${hub.url}/chat/demo`);
  await page.getByTestId('prechat-name').fill('Ines');
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('chat-input').fill('hello, is anyone there?');
  await page.getByTestId('chat-input').press('Enter');

  // The agent takes the offer with Alt+A. The offer reaches the window a
  // moment after the customer writes: press again until the customer sees the agent join.
  const joined = page.locator('[data-testid="chat-message"][data-author="system"]').filter({ hasText: 'joined' });
  for (const end = Date.now() + T; !(await joined.count()); await sleep(1000)) {
    if (Date.now() > end) throw new Error(`the agent never took the chat; app output:\n${app.logs.join('\n')}`);
    await app.xdo('windowfocus', '--sync', wid);
    await app.xdo('key', '--clearmodifiers', 'alt+a');
  }

  // The accepted chat puts the cursor in the composer: the agent types and sends with Enter.
  await sleep(1000);
  await app.xdo('type', '--delay', '60', 'Hi Ines, how can I help');
  await app.xdo('key', 'Return');
  const reply = page.locator('[data-testid="chat-message"][data-author="agent"]');
  await reply.first().waitFor({ timeout: T });
  assert.match(await reply.first().textContent(), typed('Hi Ines, how can I help'));

  // The window as the agent sees it.
  await sleep(3000); // WebKitGTK paints a moment after the DOM changes
  const file = join(resultsDir(), 'app-deb-chat.png');
  await run('import', ['-window', 'root', file], { env: app.env, timeout: 20_000 });
  assert.ok(statSync(file).size > 10_000, 'the screenshot shows the window');
  assert.deepEqual(errors, []);
  await context.close();
});
