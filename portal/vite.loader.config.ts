// Builds the embed loader, portal/dist/widget.js: one small script with no framework that a host
// page includes to get the launcher button and the chat iframe.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { budget } from './budget';
import { readdirSync } from 'node:fs';

const outDir = fileURLToPath(new URL('./dist', import.meta.url));

// cobrowse is the co-browse recorder's file (vite.cobrowse.config.ts builds it first), which the
// loader adds to a host page only when a co-browse starts.
function cobrowse(): string {
  try {
    const f = readdirSync(`${outDir}/assets`).find((n) => /^cobrowse-[\w-]+\.js$/.test(n));
    return f ? `assets/${f}` : '';
  } catch {
    return '';
  }
}

export default defineConfig({
  publicDir: false,
  define: { __PARLEY_COBROWSE__: JSON.stringify(cobrowse()) },
  plugins: [budget('widget loader', 5 * 1024, () => [`${outDir}/widget.js`])],
  build: {
    outDir,
    emptyOutDir: false,
    target: 'es2018',
    reportCompressedSize: true,
    lib: {
      entry: fileURLToPath(new URL('./loader/widget.ts', import.meta.url)),
      name: 'ParleyWidget',
      formats: ['iife'],
      fileName: () => 'widget.js',
    },
  },
});
