// Builds the embed loader, portal/dist/widget.js: one small script with no framework that a host
// page includes to get the launcher button and the chat iframe.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { budget } from './budget';

const outDir = fileURLToPath(new URL('./dist', import.meta.url));

export default defineConfig({
  publicDir: false,
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
