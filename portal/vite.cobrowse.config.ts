// Builds the co-browse recorder a host page loads on demand (portal/cobrowse/host.ts) as one
// classic script with a content hash, portal/dist/assets/cobrowse-<hash>.js: a classic script
// loads cross-origin without CORS, and the hash lets the hub cache it for a year. The widget
// loader's build (vite.loader.config.ts) reads the name. Runs after the portal's build, which
// clears portal/dist/assets.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { budget } from './budget';
import { readdirSync, rmSync } from 'node:fs';

const outDir = fileURLToPath(new URL('./dist', import.meta.url));

// Only one recorder build may be there, the one the loader names.
try {
  for (const f of readdirSync(`${outDir}/assets`)) if (/^cobrowse-[\w-]+\.js$/.test(f)) rmSync(`${outDir}/assets/${f}`);
} catch {
  // No assets yet.
}

export default defineConfig({
  publicDir: false,
  // ASCII only: host pages come in every charset, and the script inherits theirs.
  esbuild: { charset: 'ascii' },
  plugins: [
    budget('co-browse recorder (on demand)', 80 * 1024, () =>
      readdirSync(`${outDir}/assets`)
        .filter((f) => /^cobrowse-[\w-]+\.js$/.test(f))
        .map((f) => `${outDir}/assets/${f}`),
    ),
  ],
  build: {
    outDir,
    emptyOutDir: false,
    target: 'es2018',
    reportCompressedSize: true,
    copyPublicDir: false,
    rollupOptions: {
      input: fileURLToPath(new URL('./cobrowse/host.ts', import.meta.url)),
      output: { format: 'iife', entryFileNames: 'assets/cobrowse-[hash].js', inlineDynamicImports: true },
    },
  },
});
