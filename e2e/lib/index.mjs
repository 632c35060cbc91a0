// Shared helpers of Parley's end-to-end tests (portal, agent app): real hub, real agents, real
// Chromium, and a proxy that breaks the network on purpose.
export * from './paths.mjs';
export * from './procs.mjs';
export * from './browser.mjs';
export * from './proxy.mjs';
export * from './media.mjs';
export * from './app.mjs';
export * from './window.mjs';
export * from './pulse.mjs';
export * from './axe.mjs';
