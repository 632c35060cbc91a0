// The real agent desktop app in end-to-end tests: a Wails dev build (its UI is also served with
// working Go bindings by the Wails dev server) under xvfb-run, X screenshots of its window, and
// signing in through its UI.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resultsDir, root } from './paths.mjs';

const run = promisify(execFile);

/** freePort returns a loopback port nobody listens on now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** waitHTTP polls url until it answers 200 (bounded). */
export async function waitHTTP(url, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** appBinary returns the dev build of the app: $PARLEY_APP, else out/parley-dev. */
export function appBinary() {
  return process.env.PARLEY_APP || join(root, 'out', 'parley-dev');
}

/**
 * startApp runs the Wails dev build under xvfb-run with args (e.g. ['-hub', url]) and extra env
 * (e.g. PARLEY_POLICY_FILE). xvfb-run, Xvfb and the app form their own process group, so stop()
 * ends all three. By default it resolves once the dev server answers (within readyTimeoutMs) and
 * the display is known, so xshot can take X screenshots; with { wait: false } it resolves at once
 * and the caller awaits ready() or exited (the exit code). Assets come from $PARLEY_APP_ASSETS,
 * else frontend/dist.
 */
export async function startApp({ args = [], env = {}, wait = true, readyTimeoutMs = 60_000 } = {}) {
  const bin = appBinary();
  if (!existsSync(bin)) throw new Error(`${bin} missing: go build -tags dev,webkit2_41 -o out/parley-dev .`);
  const port = await freePort();
  // xvfb-run picks a free display; the shell prints it (and its auth file) so the test can take X
  // screenshots of the same display.
  const proc = spawn(
    'xvfb-run',
    ['-a', '-s', '-screen 0 1280x800x24 -nolisten tcp', 'sh', '-c', 'echo "xdisplay $DISPLAY $XAUTHORITY"; exec "$0" "$@"', bin, ...args],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Read by Wails dev builds: serve the built UI and expose it (with the bindings) on a port.
      env: {
        ...process.env,
        assetdir: process.env.PARLEY_APP_ASSETS || join(root, 'frontend', 'dist'),
        // The app remembers the last sign-in here: a fresh one per run.
        XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'parley-app-config-')),
        devserver: `127.0.0.1:${port}`,
        loglevel: 'Info',
        GDK_BACKEND: 'x11',
        ...env,
      },
    },
  );
  const logs = [];
  let display;
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  for (const stream of [proc.stdout, proc.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        logs.push(line);
        if (process.env.E2E_VERBOSE) console.error(`[app] ${line}`);
        display ??= line.match(/xdisplay (\S+) (\S+)/);
      }
    });
  }
  const kill = (sig) => {
    try {
      process.kill(-proc.pid, sig);
      return true;
    } catch {
      return false; // gone
    }
  };
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    if (!kill('SIGTERM')) return;
    const t = setTimeout(() => kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  };
  process.on('exit', () => kill('SIGKILL'));
  const url = `http://127.0.0.1:${port}/`;
  const app = { url, stop, logs, exited, ready: () => waitHTTP(url, readyTimeoutMs) };
  if (!wait) return app;
  try {
    await Promise.race([app.ready(), exited.then(() => Promise.reject(new Error('app exited')))]);
    if (!display) throw new Error('no display reported');
  } catch (e) {
    await stop();
    throw new Error(`the app did not start: ${e.message}; output:\n${logs.join('\n')}`);
  }
  return { ...app, display: display[1], xauthority: display[2] };
}

/** xshot saves an X screenshot of the app's Xvfb display (the real Wails window) as test-results/name. */
export async function xshot(app, name) {
  const file = join(resultsDir(), name);
  // The Wails window is a second view of the same services; WebKit under Xvfb renders in software
  // and may be a moment behind Chromium.
  await new Promise((r) => setTimeout(r, 1500));
  await run('import', ['-window', 'root', file], { env: { ...process.env, DISPLAY: app.display, XAUTHORITY: app.xauthority }, timeout: 20_000 });
  assert.ok(statSync(file).size > 10_000, `${name} looks empty`);
  return file;
}

/** watch collects page errors and unexpected dialogs (a script from a chat message would raise one). */
export function watch(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('dialog', (d) => {
    errors.push(new Error(`unexpected dialog: ${d.message()}`));
    d.dismiss();
  });
  return errors;
}

/** signIn fills the app's sign-in form (hub, organisation, user, password) and submits it. */
export async function signIn(page, { hub, user = 'agent1', org = 'demo', password = 'demo', timeout = 20_000 }) {
  await page.getByTestId('signin-username').waitFor({ timeout });
  await page.getByTestId('signin-hub').fill(hub);
  await page.getByTestId('signin-org').fill(org);
  await page.getByTestId('signin-username').fill(user);
  await page.getByTestId('signin-password').fill(password);
  await page.getByTestId('signin-submit').click();
}
