// Headless Chromium for end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core
// (never a downloaded browser), with the flags every Parley test uses and a fresh profile.
import { chromium } from 'playwright-core';

/** chromiumFlags are the command-line flags of every test browser. */
export const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** mediaFlags give a test browser fake camera and microphone and loopback WebRTC. */
export const mediaFlags = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

/**
 * launchChromium starts a browser; playwright gives each launch a new temporary profile (its
 * --user-data-dir). Pass { media: true } for calls.
 */
export function launchChromium({ media = false, args = [] } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [...chromiumFlags, ...(media ? mediaFlags : []), ...args],
    timeout: 30_000,
  });
}

/** Viewports for screenshots. */
export const desktop = { width: 1280, height: 800 };
export const phone = { width: 360, height: 740 };
