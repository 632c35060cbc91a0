// Builds the organisation admin's console and the setup page (portal/admin/, Svelte) into
// hub/admin/dist, which the hub embeds and serves at /admin/{org} and /setup, with its assets
// under /admin/assets/.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('./admin', import.meta.url));
const outDir = fileURLToPath(new URL('../hub/admin/dist', import.meta.url));

export default defineConfig(({ command }) => {
  // dist keeps a committed .gitkeep (so `go build` works on a fresh clone): clear only what we build.
  if (command === 'build') {
    rmSync(`${outDir}/assets`, { recursive: true, force: true });
    rmSync(`${outDir}/index.html`, { force: true });
  }
  return {
    root,
    base: '/admin/',
    publicDir: false,
    plugins: [svelte()],
    build: { outDir, emptyOutDir: false, target: 'es2020', modulePreload: { polyfill: false }, reportCompressedSize: true },
  };
});
