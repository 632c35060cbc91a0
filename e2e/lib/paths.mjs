// Where things are: the repository root and the folder for screenshots (gitignored).
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** root is the repository root. */
export const root = fileURLToPath(new URL('../..', import.meta.url));

/** resultsDir returns test-results/, created if missing. */
export function resultsDir() {
  const dir = join(root, 'test-results');
  mkdirSync(dir, { recursive: true });
  return dir;
}
