import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('.', import.meta.url));

// The agent UI, built into frontend/dist and embedded by main.go (//go:embed all:frontend/dist).
// Relative base: Wails serves it from its own asset server, the E2E dev server from "/".
export default defineConfig({
  root,
  base: './',
  plugins: [
    svelte(),
    {
      name: 'parley-gzip-size',
      generateBundle(_, bundle) {
        let total = 0;
        for (const f of Object.values(bundle)) {
          const src = f.type === 'chunk' ? f.code : f.source;
          total += gzipSync(typeof src === 'string' ? Buffer.from(src) : Buffer.from(src)).length;
        }
        this.info(`agent UI: ${(total / 1024).toFixed(1)} KB gzipped in total`);
      },
    },
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'safari15',
    reportCompressedSize: true,
  },
});
