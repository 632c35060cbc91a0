// Benchmark of call setup (issue 5, "Measure"): agent click → first remote frame shown at the
// customer and at the agent, for
//   (a) the Go headless agent (`parley-agent -call video`, test-pattern devices) and
//   (b) a Chromium page acting as the agent over the hub's WebSocket protocol (wire/call.go),
// each calling a customer in headless Chromium (fake devices) through the SAME hub in one run.
//
// "Click" (T0) is the moment the agent decides to call: the Go agent calls Calls.Start right after
// it logs the customer's first message (its `msg=message ... author=customer` line, ms precision);
// the Chromium agent starts (getUserMedia, then call.invite) when it receives that message. The
// customer auto-accepts with video from a MutationObserver the instant `accept-video` appears; that
// accept delay (a few ms) is subtracted from both metrics, in both cases the same way.
// At the customer the frame time is the first requestVideoFrameCallback of `remote-video`; at the
// Go agent it is its `first remote frame` log line (media engine's first decoded remote frame; the
// app's MJPEG <img> is not involved); at the Chromium agent it is requestVideoFrameCallback on a
// <video> of the remote stream. All clocks are this machine's wall clock (Date.now / slog time).
//
// Run: make bench-calls (or node bench/calls.mjs with PARLEY_HUB/PARLEY_AGENT set). BENCH_N sets
// calls per side (default 5); one extra warm-up call per side is made and not counted.
import { startHub, startAgent, launchChromium } from '../e2e/lib/index.mjs';
import { agentPage } from './lib/agent-page.mjs';

const N = Number(process.env.BENCH_N || 5);
const T = 20_000; // bound for each wait
const TARGET_MS = 400;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, what, timeout = T) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** customerInit runs in every customer page: auto-accept with video, time the first remote frame. */
function customerInit() {
  const b = (window.__bench = {});
  const check = () => {
    if (!b.incoming) {
      const acc = document.querySelector('[data-testid="accept-video"]');
      if (acc) {
        b.incoming = Date.now();
        acc.click();
        b.accepted = Date.now();
      }
    }
    if (!b.hooked) {
      const v = document.querySelector('[data-testid="remote-video"]');
      if (v) {
        b.hooked = true;
        v.requestVideoFrameCallback(() => (b.frame = Date.now()));
        const poll = setInterval(() => {
          if (v.videoWidth > 0) {
            b.sized = Date.now();
            clearInterval(poll);
          }
        }, 5);
      }
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
}

/** logTime returns the Unix ms of a slog text line's time= field. */
function logTime(line) {
  const m = line.match(/time=(\S+)/);
  return m ? Date.parse(m[1]) : NaN;
}

/** customerCall opens the portal, sends a first message and waits for both first frames. */
async function customerCall(browser, hubURL, name, agentFrame) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  try {
    await context.addInitScript(customerInit);
    const page = await context.newPage();
    await page.goto(`${hubURL}/chat/demo`);
    await page.getByTestId('prechat-name').fill(name);
    await page.getByTestId('prechat-start').click();
    await page.getByTestId('chat-input').fill('hello, can we talk?');
    const sent = Date.now();
    await page.getByTestId('chat-input').press('Enter');
    const cust = await until(() => page.evaluate(() => (window.__bench.frame ? { ...window.__bench } : null)), 'customer first frame');
    const agent = await until(agentFrame, 'agent first frame');
    // Hang up and leave, so the agent's capacity is free for the next call.
    await page.getByTestId('call-end').click({ timeout: T });
    await page.getByTestId('call-ended').waitFor({ timeout: T });
    await page.getByTestId('chat-leave').click({ timeout: T });
    await page.getByTestId('chat-leave-confirm').click({ timeout: T });
    await page.getByTestId('chat-ended').waitFor({ timeout: T });
    return { sent, cust, agent };
  } finally {
    await context.close().catch(() => {});
  }
}

function row({ t0, cust, agentFrame }) {
  const acceptDelay = cust.accepted - cust.incoming;
  return {
    ring: cust.incoming - t0,
    acceptDelay,
    customer: cust.frame - t0 - acceptDelay,
    agent: agentFrame - t0 - acceptDelay,
    acceptToCustomerFrame: cust.frame - cust.accepted,
    acceptToAgentFrame: agentFrame - cust.accepted,
  };
}

async function runGo(hub, browser, i) {
  const mark = goAgent.logs.length;
  const r = await customerCall(browser, hub.url, `Go ${i}`, async () => {
    const l = goAgent.logs.slice(mark).find((x) => /first remote frame/.test(x));
    return l ? logTime(l) : null;
  });
  const lines = goAgent.logs.slice(mark);
  const msg = lines.find((x) => /msg=message .*author=customer/.test(x));
  if (!msg) throw new Error(`Go agent logged no customer message:\n${lines.join('\n')}`);
  // Wait until the agent has seen the call end before the next customer comes.
  await until(() => goAgent.logs.slice(mark).some((x) => /call ended|call gone/.test(x)), 'Go agent call end');
  return row({ t0: logTime(msg), cust: r.cust, agentFrame: r.agent });
}

async function runChromium(hub, browser, agentPg, i) {
  const before = await agentPg.evaluate(() => Object.keys(window.__agent.calls));
  let id;
  const r = await customerCall(browser, hub.url, `Chromium ${i}`, () =>
    agentPg.evaluate((seen) => {
      const a = window.__agent;
      if (a.errors.length) throw new Error(a.errors.join('; '));
      for (const [k, c] of Object.entries(a.calls)) if (!seen.includes(k) && c.frame) return { id: k, ...c };
      return null;
    }, before),
  );
  id = r.agent.id;
  await until(() => agentPg.evaluate((k) => window.__agent.calls[k].ended, id), 'Chromium agent call end');
  return row({ t0: r.agent.t0, cust: r.cust, agentFrame: r.agent.frame });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

let hub, goAgent, browser, agentBrowser;
const watchdog = setTimeout(() => {
  console.error('bench-calls: overall timeout');
  process.exit(2);
}, 240_000);
try {
  hub = await startHub();
  browser = await launchChromium({ media: true });
  const results = { go: [], chromium: [] };

  // (a) Go agent ↔ Chromium customer.
  goAgent = await startAgent(hub.url, { args: ['-accept', '-call', 'video'] });
  for (let i = 0; i <= N; i++) {
    const r = await runGo(hub, browser, i);
    if (i > 0) results.go.push(r);
    else console.log(`warm-up (Go): customer ${r.customer} ms, agent ${r.agent} ms`);
  }
  await goAgent.stop();
  goAgent = null;

  // (b) Chromium agent (agent2, own browser process) ↔ Chromium customer, same hub.
  agentBrowser = await launchChromium({ media: true });
  const agentPg = await (await agentBrowser.newContext()).newPage();
  await agentPg.goto(`${hub.url}/healthz`);
  await agentPg.evaluate(agentPage, { org: 'demo', user: 'agent2', password: 'demo' });
  for (let i = 0; i <= N; i++) {
    const r = await runChromium(hub, browser, agentPg, i);
    if (i > 0) results.chromium.push(r);
    else console.log(`warm-up (Chromium): customer ${r.customer} ms, agent ${r.agent} ms`);
  }

  const fmt = (rs, k) => rs.map((r) => r[k]).join(', ');
  console.log(`\nCall setup, agent click → first remote frame shown (ms), N=${N} each, loopback, one hub`);
  for (const [name, rs] of Object.entries(results)) {
    console.log(`${name.padEnd(9)} customer: [${fmt(rs, 'customer')}]  agent: [${fmt(rs, 'agent')}]  ring (click→prompt): [${fmt(rs, 'ring')}]  accept delay subtracted: [${fmt(rs, 'acceptDelay')}]`);
    console.log(`${''.padEnd(9)} accept→frame at customer: [${fmt(rs, 'acceptToCustomerFrame')}]  accept→frame at agent: [${fmt(rs, 'acceptToAgentFrame')}]`);
  }
  console.log('');
  console.log('metric (median ms)            Go agent   Chromium agent   Go/Chromium   target');
  for (const k of ['customer', 'agent', 'ring', 'acceptToCustomerFrame', 'acceptToAgentFrame']) {
    const g = median(results.go.map((r) => r[k]));
    const c = median(results.chromium.map((r) => r[k]));
    const ok = g / c <= 1.0 && g < TARGET_MS ? 'met' : 'NOT met';
    const label = { customer: 'click → frame at customer', agent: 'click → frame at agent', ring: '  part: click → prompt shown', acceptToCustomerFrame: '  part: accept → frame at cust.', acceptToAgentFrame: '  part: accept → frame at agent' }[k];
    const verdict = k === 'customer' || k === 'agent' ? `≤1.0x & <${TARGET_MS} ms: ${ok}` : '';
    console.log(`${label.padEnd(30)}${String(g).padStart(8)}   ${String(c).padStart(14)}   ${(g / c).toFixed(2).padStart(10)}x   ${verdict}`);
  }
} catch (err) {
  console.error('bench-calls failed:', err);
  if (goAgent) console.error(goAgent.logs.slice(-20).join('\n'));
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await browser?.close().catch(() => {});
  await agentBrowser?.close().catch(() => {});
  await goAgent?.stop().catch(() => {});
  await hub?.stop().catch(() => {});
}
