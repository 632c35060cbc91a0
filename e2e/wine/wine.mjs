// Running Parley's Windows programs under Debian's Wine for end-to-end tests: a fresh prefix per
// test file (e2e/wine/prefix.sh, with the test-only bcryptprimitives stand-in), programs run to
// completion or started like the Linux binaries (lib/procs.mjs), and the prefix's wineserver
// ended afterwards.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { root } from '../lib/paths.mjs';
import { start } from '../lib/procs.mjs';

const run = promisify(execFile);

/** wine64 is Debian's 64-bit Wine loader (package wine64; /usr/bin/wine64 needs the i386 side). */
export const wine64 = '/usr/lib/wine/wine64';
const wineserver = '/usr/lib/wine/wineserver';

/**
 * makePrefix makes a fresh Wine prefix in a new temporary folder (a copy of $PARLEY_WINE_TEMPLATE,
 * the never-used prefix `make test-windows` boots once, or a new one) and resolves with
 * { dir, env, run, start, reg, close }: env runs Wine programs in it, run(exe, args) runs one to
 * completion ({ stdout, stderr, code }), start(exe, args, opts) starts one like lib/procs.mjs's
 * start, reg(args) runs Wine's reg.exe, and close() ends the prefix's programs and removes it.
 */
export async function makePrefix(name = 'parley-wine') {
  const parent = mkdtempSync(join(tmpdir(), `${name}-`));
  const dir = join(parent, 'prefix');
  const made = Date.now();
  const template = process.env.PARLEY_WINE_TEMPLATE;
  await run(join(root, 'e2e/wine/prefix.sh'), template ? [dir, template] : [dir], { timeout: 600_000 });
  const bootMs = Date.now() - made;
  // WINEDEBUG=-all: Wine's fixme lines would drown the program's own output.
  const env = { ...process.env, WINEPREFIX: dir, WINEDEBUG: '-all' };
  const p = {
    dir,
    env,
    bootMs,
    /** run runs a Windows program to completion; it never rejects on a non-zero exit. */
    async run(exe, args = [], { timeoutMs = 120_000, extraEnv = {} } = {}) {
      try {
        const r = await run(wine64, [exe, ...args], { env: { ...env, ...extraEnv }, timeout: timeoutMs, maxBuffer: 16 << 20 });
        return { stdout: r.stdout, stderr: r.stderr, code: 0 };
      } catch (e) {
        if (e.killed) throw new Error(`${exe} ${args.join(' ')}: no exit within ${timeoutMs} ms`);
        return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code };
      }
    },
    /** start starts a Windows program and resolves once a line of its output matches ready. */
    start(exe, args, opts) {
      return start(wine64, [exe, ...args], { ...opts, env: { WINEPREFIX: dir, WINEDEBUG: '-all', ...opts?.env } });
    },
    /** reg runs Wine's reg.exe (reg add|query|delete ...) and rejects if it fails. */
    async reg(args) {
      const r = await p.run('reg', args);
      if (r.code !== 0) throw new Error(`reg ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    /** close ends every program of the prefix (wineserver -k) and removes it. */
    async close() {
      await run(wineserver, ['-k'], { env }).catch(() => {});
      rmSync(parent, { recursive: true, force: true });
    },
  };
  return p;
}

/** linuxPath is where a C:\ path of the prefix lives on this machine. */
export function linuxPath(prefix, winPath) {
  return join(prefix.dir, 'drive_c', ...winPath.replace(/^C:\\/i, '').split('\\'));
}
