// HTTPS the ways docs/deploy.md gives it, each with a customer in real Chromium and an agent (the
// headless agent) chatting over the WebSocket through it:
//   - the hub serving HTTPS itself (-tls-cert/-tls-key) with a certificate made in this test by a CA
//     made in this test: the portal is a secure context at a name that is not loopback, so the
//     customer gets the camera;
//   - nginx in front, with the configuration copied from docs/deploy.md (only the listen address,
//     the certificate paths and the hub's port are changed);
//   - Caddy in front, likewise (its site address and certificate changed, ACME off).
// Chromium reaches the name chat.example.com through --host-resolver-rules and trusts the
// certificate by its key (--ignore-certificate-errors-spki-list); the agent trusts the CA
// (SSL_CERT_FILE).
// Run: make test-deploy-e2e (needs out/parley-hub, out/parley-agent, nginx, and out/tools/caddy or
// PARLEY_CADDY). Screenshots go to test-results/deploy-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary, desktop, launchChromium, mediaFlags, resultsDir, root, start, startAgent, watch } from './lib/index.mjs';

const T = 30_000;
const NAME = 'chat.example.com';
const shots = resultsDir();
let dir, browser, ca, cert, key;
const stopLater = [];

/** freePort asks the kernel for a free loopback port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** docBlock returns the fenced block of the given language from docs/deploy.md. */
function docBlock(lang) {
  const md = readFileSync(join(root, 'docs/deploy.md'), 'utf8');
  const m = md.match(new RegExp('```' + lang + '\\n([\\s\\S]*?)```'));
  assert.ok(m, `docs/deploy.md has a ${lang} block`);
  return m[1];
}

/** replace replaces one exact piece of a documented configuration, failing if the docs changed. */
function replace(conf, from, to) {
  assert.ok(conf.includes(from), `the documented configuration holds ${JSON.stringify(from)}`);
  return conf.replace(from, to);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-deploy-'));
  const o = (...a) => execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  // A CA, and a certificate for chat.example.com and 127.0.0.1 signed by it.
  o('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Parley test CA');
  o('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'hub.key', '-out', 'hub.csr', '-subj', `/CN=${NAME}`);
  writeFileSync(join(dir, 'ext'), `subjectAltName=DNS:${NAME},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`);
  o('x509', '-req', '-in', 'hub.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'hub.pem', '-days', '2', '-extfile', 'ext');
  [ca, cert, key] = ['ca.pem', 'hub.pem', 'hub.key'].map((f) => join(dir, f));
  process.env.SSL_CERT_FILE = ca; // the headless agents started below trust the test CA (Go on Linux)
  const spki = new X509Certificate(readFileSync(cert)).publicKey.export({ type: 'spki', format: 'der' });
  browser = await launchChromium({
    args: [
      ...mediaFlags,
      `--host-resolver-rules=MAP ${NAME} 127.0.0.1`,
      `--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`,
    ],
  });
});

after(async () => {
  await browser?.close();
  for (const stop of stopLater.reverse()) await stop().catch(() => {});
  if (dir && !process.env.KEEP) rmSync(dir, { recursive: true, force: true });
});

/** hub runs the hub (demo organisation) with extra flags; resolves with its URL and port. */
async function hub(args = []) {
  const db = mkdtempSync(join(dir, 'db-'));
  const p = await start(binary('parley-hub', 'PARLEY_HUB'), ['-addr', '127.0.0.1:0', '-demo', '-db', join(db, 'hub.db'), ...args], {
    ready: /listening on (https?:\/\/[^\s"]+)/,
    name: 'hub',
  });
  stopLater.push(() => p.stop());
  const url = p.match[1].replace(/\/$/, '');
  return { url, port: new URL(url).port, logs: p.logs };
}

/**
 * chat puts a customer in Chromium at base (https://chat.example.com:PORT) and the headless agent
 * at agentBase through the same path, and checks a message each way, the page's secure context and
 * the camera.
 */
async function chat(base, agentBase, shot) {
  const agent = await startAgent(agentBase, { args: ['-accept', '-reply-echo'] }).catch((e) => {
    throw new Error(`the agent could not sign in through ${agentBase}: ${e.message}`);
  });
  stopLater.push(() => agent.stop());
  const context = await browser.newContext({ viewport: desktop, locale: 'en-US' });
  const page = await context.newPage();
  const errors = watch(page);
  await page.goto(`${base}/chat/demo`);
  assert.equal(await page.evaluate(() => window.isSecureContext), true, 'the portal is a secure context');
  const camera = await page.evaluate(async () => {
    const s = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    const kinds = s.getTracks().map((t) => t.kind).sort();
    s.getTracks().forEach((t) => t.stop());
    return kinds;
  });
  assert.deepEqual(camera, ['audio', 'video'], 'the customer gets the camera and the microphone');
  await page.getByTestId('prechat-name').fill('Noor');
  await page.getByTestId('prechat-start').click();
  await page.getByTestId('chat-input').waitFor({ timeout: T });
  await page.getByTestId('chat-input').fill('Hello through the proxy');
  await page.getByTestId('chat-input').press('Enter');
  // The agent echoes it: it went customer → hub → agent → hub → customer over WebSockets.
  await page.locator('[data-testid="chat-message"][data-author="agent"]').filter({ hasText: 'Hello through the proxy' }).waitFor({ timeout: T });
  await page.screenshot({ path: join(shots, shot) });
  assert.deepEqual(errors, []);
  await context.close();
  await agent.stop();
}

test('the hub serves HTTPS itself with a certificate made in the test: a customer gets the camera and chats', async () => {
  const h = await hub(['-tls-cert', cert, '-tls-key', key]);
  assert.match(h.url, /^https:/);
  await chat(`https://${NAME}:${h.port}`, `https://127.0.0.1:${h.port}`, 'deploy-https.png');
});

test('behind nginx with the configuration in docs/deploy.md: the customer and the agent chat over WebSockets through it', async () => {
  const h = await hub();
  const port = await freePort();
  let conf = docBlock('nginx');
  conf = replace(conf, 'listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`);
  conf = replace(conf, '/etc/letsencrypt/live/chat.example.com/fullchain.pem', cert);
  conf = replace(conf, '/etc/letsencrypt/live/chat.example.com/privkey.pem', key);
  conf = replace(conf, 'proxy_pass http://127.0.0.1:8080;', `proxy_pass http://127.0.0.1:${h.port};`);
  const n = join(dir, 'nginx');
  mkdirSync(join(n, 'tmp'), { recursive: true });
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${n}/tmp/${t};`).join(' ');
  writeFileSync(
    join(n, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;' : ''}\nworker_processes 1;\npid ${n}/nginx.pid;\nerror_log ${n}/error.log;\n` +
      `events { worker_connections 256; }\nhttp {\naccess_log ${n}/access.log;\n${temps}\n${conf}\n}\n`,
  );
  // nginx says nothing when it starts well: wait for its port.
  const p = await startQuiet('nginx', ['-p', n, '-c', join(n, 'nginx.conf'), '-g', 'daemon off;'], port);
  stopLater.push(() => p.stop());
  await chat(`https://${NAME}:${port}`, `https://127.0.0.1:${port}`, 'deploy-nginx.png');
  // The requests went through nginx (its access log has the portal and the WebSocket upgrade).
  const log = readFileSync(join(n, 'access.log'), 'utf8');
  assert.match(log, /GET \/chat\/demo /);
  assert.match(log, /" 101 /, 'a WebSocket upgrade (101) went through nginx');
});

test('behind Caddy with the configuration in docs/deploy.md: the customer and the agent chat over WebSockets through it', async () => {
  const caddy = process.env.PARLEY_CADDY || join(root, 'out/tools/caddy');
  assert.ok(existsSync(caddy), `no Caddy at ${caddy} (make out/tools/caddy)`);
  const h = await hub();
  const [port, httpPort] = [await freePort(), await freePort()];
  let conf = docBlock('caddy');
  // The site's name, plus 127.0.0.1 for the headless agent (Go cannot map a name to loopback).
  conf = replace(conf, `${NAME} {`, `https://${NAME}:${port}, https://127.0.0.1:${port} {\n    tls ${cert} ${key}`);
  conf = replace(conf, 'reverse_proxy 127.0.0.1:8080', `reverse_proxy 127.0.0.1:${h.port}`);
  const c = join(dir, 'caddy');
  mkdirSync(c, { recursive: true });
  // Global options keep this Caddy to itself: no admin endpoint, no redirect server, loopback only,
  // its files in the test's folder, and never its own CA in the machine's trust store.
  writeFileSync(
    join(c, 'Caddyfile'),
    `{\n    admin off\n    skip_install_trust\n    auto_https disable_redirects\n    default_bind 127.0.0.1\n    http_port ${httpPort}\n    https_port ${port}\n    storage file_system ${c}/data\n    log {\n        output file ${c}/caddy.log\n    }\n}\n${conf}`,
  );
  const p = await startQuiet(caddy, ['run', '--config', join(c, 'Caddyfile'), '--adapter', 'caddyfile'], port, { HOME: c, XDG_DATA_HOME: c, XDG_CONFIG_HOME: c });
  stopLater.push(() => p.stop());
  await chat(`https://${NAME}:${port}`, `https://127.0.0.1:${port}`, 'deploy-caddy.png');
});

/** startQuiet runs a server that may print nothing and resolves once it accepts on port. */
async function startQuiet(cmd, args, port, env = {}) {
  const { spawn } = await import('node:child_process');
  const { connect } = await import('node:net');
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  let exited = false;
  proc.on('exit', () => (exited = true));
  const stop = async () => {
    if (exited) return;
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  };
  const deadline = Date.now() + T;
  for (;;) {
    if (exited) throw new Error(`${cmd} exited: ${out}`);
    const ok = await new Promise((r) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return { stop, proc };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${cmd} did not listen on ${port}: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
