// Starting Parley's real binaries for end-to-end tests: the hub on a free loopback port with a fresh
// SQLite database, and headless agents. Each waits (bounded) for the binary to say it is ready, and
// is stopped with SIGTERM (then SIGKILL) when the test ends.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './paths.mjs';

const running = new Set();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/**
 * binary returns the path of a Parley binary: $envVar, else out/<name>, else one built now from
 * cmd/<name> into a temporary folder (so the tests also run outside make).
 */
export function binary(name, envVar) {
  const fromEnv = process.env[envVar];
  if (fromEnv) return fromEnv;
  const out = join(root, 'out', name);
  if (existsSync(out)) return out;
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const bin = join(dir, name);
  execFileSync('go', ['build', '-o', bin, `./cmd/${name}`], { cwd: root, stdio: 'inherit', timeout: 300_000 });
  return bin;
}

/**
 * start runs a command and resolves once `ready` matches a line of its stdout or stderr, with the
 * match; it rejects on exit or after timeoutMs. The result's stop() ends the process.
 */
export function start(cmd, args, { ready, timeoutMs = 30_000, name = cmd, env } = {}) {
  const proc = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  const logs = [];
  let exited = null;
  const done = new Promise((resolve) => proc.on('exit', (code, sig) => resolve((exited = { code, sig }))));
  const stop = async () => {
    if (!exited) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await done;
      clearTimeout(t);
    }
    running.delete(proc);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${name} not ready within ${timeoutMs} ms; output:\n${logs.join('\n')}`));
    }, timeoutMs);
    let settled = false;
    const onLine = (line) => {
      logs.push(line);
      if (process.env.E2E_VERBOSE) console.error(`[${name}] ${line}`);
      const m = !settled && line.match(ready);
      if (m) {
        settled = true;
        clearTimeout(timer);
        resolve({ proc, match: m, logs, stop, done });
      }
    };
    for (const stream of [proc.stdout, proc.stderr]) {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    done.then(({ code, sig }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? sig}) before it was ready; output:\n${logs.join('\n')}`));
    });
  });
}

/**
 * startHub runs the hub with the demo organisation on a free loopback port and a fresh database.
 * It resolves with { url, stop, logs }.
 */
export async function startHub({ args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-hub-'));
  const bin = binary('parley-hub', 'PARLEY_HUB');
  const p = await start(bin, ['-addr', '127.0.0.1:0', '-demo', '-db', join(dir, 'hub.db'), ...args], {
    ready: /listening on (http:\/\/[^\s"]+)/,
    name: 'hub',
    // -demo seeds its accounts with bcrypt: on a loaded 2-core machine that took 21 s (measured).
    timeoutMs: 90_000,
  });
  const url = p.match[1].replace(/\/$/, '');
  return {
    ...p,
    url,
    async stop() {
      await p.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * startAgent runs the headless agent signed in to the hub (demo password), accepting every offer
 * and echoing customers by default. It resolves once the agent is signed in and available.
 */
export function startAgent(hubURL, { user = 'agent1', password = 'demo', org = 'demo', args = ['-accept', '-reply-echo'] } = {}) {
  const bin = binary('parley-agent', 'PARLEY_AGENT');
  return start(bin, ['-hub', hubURL, '-org', org, '-user', user, '-password', password, ...args], {
    ready: /msg=ready/,
    name: user,
  });
}
