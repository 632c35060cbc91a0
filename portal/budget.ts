// A Vite plugin that prints the gzipped weight of what a browser downloads first and fails the build
// when it is over budget: the chat page (index.html and the files it loads) ≤ 60 KB, the loader a
// host page includes ≤ 5 KB. The Go test TestBudget checks the same figures on the embedded files.
import type { Plugin } from 'vite';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** gz is the gzipped size of a file, in bytes. */
export function gz(path: string): number {
  return gzipSync(readFileSync(path), { level: 9 }).length;
}

/** firstLoad lists index.html and the scripts and styles it references under base. */
export function firstLoad(outDir: string, base: string): string[] {
  const index = join(outDir, 'index.html');
  const html = readFileSync(index, 'utf8');
  const files = [index];
  for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
    const url = m[1];
    if (!url.startsWith(base)) continue;
    const path = join(outDir, url.slice(base.length));
    if (existsSync(path)) files.push(path);
  }
  return files;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

/** budget reports the gzipped size of `files()` and throws when it is over `limit` bytes. */
export function budget(name: string, limit: number, files: () => string[]): Plugin {
  return {
    name: 'parley-budget',
    apply: 'build',
    closeBundle() {
      const list = files();
      let total = 0;
      for (const f of list) total += gz(f);
      const line = `[budget] ${name}: ${kb(total)} gzipped (limit ${kb(limit)}) in ${list.length} file(s)`;
      // eslint-disable-next-line no-console
      console.log(line);
      if (total > limit) throw new Error(`${line}: over budget`);
    },
  };
}
