// End-to-end test of the built-in co-browse's two ends in real Chromium: the recorder as a host
// page loads it (portal/dist/assets/cobrowse-*.js, built by `make web`) and the agent's replay
// (frontend/src/components/visual/replay.ts). The test carries the frames between them exactly as
// the hub relays visual.event / visual.pointer / visual.command, and keeps every frame the
// customer's browser sent, so it can assert on the wire that no secret ever left.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, readdirSync, existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { launchChromium, root, resultsDir, startHub, startAgent } from './lib/index.mjs';

const SECRET_PASSWORD = 'hunter2-Sup3rSecret';
const SECRET_CARD = '4111 1111 1111 1111';
const SECRET_MASKED = 'MaskedNote-778899';

// The customer's page: a form with a plain field, a password, a card number, a field the site
// marks data-parley-mask, a counter button, and hostile markup that must not run at the agent's.
const HOST = `<!doctype html><html><head><title>Shop</title>
<style>body{font:16px sans-serif;margin:24px} input{display:block;margin:8px 0;width:300px;height:28px}
 .evil{background:url(/beacon-css)}</style></head><body>
<h1>Checkout</h1>
<form id="f" onsubmit="return false">
 <label>Name <input id="name" name="fullname" autocomplete="name"></label>
 <label>Password <input id="pw" type="password" name="password"></label>
 <label>Card <input id="card" name="cardnumber" autocomplete="cc-number" inputmode="numeric"></label>
 <div data-parley-mask><label>Note <input id="note" name="note"></label></div>
</form>
<button id="inc" type="button" onclick="this.textContent='clicked '+(++window.n)">clicked 0</button>
<p id="tall" style="height:2000px">long page</p>
<div class="evil"><img src="/nope.png" onerror="window.parent.__pwned=1;top.__pwned=1"></div>
<script>window.n=0; window.__hostScriptRan = true;</script>
</body></html>`;

const AGENT = `<!doctype html><html><head><title>Agent</title></head><body style="margin:0">
<div id="root"></div><script src="/replay.js"></script></body></html>`;

let server;
let base;
let browser;
let replayJS;
let recorderJS;
let shareJS;

before(async () => {
  const assets = join(root, 'portal/dist/assets');
  const file = readdirSync(assets).find((f) => /^cobrowse-[\w-]+\.js$/.test(f));
  assert.ok(file, 'portal/dist/assets/cobrowse-*.js is missing: run make web');
  recorderJS = readFileSync(join(assets, file));
  // The agent's replay module, bundled as the agent UI bundles it.
  const out = await build({
    stdin: {
      contents: `import { Mirror, keyText } from './frontend/src/components/visual/replay.ts'; window.Mirror = Mirror; window.keyText = keyText;`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  replayJS = out.outputFiles[0].contents;
  // The portal's screen-share module, bundled the same way.
  const share = await build({
    stdin: {
      contents: `import { createScreenShare } from './portal/src/visual/screenshare.ts'; window.createScreenShare = createScreenShare;`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  shareJS = share.outputFiles[0].contents;
  server = http.createServer((req, res) => {
    const send = (type, body) => res.writeHead(200, { 'content-type': type }).end(body);
    if (req.url === '/host.html') return send('text/html', HOST);
    if (req.url === '/agent.html') return send('text/html', AGENT);
    if (req.url === '/cobrowse.js') return send('text/javascript', recorderJS);
    if (req.url === '/replay.js') return send('text/javascript', replayJS);
    if (req.url === '/share.html') return send('text/html', '<!doctype html><title>Portal</title><body><h1>Chat</h1><script src="/share.js"></script>');
    if (req.url === '/share.js') return send('text/javascript', shareJS);
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

/** until polls f (bounded) until it returns a truthy value. */
async function until(what, f, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('co-browse: the agent sees the page, secrets never leave, laser dot, control and take back', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const customer = await ctx.newPage();
  const agent = await ctx.newPage();
  await agent.setViewportSize({ width: 1000, height: 700 });

  const wire = []; // every visual.event frame the customer's browser sent
  const results = []; // command results, in order
  const controls = []; // control changes the customer made on the page
  await customer.exposeFunction('toHub', async (m) => {
    if (m.op === 'chunk') {
      const ev = { visual: 'v1', ...m.chunk };
      const frame = JSON.stringify({ type: 'visual.event', data: ev });
      assert.ok(Buffer.byteLength(frame) < 16 * 1024, `frame of ${Buffer.byteLength(frame)} bytes is over the hub's limit`);
      wire.push(frame);
      await agent.evaluate((e) => window.mirror.push(e), ev).catch(() => {});
    } else if (m.op === 'result') results.push(m.result);
    else if (m.op === 'control') controls.push(m.granted);
  });

  await agent.goto(`${base}/agent.html`);
  await agent.evaluate(() => {
    window.errors = [];
    window.mirror = new window.Mirror(document.getElementById('root'));
    window.mirror.onError = (c) => window.errors.push(c);
  });

  await customer.goto(`${base}/host.html`);
  await customer.addScriptTag({ url: `${base}/cobrowse.js` });
  await customer.evaluate(() => {
    const ch = new MessageChannel();
    window.ParleyCobrowse.start(ch.port1);
    ch.port2.onmessage = (e) => window.toHub(e.data);
    window.toRecorder = (m) => ch.port2.postMessage(m);
  });

  // The customer types: a name the agent may see, and three secrets it must not.
  await customer.fill('#name', 'Ada');
  await customer.fill('#pw', SECRET_PASSWORD);
  await customer.fill('#card', SECRET_CARD);
  await customer.fill('#note', SECRET_MASKED);

  // The agent's replay shows the page and the name.
  const replayValue = (sel) =>
    agent.evaluate((s) => document.querySelector('iframe')?.contentDocument?.querySelector(s)?.value ?? null, sel);
  await until('the name in the agent replay', async () => (await replayValue('#name')) === 'Ada');
  assert.equal(await agent.evaluate(() => document.querySelector('iframe').contentDocument.querySelector('h1').textContent), 'Checkout');
  assert.equal(await agent.evaluate(() => document.querySelector('iframe').getAttribute('sandbox')), 'allow-same-origin');
  // rrweb masked them (the leak guard, the last line of defence, had nothing to hold back).
  await until('the masked card in the replay', async () => (await replayValue('#card')) === '********');
  assert.equal(await replayValue('#pw'), '********');
  assert.equal(await replayValue('#note'), null, 'the data-parley-mask block is not rebuilt at the agent');
  // Let the last batches (typing is sampled) go out too.
  await new Promise((r) => setTimeout(r, 300));

  // On the wire: none of the secrets, in any spelling.
  const all = wire.join('\n');
  for (const s of [SECRET_PASSWORD, SECRET_CARD, SECRET_CARD.replaceAll(' ', ''), SECRET_MASKED]) {
    assert.ok(!all.includes(s), `secret ${s} reached the wire`);
  }
  assert.ok(all.includes('Ada'), 'the plain field did reach the agent');

  // Hostile markup ran nothing at the agent's: no script, no handler.
  assert.equal(await agent.evaluate(() => window.__pwned ?? null), null);
  assert.equal(await agent.evaluate(() => document.querySelector('iframe').contentWindow.__hostScriptRan ?? null), null);
  assert.equal(await customer.evaluate(() => window.__hostScriptRan), true, 'the host page\'s own script ran at the customer\'s');
  assert.equal(await agent.evaluate(() => document.title), 'Agent');

  // Laser pointer: the agent points at a quarter across, half down.
  await customer.evaluate(() => window.toRecorder({ op: 'pointer', pointer: { x: 0.25, y: 0.5, visible: true } }));
  const dot = customer.getByTestId('laser-dot');
  await dot.waitFor({ state: 'visible', timeout: 5000 });
  assert.equal(await dot.getAttribute('data-x'), '250');
  assert.equal(await dot.getAttribute('data-y'), '350');
  const box = await dot.boundingBox();
  assert.ok(Math.abs(box.x + box.width / 2 - 250) <= 2 && Math.abs(box.y + box.height / 2 - 350) <= 2, `dot at ${JSON.stringify(box)}`);
  await customer.screenshot({ path: join(resultsDir(), 'cobrowse-customer-laser.png') });
  await agent.screenshot({ path: join(resultsDir(), 'cobrowse-agent-replay.png') });

  // The agent finds the fields in its replay, as the view does on a click.
  const nodeOf = (sel) =>
    agent.evaluate((s) => {
      const f = document.querySelector('iframe');
      const el = f.contentDocument.querySelector(s);
      const r = el.getBoundingClientRect();
      return window.mirror.nodeAt((r.left + r.width / 2) / window.mirror.width, (r.top + r.height / 2) / window.mirror.height);
    }, sel);
  const nameNode = await nodeOf('#name');
  const pwNode = await nodeOf('#pw');
  const incNode = await nodeOf('#inc');
  assert.ok(nameNode > 0 && pwNode > 0 && incNode > 0);
  const command = async (c) => {
    const n = results.length;
    await customer.evaluate((cmd) => window.toRecorder({ op: 'command', command: cmd }), c);
    return until('a command result', () => results[n]);
  };

  // Without control: refused, nothing changes.
  assert.deepEqual(await command({ action: 'type', node: nameNode, text: 'X' }), { ok: false, code: 'EFORBIDDEN' });
  assert.equal(await customer.inputValue('#name'), 'Ada');

  // The customer grants control: the agent types and clicks, the page changes.
  await customer.evaluate(() => window.toRecorder({ op: 'control', granted: true }));
  await customer.getByTestId('visual-take-back').waitFor({ state: 'visible', timeout: 5000 });
  assert.deepEqual(await command({ action: 'type', node: nameNode, text: ' Lovelacx\b\be' }), { ok: true });
  assert.equal(await customer.inputValue('#name'), 'Ada Lovelae');
  assert.deepEqual(await command({ action: 'click', node: incNode }), { ok: true });
  assert.equal(await customer.textContent('#inc'), 'clicked 1');
  assert.deepEqual(await command({ action: 'scroll', x: 0, y: 400 }), { ok: true });
  assert.equal(await customer.evaluate(() => Math.round(window.scrollY)), 400);
  await until('the replay to show the typed name', async () => (await replayValue('#name')) === 'Ada Lovelae');

  // Never into a masked field, nor a node that does not exist, nor a javascript: URL.
  assert.deepEqual(await command({ action: 'type', node: pwNode, text: 'x' }), { ok: false, code: 'EFORBIDDEN' });
  assert.equal(await customer.inputValue('#pw'), SECRET_PASSWORD);
  assert.deepEqual(await command({ action: 'type', node: 999999, text: 'x' }), { ok: false, code: 'ENOTFOUND' });
  assert.deepEqual(await command({ action: 'navigate', url: 'javascript:alert(1)' }), { ok: false, code: 'EINVALID' });
  assert.deepEqual(await command({ action: 'rm -rf' }), { ok: false, code: 'EINVALID' });

  // The customer takes control back: at once, the next command is refused.
  await customer.getByTestId('visual-take-back').click();
  await until('the control change', () => controls.length === 1);
  assert.deepEqual(controls, [false]);
  assert.deepEqual(await command({ action: 'click', node: incNode }), { ok: false, code: 'EFORBIDDEN' });
  assert.equal(await customer.textContent('#inc'), 'clicked 1');
  assert.ok(await customer.getByTestId('visual-take-back').isHidden());

  // Malformed and oversized frames at the agent: coded errors, the replay goes on.
  const errs = await agent.evaluate(() => {
    const m = window.mirror;
    m.push({ visual: 'v1', seq: 9000, part: 0, parts: 1, data: '{not json' });
    m.push({ visual: 'v1', seq: 9001, part: 0, parts: 1, data: '[{"type":99,"timestamp":1,"data":{}}]' });
    m.push({ visual: 'v1', seq: 9002, part: 1, parts: 2, data: '[]' });
    m.push({ visual: 'v1', seq: -1, part: 'x', parts: 1, data: 5 });
    const big = 'x'.repeat(1 << 20);
    for (let i = 0; i < 9; i++) m.push({ visual: 'v1', seq: 9003, part: i, parts: 11, data: big });
    return window.errors;
  });
  assert.deepEqual(errs, ['EINVALID', 'EINVALID', 'EINVALID', 'EINVALID', 'ETOOLARGE']);

  // The customer goes to the site's next page and the recorder starts there (the widget does this,
  // see the through-the-hub test): the same replay takes the new page's snapshot.
  await customer.goto(`${base}/host.html`);
  await customer.evaluate(() => (document.querySelector('h1').textContent = 'Delivery options'));
  await customer.addScriptTag({ url: `${base}/cobrowse.js` });
  await customer.evaluate(() => {
    const ch = new MessageChannel();
    window.ParleyCobrowse.start(ch.port1);
    ch.port2.onmessage = (e) => window.toHub(e.data);
  });
  await until('the next page in the agent replay', async () =>
    (await agent.evaluate(() => document.querySelector('iframe')?.contentDocument?.querySelector('h1')?.textContent ?? null)) === 'Delivery options');
  assert.equal(await agent.evaluate(() => window.__pwned ?? null), null);
  // The new page's snapshot started a fresh replay and the old one went with its events (a
  // shift-long co-browse holds only what came since the last snapshot).
  assert.deepEqual(await agent.evaluate(() => [document.querySelectorAll('iframe').length, window.mirror.rebuilds]), [1, 1]);
  assert.equal(await agent.evaluate(() => document.querySelector('iframe').getAttribute('sandbox')), 'allow-same-origin');
  await agent.screenshot({ path: join(resultsDir(), 'cobrowse-agent-next-page.png') });

  await ctx.close();
});

test('screen share: the customer\'s screen reaches the agent\'s Go engine as moving frames', async (t) => {
  const probeBin = process.env.PARLEY_SCREENSHARE_PROBE || join(root, 'out/screenshare-probe');
  const probe = spawn(probeBin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => probe.kill());
  const sb = await launchChromium({ media: true, args: ['--auto-select-desktop-capture-source=Entire screen'] });
  t.after(() => sb.close());
  const page = await sb.newPage();
  const hub = []; // what the customer's browser sent
  let last = { frames: 0, distinct: 0 };
  const errors = [];
  createInterface({ input: probe.stdout }).on('line', (line) => {
    const m = JSON.parse(line);
    if (m.signal) page.evaluate((sig) => window.share.handle({ type: 'visual.signal', data: sig }), m.signal).catch(() => {});
    else if (m.error) errors.push(m.error);
    else last = m;
  });
  await page.exposeFunction('toHub', (type, data) => {
    hub.push({ type, data });
    if (type === 'visual.signal') probe.stdin.write(JSON.stringify(data) + '\n');
  });
  await page.goto(`${base}/share.html`);
  await page.evaluate(async () => {
    const proto = { request: async (type, data) => window.toHub(type, data), notify: (type, data) => (window.toHub(type, data), true) };
    window.states = [];
    window.share = window.createScreenShare(proto, { id: 'v1', conv: 'c1', kind: 'screenshare', provider: 'builtin-screenshare', state: 'active' });
    window.share.onChange = (s) => window.states.push(s);
    await window.share.start();
  });
  await until('moving frames at the agent', () => last.frames >= 30 && last.distinct >= 5, 30_000);
  assert.deepEqual(errors, []);
  t.diagnostic(`agent decoded ${last.frames} frames (${last.distinct} different) of ${last.width}x${last.height}`);
  assert.ok(last.width >= 640 && last.height >= 360, `frames of ${last.width}x${last.height}`);
  assert.equal(await page.evaluate(() => window.share.surface), 'monitor');
  assert.ok((await page.evaluate(() => window.states)).includes('live'));

  // A whole screen: the browser lets no page draw over it, so no laser dot is drawn here.
  await page.evaluate(() => window.share.handle({ type: 'visual.pointer', data: { visual: 'v1', x: 0.5, y: 0.5, visible: true } }));
  assert.equal(await page.getByTestId('laser-dot').count(), 0);
  // Another engagement's frames are not ours.
  await page.evaluate(() => window.share.handle({ type: 'visual.state', data: { visual: 'v2', state: 'ended' } }));
  assert.equal(await page.evaluate(() => window.share.state), 'live');

  // The customer stops: the capture ends and the hub is told.
  await page.evaluate(() => window.share.stop(true));
  assert.ok(hub.some((f) => f.type === 'visual.stop' && f.data.visual === 'v1'));
  assert.equal(await page.evaluate(() => window.share.state), 'ended');
  // What the customer sent: an offer and candidates for v1, never anything else.
  assert.ok(hub.some((f) => f.type === 'visual.signal' && f.data.sdp?.type === 'offer'));
  assert.ok(hub.every((f) => f.data.visual === 'v1'));
});

test('widget: the loader brings the recorder to the host page only when the chat asks, and hands the chat its port', async (t) => {
  const hub = await startHub();
  t.after(() => hub.stop());
  const site = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html><head><title>Acme Store</title></head><body><h1>Acme Store</h1>
<label>Password <input id="pw" type="password"></label>
<script src="${hub.url}/widget.js" data-org="demo" async></script></body></html>`);
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  t.after(() => {
    site.closeAllConnections();
    return new Promise((r) => site.close(r));
  });
  const ctx = await browser.newContext();
  t.after(() => ctx.close());
  const page = await ctx.newPage();
  await page.goto(`http://localhost:${site.address().port}/`);
  await page.fill('#pw', SECRET_PASSWORD);
  const launcher = page.getByRole('button', { name: 'Open chat' });
  await launcher.waitFor({ timeout: 15_000 });

  // The host page itself cannot make the loader fetch the recorder: only the chat's frame can.
  await page.evaluate(() => window.postMessage({ parley: 'cobrowse' }, '*'));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await page.evaluate(() => typeof window.ParleyCobrowse), 'undefined');
  assert.equal(await page.evaluate(() => document.querySelectorAll('script[src*="cobrowse-"]').length), 0);

  await launcher.click();
  const frame = await until('the chat frame', () => page.frames().find((f) => f.url().startsWith(`${hub.url}/chat/demo`)), 15_000);
  await frame.waitForLoadState();
  await frame.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no port from the loader')), 10_000);
        addEventListener('message', (e) => {
          if (e.source !== parent || e.data?.parley !== 'cobrowse-port') return;
          clearTimeout(timer);
          window.__chunks = [];
          e.ports[0].onmessage = (m) => window.__chunks.push(m.data);
          resolve();
        });
        parent.postMessage({ parley: 'cobrowse' }, '*');
      }),
  );
  assert.equal(await page.evaluate(() => typeof window.ParleyCobrowse), 'object');
  const src = await page.evaluate(() => document.querySelector('script[src*="cobrowse-"]').src);
  assert.ok(src.startsWith(`${hub.url}/portal/assets/cobrowse-`), src);
  const text = await until(
    'the host page in the recording',
    async () => {
      const chunks = await frame.evaluate(() => window.__chunks.filter((m) => m.op === 'chunk').map((m) => m.chunk.data));
      const all = chunks.join('');
      return all.includes('Acme Store') && all;
    },
    10_000,
  );
  assert.ok(!text.includes(SECRET_PASSWORD), 'the password left the host page');
  // The widget itself is left out of the recording.
  assert.ok(!text.includes('Open chat') && !text.includes('Close chat'), 'the widget was recorded');
});

test('through the hub: parley-agent co-browses a site with the widget: PIN, page, laser dot, typing with control, taken back', async (t) => {
  const hub = await startHub();
  t.after(() => hub.stop());
  const record = join(mkdtempSync(join(tmpdir(), 'parley-cobrowse-')), 'record.jsonl');
  const agent = await startAgent(hub.url, { args: ['-accept', '-cobrowse', '-cobrowse-record', record, '-cobrowse-field', 'name,pw'] });
  t.after(() => agent.stop());
  const site = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    if (req.url === '/delivery') {
      return res.end(`<!doctype html><html><head><title>Acme Delivery</title></head><body style="font:16px sans-serif;margin:24px">
<h1>Acme Delivery Options</h1><p>Next-day or standard.</p>
<script src="${hub.url}/widget.js" data-org="demo" async></script></body></html>`);
    }
    res.end(`<!doctype html><html><head><title>Acme Store</title></head><body style="font:16px sans-serif;margin:24px">
<h1>Acme Checkout</h1><p><a id="delivery" href="/delivery">Delivery options</a></p>
<label>Name <input id="name" value="Ada"></label><br>
<label>Password <input id="pw" type="password"></label><br>
<label>Card <input id="card" autocomplete="cc-number"></label><br>
<div data-parley-mask>Account ${SECRET_MASKED}</div>
<script src="${hub.url}/widget.js" data-org="demo" async></script></body></html>`);
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  t.after(() => {
    site.closeAllConnections();
    return new Promise((r) => site.close(r));
  });
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  t.after(() => ctx.close());
  // Every frame the customer's browser sends the hub: the wire itself.
  const sent = [];
  ctx.on('page', () => {});
  const page = await ctx.newPage();
  page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
  await page.goto(`http://localhost:${site.address().port}/`);
  await page.fill('#pw', SECRET_PASSWORD);
  await page.fill('#card', SECRET_CARD);
  // The agent invites and shares the PIN in the chat; the customer types it and accepts.
  const chat = await chatAndAccept(page, 'Grace', 'can you see my page?', 'Co-browse PIN');
  await chat.getByTestId('visual-indicator').waitFor({ timeout: 10_000 });

  // The agent sees the page: a full snapshot with the heading arrives.
  await until('the page at the agent', () => existsSync(record) && readFileSync(record, 'utf8').includes('Acme Checkout'), 20_000);
  assert.ok(agent.logs.some((l) => l.includes('msg="cobrowse batch"') && l.includes('full_snapshot=true')));

  // The laser dot shows on the customer's page where the agent pointed (a quarter across, half down).
  const dot = page.getByTestId('laser-dot');
  await dot.waitFor({ state: 'visible', timeout: 10_000 });
  assert.equal(await dot.getAttribute('data-x'), '300');
  assert.equal(await dot.getAttribute('data-y'), '400');
  await page.screenshot({ path: join(resultsDir(), 'cobrowse-hub-customer.png') });

  // The customer grants control: the agent types into the name field, the page changes.
  await chat.getByTestId('visual-control').check();
  await until('the agent typing', async () => (await page.inputValue('#name')) === 'Ada via agent', 15_000);
  // Typing into the password field is refused by the page itself, and the agent is told why.
  await until('the page\'s refusal at the agent', () => agent.logs.some((l) => l.includes('msg="cobrowse command refused by the page"') && l.includes('action=type') && l.includes('code=EFORBIDDEN')), 15_000);
  assert.equal(await page.inputValue('#pw'), SECRET_PASSWORD);

  // The customer takes control back on the page: the agent's next command is refused.
  await page.getByTestId('visual-take-back').click();
  await until('the refusal at the agent', () => agent.logs.some((l) => l.includes('msg="cobrowse command refused"') && l.includes('code=EFORBIDDEN')), 15_000);
  assert.equal(await page.inputValue('#name'), 'Ada via agent');

  // On the wire (what the browser sent the hub) and at the agent: no secret, in any spelling.
  await new Promise((r) => setTimeout(r, 300));
  const wire = sent.join('\n');
  const got = readFileSync(record, 'utf8');
  assert.ok(wire.includes('visual.event'), 'no co-browse frames on the wire');
  for (const s of [SECRET_PASSWORD, SECRET_CARD, SECRET_CARD.replaceAll(' ', ''), SECRET_MASKED]) {
    assert.ok(!wire.includes(s), `secret ${s} reached the hub`);
    assert.ok(!got.includes(s), `secret ${s} reached the agent`);
  }

  // The customer follows a link to another page of the site: the widget there resumes the chat
  // and the co-browse, and the agent sees the new page.
  await page.click('#delivery');
  await page.waitForURL(/\/delivery$/);
  await until('the next page at the agent', () => readFileSync(record, 'utf8').includes('Acme Delivery Options'), 20_000);
  await page.frameLocator('iframe[title="Chat with us"]').getByTestId('visual-indicator').waitFor({ timeout: 10_000 });

  // With the chat closed, the next page still records, and its launcher says so.
  await page.getByRole('button', { name: 'Close chat' }).click();
  const shown = () => readFileSync(record, 'utf8').split('Acme Delivery Options').length - 1;
  const before = shown();
  await page.reload();
  await page.getByRole('button', { name: 'Open chat (you are sharing this page)' }).waitFor({ timeout: 10_000 });
  await until('the reloaded page at the agent', () => shown() > before, 20_000);
  await page.screenshot({ path: join(resultsDir(), 'cobrowse-hub-next-page.png') });

  // The customer stops sharing: the next page records nothing and loads no chat until asked.
  await page.getByRole('button', { name: 'Open chat (you are sharing this page)' }).click();
  await page.frameLocator('iframe[title="Chat with us"]').getByTestId('visual-stop').click();
  await page.getByRole('button', { name: 'Close chat' }).click();
  await page.getByRole('button', { name: 'Open chat', exact: true }).waitFor({ timeout: 10_000 });
  await page.reload();
  await page.getByRole('button', { name: 'Open chat', exact: true }).waitFor({ timeout: 10_000 });
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await page.locator('iframe[title="Chat with us"]').count(), 0, 'no chat loaded after the co-browse ended');
});

/**
 * chatAndAccept opens the widget on page, starts a chat as name and writes text; then waits for the
 * agent's message with the PIN (label names it), types the PIN into the invitation and accepts.
 * It returns the chat's frame.
 */
async function chatAndAccept(page, name, text, label) {
  await page.getByRole('button', { name: 'Open chat' }).click();
  const chat = page.frameLocator('iframe[title="Chat with us"]');
  await chat.getByTestId('prechat-name').fill(name);
  await chat.getByTestId('prechat-start').click();
  await chat.getByTestId('chat-input').fill(text);
  await chat.getByTestId('chat-send').click();
  const pinMsg = chat.locator('[data-testid="chat-message"][data-author="agent"]').filter({ hasText: label });
  await pinMsg.waitFor({ timeout: 20_000 });
  const pin = /(\d{6})/.exec(await pinMsg.textContent())[1];
  await chat.getByTestId('visual-invite').waitFor({ timeout: 10_000 });
  await chat.getByTestId('visual-pin').fill(pin);
  await chat.getByTestId('visual-accept').click();
  return chat;
}

/** jpegs reads n JPEG pictures from a loopback MJPEG URL, spaced by at least gapMs. */
function jpegs(url, n, gapMs) {
  return new Promise((resolve, reject) => {
    const out = [];
    let buf = Buffer.alloc(0);
    let last = 0;
    const req = http.get(url, (res) => {
      res.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const start = buf.indexOf(Buffer.from([0xff, 0xd8]));
          const end = start < 0 ? -1 : buf.indexOf(Buffer.from([0xff, 0xd9]), start + 2);
          if (end < 0) break;
          const pic = buf.subarray(start, end + 2);
          buf = buf.subarray(end + 2);
          if (Date.now() - last >= gapMs) {
            out.push(Buffer.from(pic));
            last = Date.now();
          }
          if (out.length === n) {
            req.destroy();
            return resolve(out);
          }
        }
      });
    });
    req.on('error', (e) => (out.length === n ? null : reject(e)));
    setTimeout(() => {
      req.destroy();
      reject(new Error(`got ${out.length} of ${n} pictures from ${url}`));
    }, 15_000);
  });
}

test('through the hub: the customer shares their screen from the widget; the agent\'s engine shows moving frames', async (t) => {
  const hub = await startHub();
  t.after(() => hub.stop());
  const urls = join(mkdtempSync(join(tmpdir(), 'parley-share-')), 'urls');
  const agent = await startAgent(hub.url, { args: ['-accept', '-screenshare', '-screenshare-urls', urls] });
  t.after(() => agent.stop());
  const site = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>Acme</title><h1>Acme</h1><script src="${hub.url}/widget.js" data-org="demo" async></script>`);
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  t.after(() => {
    site.closeAllConnections();
    return new Promise((r) => site.close(r));
  });
  const sb = await launchChromium({ media: true, args: ['--auto-select-desktop-capture-source=Entire screen'] });
  t.after(() => sb.close());
  const page = await sb.newPage();
  await page.goto(`http://localhost:${site.address().port}/`);
  const chat = await chatAndAccept(page, 'Linus', 'my screen is weird', 'Screen share PIN');

  const line = await until('the first frame at the agent', () => agent.logs.find((l) => l.includes('msg=screenshare') && l.includes('frames=true')), 30_000);
  // The stream's token never reaches the log; the URL is in the agent's private file.
  assert.ok(!agent.logs.some((l) => /\/video\/[^/\s…]+\.mjpeg/.test(l)), 'an MJPEG token in the agent log');
  const url = /^\S+ (http:\/\/127\.0\.0\.1:\d+\/\S+)$/m.exec(await until('the MJPEG URL file', () => existsSync(urls) && readFileSync(urls, 'utf8')))[1];
  assert.equal(statSync(urls).mode & 0o777, 0o600);
  const [a, b] = await jpegs(url, 2, 500);
  assert.ok(!a.equals(b), 'the customer\'s screen does not move at the agent');
  t.diagnostic(`agent MJPEG: ${a.length} and ${b.length} byte pictures, ${/width=(\d+)/.exec(line)[1]}x${/height=(\d+)/.exec(line)[1]}`);

  // The customer stops sharing: the agent's call closes.
  await chat.getByTestId('visual-stop').click();
  await until('the agent closing the share', () => agent.logs.some((l) => l.includes('msg=screenshare') && l.includes('connection=closed')), 10_000);
});
