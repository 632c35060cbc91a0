// Builds the customer portal (the chat page served at /chat/{org}) into portal/dist, with assets
// under /portal/assets/ where the Go handler (portal.go) serves them with a long cache.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { budget, firstLoad } from './budget';

const root = fileURLToPath(new URL('.', import.meta.url));
const outDir = fileURLToPath(new URL('./dist', import.meta.url));
const base = '/portal/';

export default defineConfig(({ command }) => {
  // dist keeps a committed .gitkeep (so `go build` works on a fresh clone): clear only what we build.
  if (command === 'build') rmSync(`${outDir}/assets`, { recursive: true, force: true });
  return {
    root,
    base,
    publicDir: false,
    plugins: [svelte(), budget('chat first load', 60 * 1024, () => firstLoad(outDir, base))],
    build: {
      outDir,
      emptyOutDir: false,
      target: 'es2020',
      modulePreload: { polyfill: false },
      reportCompressedSize: true,
    },
  };
});
