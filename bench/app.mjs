// Benchmark of the whole agent app against a browser tab (issue 17): the same two-way 640x480@30
// video call with the same Chromium customer, in the same run, made by
//   (a) the agent app's real window: the release build (with the test harness compiled in, idle
//       while measured) under Xvfb with -devices test-pattern, and
//   (b) a Chromium agent tab (bench/lib/agent-page.mjs: the browser's own WebRTC), a headed
//       Chromium in kiosk mode under its own Xvfb showing the remote video at the app's size.
// Both agents send the same picture: the app's test pattern (media/pattern.go), which the
// Chromium agent's fake camera plays from a y4m file bench/y4m writes at start (a temp dir), so
// the two VP8 encoders do the same work. (Chromium's own fake camera is mostly still: against it
// the app's encoder did several times the work.)
// For each: CPU (% of one core) and memory (RSS and PSS, MiB) of the WHOLE process tree over
// BENCH_SECONDS of call (the app with its WebKitWebProcess and WebKitNetworkProcess; Chromium
// with its GPU, renderer, network, audio and capture processes), call setup from the agent's
// click to the first customer frame painted in the agent's window, and glass to glass: the
// customer's stamped frames (media/pattern.go's stamp) read back from the pixels of the agent's
// window on the X display (bench/xstamp) against the time they were drawn.
//
// Run: make bench-app (or node bench/app.mjs with out/parley-hub, out/parley-e2e, out/xstamp,
// out/y4m).
// BENCH_PROFILE=DIR (a diagnosis run, not for the table: profiling costs CPU) also writes, for the
// app measured last, Go's CPU profile over the measured seconds (DIR/app-cpu.pprof, through the
// test build's PARLEY_PPROF), perf's samples of the whole tree (DIR/app-perf.data, when perf is
// there) and prints the call's set-up timeline from the app's logs (-v), from the click.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { chromiumFlags, launchChromium, mediaFlags, root, startHub, startWindow } from '../e2e/lib/index.mjs';
import { agentPage } from './lib/agent-page.mjs';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const T = 60_000;
const XSTAMP = process.env.PARLEY_XSTAMP || join(root, 'out', 'xstamp');
const Y4M = process.env.PARLEY_Y4M || join(root, 'out', 'y4m');
const PATTERN_FRAMES = 64; // one period of the pattern's bars, 2.1 s at 30 fps
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PROFILE = process.env.BENCH_PROFILE || '';

/** customerInit runs in the customer's pages: a stamped 640x480@30 camera and a tone for the
 * microphone (so the agent's window shows readable stamps), and an instant accept with video. */
function customerInit() {
  const b = (window.__bench = {});
  const stamped = () => {
    const c = document.createElement('canvas');
    c.width = 640;
    c.height = 480;
    const g = c.getContext('2d');
    let n = 0;
    const draw = () => {
      const ms = Date.now();
      g.fillStyle = '#404040';
      g.fillRect(0, 0, 640, 480);
      g.fillStyle = '#ffffff';
      g.fillRect((n * 7) % 576, 100 + ((n * 5) % 300), 64, 64);
      // media/pattern.go's stamp (64 blocks: marker, 44 bits of ms, 16 of frame), drawn in rows
      // 24-48 and the middle 80% of the width, clear of the edges a view may crop or round.
      const bits = [1, 0];
      for (let i = 43; i >= 0; i--) bits.push(Math.floor(ms / 2 ** i) % 2);
      for (let i = 15; i >= 0; i--) bits.push((n >> i) & 1);
      for (let k = 0; k < 64; k++) {
        g.fillStyle = bits[k] ? '#ebebeb' : '#101010';
        g.fillRect(64 + k * 8, 24, 8, 24);
      }
      n++;
    };
    draw();
    setInterval(draw, 33);
    return c.captureStream(30).getVideoTracks()[0];
  };
  navigator.mediaDevices.getUserMedia = async (c) => {
    const s = new MediaStream();
    if (c.video) s.addTrack(stamped());
    if (c.audio) {
      const ac = new AudioContext();
      const o = ac.createOscillator();
      const d = ac.createMediaStreamDestination();
      o.connect(d);
      o.start();
      s.addTrack(d.stream.getAudioTracks()[0]);
    }
    return s;
  };
  new MutationObserver(() => {
    const acc = !b.incoming && document.querySelector('[data-testid="accept-video"]');
    if (acc) {
      b.incoming = Date.now();
      acc.click();
      b.accepted = Date.now();
    }
  }).observe(document, { childList: true, subtree: true });
}

/**
 * agentPicture runs in the customer's page: what the agent sends, read from the customer's remote
 * video. It reads media/pattern.go's stamp (as media.ReadStamp does) from a few frames over a
 * second and says how many carried one, how many distinct frame counters they had, and how old the
 * last stamp was (a live pattern's is tens of ms old, a file's is from when it was written).
 */
async function agentPicture() {
  const v = document.querySelector('[data-testid="remote-video"]');
  if (!v || !v.videoWidth) return { samples: 0, stamped: 0, frames: 0, ageMs: null, size: '' };
  const c = document.createElement('canvas');
  [c.width, c.height] = [v.videoWidth, v.videoHeight];
  const g = c.getContext('2d', { willReadFrequently: true });
  const bw = c.width / 64;
  const y = Math.max(Math.floor((8 * c.height) / 480), 3);
  const frames = new Set();
  let stamped = 0;
  let ageMs = null;
  const samples = 10;
  for (let s = 0; s < samples; s++) {
    g.drawImage(v, 0, 0);
    const row = g.getImageData(0, y, c.width, 1).data;
    const lum = (i) => {
      const x = Math.round((i + 0.5) * bw) * 4;
      return (row[x] * 299 + row[x + 1] * 587 + row[x + 2] * 114) / 1000 > 128;
    };
    if (lum(0) && !lum(1)) {
      let ms = 0;
      for (let i = 0; i < 44; i++) ms = ms * 2 + (lum(2 + i) ? 1 : 0);
      let f = 0;
      for (let i = 0; i < 16; i++) f = f * 2 + (lum(46 + i) ? 1 : 0);
      stamped++;
      frames.add(f);
      ageMs = Date.now() - ms;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { samples, stamped, frames: frames.size, ageMs, size: `${c.width}x${c.height}` };
}

/** pictureNote says in words what agentPicture saw. */
function pictureNote(p) {
  if (!p.stamped) return `no test pattern stamp (${p.samples} samples of ${p.size || 'no video'})`;
  const age = p.ageMs < 60_000 ? `last stamp ${p.ageMs} ms old: live` : `stamps ${Math.round(p.ageMs / 1000)} s old: from a file`;
  return `the test pattern at ${p.size}, stamped in ${p.stamped}/${p.samples} samples, ${p.frames} frames, ${age}`;
}

/** customer opens the portal and writes, so an agent is offered the chat. */
async function customer(browser, hubURL, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  context.setDefaultTimeout(T);
  await context.addInitScript(customerInit);
  const page = await context.newPage();
  await page.goto(`${hubURL}/chat/demo`);
  await page.getByTestId('prechat-name').fill(name);
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('chat-input').fill('hello, can we talk on video?');
  await page.getByTestId('chat-input').press('Enter');
  return { context, page, bench: () => page.evaluate(() => ({ ...window.__bench })) };
}

/** tree lists pid and all its descendants (from /proc). */
function tree(pid) {
  const kids = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch {
      // gone
    }
  }
  const out = [];
  const walk = (p) => {
    out.push(p);
    for (const k of kids.get(p) || []) walk(k);
  };
  walk(pid);
  return out;
}

function procName(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** cpuTicks is utime+stime of each process in pids. */
function cpuTicks(pids) {
  const m = new Map();
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').slice(readFileSync(`/proc/${p}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
      m.set(p, Number(f[11]) + Number(f[12]));
    } catch {
      // gone
    }
  }
  return m;
}

/** memory sums RSS and PSS (KiB) over pids. */
function memory(pids) {
  let rss = 0;
  let pss = 0;
  for (const p of pids) {
    try {
      const r = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      rss += Number(/^Rss:\s+(\d+)/m.exec(r)[1]);
      pss += Number(/^Pss:\s+(\d+)/m.exec(r)[1]);
    } catch {
      // gone or not ours to read
    }
  }
  return { rss, pss };
}

/**
 * cost measures the tree under rootPid over SECONDS: % of one core per process name, memory.
 * With profile (a Window of a build started with PARLEY_PPROF) it also records Go's CPU profile
 * and perf's samples of the tree over the same seconds into PROFILE.
 */
async function cost(rootPid, profile) {
  const pids = tree(rootPid);
  const a = cpuTicks(pids);
  const t0 = Date.now();
  const extra = profile ? recordProfiles(profile, pids) : [];
  await sleep(SECONDS * 1000);
  await Promise.all(extra);
  const pids2 = tree(rootPid);
  const b = cpuTicks(pids2);
  const secs = (Date.now() - t0) / 1000;
  const byName = {};
  let total = 0;
  for (const [p, t] of b) {
    const d = (t - (a.get(p) ?? 0)) / 100 / secs; // USER_HZ is 100 on Linux
    total += d;
    const n = procName(p);
    byName[n] = (byName[n] ?? 0) + d;
  }
  return { cpu: total * 100, byName: Object.fromEntries(Object.entries(byName).map(([k, v]) => [k, Math.round(v * 100)])), ...memory(pids2), procs: pids2.length };
}

/** recordProfiles starts Go's CPU profile of the app and perf on pids for SECONDS (into PROFILE). */
function recordProfiles(win, pids) {
  mkdirSync(PROFILE, { recursive: true });
  const out = [];
  const url = win.logs.map((l) => /parley-e2e: pprof (\S+)/.exec(l)?.[1]).find(Boolean);
  if (url) {
    out.push(
      fetch(`${url}profile?seconds=${SECONDS}`)
        .then((r) => r.arrayBuffer())
        .then((b) => writeFileSync(join(PROFILE, 'app-cpu.pprof'), Buffer.from(b)))
        .catch((e) => console.error('bench-app: pprof:', e.message)),
    );
  }
  out.push(
    run('perf', ['record', '-q', '-F', '499', '-g', '-p', pids.join(','), '-o', join(PROFILE, 'app-perf.data'), '--', 'sleep', String(SECONDS)]).catch((e) =>
      console.error('bench-app: perf:', e.message.split('\n')[0]),
    ),
  );
  return out;
}

/** timeline prints the app's log lines about the call with their time from the click t0. */
function timeline(logs, t0) {
  console.log('\napp call set-up, ms from the click (app log, -v):');
  for (const l of logs) {
    const m = /^time=(\S+) level=\S+ msg=(.*)$/.exec(l);
    if (!m) continue;
    const at = Date.parse(m[1]) - t0;
    if (at < -500 || at > 20_000) continue;
    if (!/call|remote|frame|key|connection|bridge|ICE|ice|viewer|JPEG/i.test(m[2])) continue;
    console.log(`  ${String(at).padStart(6)}  ${m[2].slice(0, 150)}`);
  }
}

/**
 * stampRect is where the customer's stamp is on the screen, for a picture of 640x480 shown with
 * object-fit: cover in box (screen coordinates): its band's rows 24-48 and middle 80%, as xstamp
 * wants them (a rectangle whose top 24/480 is the band).
 */
function stampRect(box) {
  const k = Math.max(box.width / 640, box.height / 480);
  const [w, h] = [640 * k, 480 * k];
  const left = box.x + (box.width - w) / 2;
  const top = box.y + (box.height - h) / 2;
  return [left + 0.1 * w, top + (24 / 480) * h, 0.8 * w, h];
}

/** xstamp watches a screen rectangle of display (env) and resolves with its JSON lines. */
function xstamp(env, rect, { first = false, seconds = SECONDS } = {}) {
  const p = spawn(XSTAMP, ['-rect', rect.map(Math.round).join(','), '-for', `${seconds}s`, ...(first ? ['-first'] : [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const done = new Promise((resolve, reject) =>
    p.on('exit', (code) => (code === 0 ? resolve(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))) : reject(new Error(`xstamp: ${code} ${err}`)))),
  );
  return { done, kill: () => p.kill() };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};

/** display starts a bare Xvfb (through xvfb-run) and resolves with its env and stop(). */
async function display() {
  const p = spawn('xvfb-run', ['-a', '-s', '-screen 0 1280x800x24 -nolisten tcp', 'sh', '-c', 'echo "xdisplay $DISPLAY $XAUTHORITY"; exec sleep infinity'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const m = await new Promise((resolve) => {
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      const x = /xdisplay (\S+) (\S+)/.exec(buf);
      if (x) resolve(x);
    });
  });
  return { env: { ...process.env, DISPLAY: m[1], XAUTHORITY: m[2] }, stop: () => process.kill(-p.pid, 'SIGTERM') };
}

/**
 * leave: the customer leaves the chat before going. A chat left open would go back to the queue
 * when this agent's window closes, and be the next agent's first offer.
 */
async function leave(cust) {
  await cust.page.getByTestId('chat-leave').click();
  await cust.page.getByTestId('chat-leave-confirm').click();
  await cust.page.getByTestId('chat-ended').waitFor({ timeout: T });
  await cust.context.close();
}

/** benchApp: the app's window calls a customer from More commands; its tree is measured. */
async function benchApp(hub, custBrowser, bin, profile = false) {
  const win = await startWindow({ args: ['-hub', hub.url, '-devices', 'test-pattern', ...(profile ? ['-v'] : [])], binary: bin, env: profile ? { PARLEY_PPROF: '1' } : {} });
  try {
    await win.getByTestId('signin-hub').fill(hub.url);
    await win.getByTestId('signin-org').fill('demo');
    await win.getByTestId('signin-username').fill('agent1');
    await win.getByTestId('signin-password').fill('demo');
    await win.keyboard.press('Enter');
    await win.getByTestId('presence').waitFor({ timeout: T });
    await win.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.value === 'available', null, { timeout: T });
    const cust = await customer(custBrowser, hub.url, 'Bea');
    await win.getByTestId('offer-accept').waitFor({ timeout: T });
    await win.keyboard.press('Alt+A');
    await win.getByTestId('more-commands').click();
    const item = await win.getByTestId('video-call').point();
    // The click: T0 is when the real X click goes in.
    const t0 = Date.now();
    await win.mouse.click(item.x, item.y);
    await win.locator('[data-testid="floating-call-control"] .video').waitFor({ timeout: T });
    const box = await win.locator('[data-testid="floating-call-control"] .video').boundingBox();
    // The picture will fill the box's width at 4:3 from its top (the box has room below it).
    let rect = stampRect({ x: win.origin.x + box.x, y: win.origin.y + box.y, width: box.width, height: (box.width * 3) / 4 });
    const firstSeen = xstamp(win.xenv, rect, { first: true, seconds: 60 });
    const [first] = await firstSeen.done;
    if (!first) {
      await win.shot('bench-app-no-stamp.png');
      throw new Error(`no stamped frame in the window at ${rect} within 60 s`);
    }
    const b = await cust.bench();
    const setup = first.at - t0 - (b.accepted - b.incoming);
    if (profile) {
      timeline(win.logs, t0);
      console.log(`  customer: call rang at ${b.incoming - t0}, accepted at ${b.accepted - t0}; first stamp painted at ${first.at - t0} (frame drawn at ${first.stamp - t0})`);
    }
    const img = await win.getByTestId('remote-video').boundingBox();
    rect = stampRect({ ...img, x: win.origin.x + img.x, y: win.origin.y + img.y });
    await sleep(2000); // past the start-up (key frames, rate control settling)
    const pid = await win.appPid();
    const c = await cost(pid, profile ? win : null);
    const picture = await cust.page.evaluate(agentPicture);
    const frames = await xstamp(win.xenv, rect, { seconds: Math.min(SECONDS, 5) }).done;
    const lat = frames.map((f) => f.at - f.stamp);
    await win.shot('bench-app-window.png');
    // The same call with the window minimised (unmapped, as a window manager does).
    await win.minimise();
    await sleep(2000);
    const minimised = await cost(pid);
    await win.restore();
    await cust.page.getByTestId('call-end').click();
    await leave(cust);
    await sleep(500);
    return { ...c, minimised, picture, setup, g2gMedian: quantile(lat, 0.5), g2gP95: quantile(lat, 0.95), fps: frames.length / Math.min(SECONDS, 5), box, video: videoNotes(win.logs) };
  } finally {
    await win.stop();
  }
}

/** videoNotes are the app's own figures for the customer's video (media's "remote video ended"). */
function videoNotes(logs) {
  return logs
    .filter((l) => /msg="remote video ended"/.test(l))
    .map((l) => l.replace(/^.*msg="remote video ended"/, '').replace(/\S*(conv|call|component)=\S+ ?/g, '').trim())
    .join('; ');
}

/** benchChromium: a Chromium agent tab (own headed browser) calls the customer; its tree is measured. */
async function benchChromium(hub, custBrowser, box, camera) {
  const x = await display();
  const profile = mkdtempSync(join(tmpdir(), 'parley-bench-agent-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: false,
    env: x.env,
    viewport: null,
    args: [...chromiumFlags.filter((f) => f !== '--headless'), ...mediaFlags, `--use-file-for-fake-video-capture=${camera}`, '--kiosk', '--window-position=0,0', '--window-size=1280,800'],
    timeout: T,
  });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(`${hub.url}/healthz`);
    await page.evaluate(agentPage, { org: 'demo', user: 'agent2', password: 'demo', remoteWidth: Math.round(box.width), selfWidth: Math.round(box.width * 0.3) });
    // agent1 (the app) is gone; agent2 is now the one offered the chat.
    const cust = await customer(custBrowser, hub.url, 'Cid');
    const call = await (async () => {
      for (const end = Date.now() + T; Date.now() < end; await sleep(5)) {
        const c = await page.evaluate(() => Object.values(window.__agent.calls)[0] ?? null);
        if (c) return c;
      }
      throw new Error('the Chromium agent did not call');
    })();
    // The page is at the screen's (0,0) in kiosk mode; its remote <video> at the page's (0,0).
    const rect = stampRect({ x: 0, y: 0, width: Math.round(box.width), height: Math.round((box.width * 3) / 4) });
    const [first] = await xstamp(x.env, rect, { first: true, seconds: 60 }).done;
    if (!first) throw new Error(`no stamped frame in the Chromium agent's window at ${rect} within 60 s`);
    const b = await cust.bench();
    const setup = first.at - call.t0 - (b.accepted - b.incoming);
    await sleep(2000);
    const { stdout } = await run('pgrep', ['-o', '-f', profile]);
    const c = await cost(Number(stdout.trim()));
    const picture = await cust.page.evaluate(agentPicture);
    const frames = await xstamp(x.env, rect, { seconds: Math.min(SECONDS, 5) }).done;
    const lat = frames.map((f) => f.at - f.stamp);
    await cust.page.getByTestId('call-end').click();
    await leave(cust);
    return { ...c, picture, setup, g2gMedian: quantile(lat, 0.5), g2gP95: quantile(lat, 0.95), fps: frames.length / Math.min(SECONDS, 5) };
  } finally {
    await ctx.close().catch(() => {});
    x.stop();
    rmSync(profile, { recursive: true, force: true });
  }
}

let hub, custBrowser, tmp;
const watchdog = setTimeout(() => {
  console.error('bench-app: overall timeout');
  process.exit(2);
}, 600_000);
try {
  // The app's camera, for the Chromium agent: the test pattern as the app draws it, looped.
  tmp = mkdtempSync(join(tmpdir(), 'parley-bench-app-'));
  const camera = join(tmp, 'pattern.y4m');
  await run(Y4M, ['-o', camera, '-size', '640x480', '-fps', '30', '-frames', String(PATTERN_FRAMES)]);
  hub = await startHub();
  custBrowser = await launchChromium({ media: true, args: ['--autoplay-policy=no-user-gesture-required'] });
  // BENCH_BEFORE names an earlier build of the app: measured too, in the same run, for a
  // before/after column.
  const before = process.env.BENCH_BEFORE ? await benchApp(hub, custBrowser, process.env.BENCH_BEFORE) : null;
  const app = await benchApp(hub, custBrowser, undefined, !!PROFILE);
  const web = await benchChromium(hub, custBrowser, app.box, camera);
  const mib = (k) => (k / 1024).toFixed(0);
  const r = (a, b) => (a / b).toFixed(2);
  console.log(`\nbench-app: one 640x480@30 two-way video call with the same Chromium customer, ${SECONDS} s measured, same run`);
  console.log(`remote video shown at ${Math.round(app.box.width)}x${Math.round(app.box.height)} px, self view at 30% of that, in both`);
  console.log(`camera, app: the test pattern drawn live (-devices test-pattern); the customer saw ${pictureNote(app.picture)}`);
  console.log(`camera, Chromium: the same pattern, ${PATTERN_FRAMES} frames looped from a y4m file (--use-file-for-fake-video-capture); the customer saw ${pictureNote(web.picture)}`);
  console.log('');
  console.log('                                  agent app (window)   Chromium agent tab   app/Chromium   target');
  const line = (label, a, c, ratio, target) => console.log(`${label.padEnd(34)}${String(a).padStart(18)}   ${String(c).padStart(18)}   ${ratio.padStart(12)}   ${target}`);
  line('CPU, whole tree (% of one core)', app.cpu.toFixed(0), web.cpu.toFixed(0), r(app.cpu, web.cpu) + 'x', '<= 1.0x');
  line('memory PSS, whole tree (MiB)', mib(app.pss), mib(web.pss), r(app.pss, web.pss) + 'x', '<= 1.0x and <= 300 MiB');
  line('memory RSS, whole tree (MiB)', mib(app.rss), mib(web.rss), r(app.rss, web.rss) + 'x', '');
  line('setup: click -> first frame painted', `${app.setup} ms`, `${web.setup} ms`, r(app.setup, web.setup) + 'x', '<= 1.0x');
  line('glass to glass, median (ms)', app.g2gMedian, web.g2gMedian, r(app.g2gMedian, web.g2gMedian) + 'x', '');
  line('glass to glass, p95 (ms)', app.g2gP95, web.g2gP95, r(app.g2gP95, web.g2gP95) + 'x', '');
  line('frames painted per second', app.fps.toFixed(1), web.fps.toFixed(1), '', '');
  console.log('');
  console.log(`app window minimised, same call: CPU ${app.minimised.cpu.toFixed(0)}% of a core (${r(app.minimised.cpu, app.cpu)}x shown), PSS ${mib(app.minimised.pss)} MiB; % of a core: ${JSON.stringify(app.minimised.byName)}`);
  console.log('');
  if (before) {
    console.log(`the same, app before -> after (before: ${process.env.BENCH_BEFORE})`);
    console.log(`  CPU ${before.cpu.toFixed(0)}% -> ${app.cpu.toFixed(0)}% of a core (${r(app.cpu, before.cpu)}x); PSS ${mib(before.pss)} -> ${mib(app.pss)} MiB; setup ${before.setup} -> ${app.setup} ms; glass to glass median ${before.g2gMedian} -> ${app.g2gMedian} ms, p95 ${before.g2gP95} -> ${app.g2gP95} ms`);
    console.log(`  before, % of a core: ${JSON.stringify(before.byName)}`);
    console.log(`  minimised: CPU ${before.minimised.cpu.toFixed(0)}% -> ${app.minimised.cpu.toFixed(0)}% of a core (${r(app.minimised.cpu, before.minimised.cpu)}x); before minimised, % of a core: ${JSON.stringify(before.minimised.byName)}`);
    console.log('');
  }
  console.log(`app tree (${app.procs} processes), % of a core: ${JSON.stringify(app.byName)}`);
  console.log(`app, the customer's video over the call: ${app.video}${before ? ` (before: ${before.video})` : ''}`);
  console.log(`Chromium tree (${web.procs} processes), % of a core: ${JSON.stringify(web.byName)}`);
} catch (err) {
  console.error('bench-app failed:', err);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await custBrowser?.close().catch(() => {});
  await hub?.stop().catch(() => {});
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
