import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Unit tests of both UIs and the shared web/ code run in jsdom; end-to-end tests live in e2e/ and run
// against real browsers with node's test runner.
export default defineConfig({
  plugins: [svelte({ hot: false })],
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    environment: 'jsdom',
    // Generous: the first dynamic import compiles Svelte on the fly, slow on a loaded 2-core machine.
    testTimeout: 30000,
    include: ['web/**/*.test.ts', 'frontend/src/**/*.test.ts', 'portal/src/**/*.test.ts', 'portal/admin/**/*.test.ts'],
  },
});
