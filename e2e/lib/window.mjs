// The agent app's REAL window in end-to-end tests: a test build of the app (go build -tags
// desktop,production,webkit2_41,e2e: the release build plus internal/winharness) runs under
// xvfb-run; scripts run inside its own WebKitGTK view through the harness's loopback port, and the
// mouse and keyboard are real X input (xdotool) into that window. Screenshots are of the X display.
//
//   const win = await startWindow({ args: ['-hub', hub.url], lang: 'es_ES.UTF-8' });
//   await win.getByTestId('signin-username').fill('agent1');       // real clicks and keystrokes
//   await win.getByTestId('signin-submit').click();
//   await win.getByTestId('presence').waitFor();
//   const v = await win.evaluate(() => document.title);            // any script, its JSON answer
//   await win.keyboard.press('Alt+A');
//   await win.minimise(); await win.restore();                      // as a window manager would
//   await win.shot('app-window-offer.png');                         // test-results/, X screenshot
//   await win.stop();
//
// Locators mirror the part of Playwright's the tests use (getByTestId, locator, filter({hasText}),
// first, nth, waitFor, click, fill, press, textContent, inputValue, getAttribute, count,
// isDisabled, selectOption, boundingBox), so a test reads the same for a Chromium page and the
// window.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { resultsDir, root } from './paths.mjs';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** windowBinary is the test build of the app: $PARLEY_APP_E2E, else out/parley-e2e. */
export function windowBinary() {
  return process.env.PARLEY_APP_E2E || join(root, 'out', 'parley-e2e');
}

/**
 * startWindow runs the test build under xvfb-run (its own X display, 1280x800, no key
 * autorepeat) with args and env, the system language set to lang (LANG; the webview takes the
 * page's language from it), and resolves once the window's page has loaded, its bindings answer
 * and the pointer is calibrated. Xvfb and the app form their own process group: stop() ends both.
 *
 * Each window starts from nothing, like a first start on a new desktop: its own XDG_CONFIG_HOME
 * (the app's remembered sign-in), XDG_DATA_HOME (the webview's localStorage, e.g. where the
 * agent last dragged the call control) and XDG_CACHE_HOME, removed by stop(). Without that,
 * every run on a machine inherited the last one's page state (CI: HOME persists between runs).
 */
export async function startWindow({ args = [], env = {}, lang = 'en_US.UTF-8', readyTimeoutMs = 90_000, wait = true, binary } = {}) {
  const bin = binary || windowBinary();
  if (!existsSync(bin)) throw new Error(`${bin} missing: make out/parley-e2e`);
  const home = mkdtempSync(join(tmpdir(), 'parley-window-'));
  const xdg = Object.fromEntries(['config', 'data', 'cache'].map((d) => [`XDG_${d.toUpperCase()}_HOME`, join(home, d)]));
  for (const d of Object.values(xdg)) mkdirSync(d);
  // -r: no server-side key autorepeat. On a loaded machine a KeyRelease can come late enough for
  // the X server to repeat the key ("super1" typed as "superr1").
  const proc = spawn(
    'xvfb-run',
    ['-a', '-s', '-screen 0 1280x800x24 -nolisten tcp -r', 'sh', '-c', 'echo "xdisplay $DISPLAY $XAUTHORITY"; exec "$0" "$@"', bin, ...args],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...xdg, LANGUAGE: '', LC_ALL: '', LC_MESSAGES: '', LANG: lang, GDK_BACKEND: 'x11', ...env },
    },
  );
  const logs = [];
  let display, harness;
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  for (const stream of [proc.stdout, proc.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        logs.push(line);
        if (process.env.E2E_VERBOSE) console.error(`[window] ${line}`);
        display ??= line.match(/xdisplay (\S+) (\S+)/);
        harness ??= line.match(/parley-e2e: (\S+) (\S+)/);
      }
    });
  }
  const kill = (sig) => {
    try {
      process.kill(-proc.pid, sig);
      return true;
    } catch {
      return false; // gone
    }
  };
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null && kill('SIGTERM')) {
      const t = setTimeout(() => kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(home, { recursive: true, force: true });
  };
  process.on('exit', () => {
    kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });
  const win = new Window({ proc, logs, exited, stop, bin });
  win.ready = async () => {
    const end = Date.now() + readyTimeoutMs;
    const gone = exited.then((code) => Promise.reject(new Error(`the app exited (${code})`)));
    gone.catch(() => {});
    try {
      while (!(display && harness)) {
        if (Date.now() > end) throw new Error('no display or harness address reported');
        await Promise.race([sleep(100), gone]);
      }
      win.display = display[1];
      win.xauthority = display[2];
      win.url = harness[1];
      win.token = harness[2];
      await Promise.race([win.waitForFunction(() => document.readyState === 'complete' && !!window.go?.app && !!window.runtime, null, { timeout: end - Date.now() }), gone]);
      await Promise.race([win.calibrate(end - Date.now()), gone]);
    } catch (e) {
      await stop();
      throw new Error(`the window did not start: ${e.message}; output:\n${logs.join('\n')}`);
    }
    return win;
  };
  if (!wait) return win;
  return win.ready();
}

/** Window is one running app window: script, locators, real mouse and keyboard, screenshots. */
class Window {
  constructor({ proc, logs, exited, stop, bin }) {
    this.proc = proc;
    this.bin = bin;
    this.logs = logs;
    this.exited = exited;
    this.stop = stop;
    this.origin = { x: 0, y: 0 }; // the page's (0,0) on the X screen
    this.screen = { width: 1280, height: 800 }; // the X screen (calibrate reads it)
    this.pointer = null; // where the last move put the pointer, in page coordinates
    this.keyboard = {
      press: (keys) => this.xdo(['key', '--clearmodifiers', xKeys(keys)]),
      type: (text) => this.xdo(['type', '--delay', '8', '--clearmodifiers', '--', text]),
    };
    this.mouse = {
      // move(x, y, {steps}) moves the pointer to page point (x, y), in steps moves from where
      // it is (as Playwright's does: a drag sends the page motion on the way).
      move: async (x, y, { steps = 1 } = {}) => {
        const from = this.pointer ?? { x, y };
        for (let i = 1; i <= steps; i++) await this.moveTo(from.x + ((x - from.x) * i) / steps, from.y + ((y - from.y) * i) / steps, `mouse.move(${x}, ${y})`);
      },
      down: () => this.xdo(['mousedown', '1']),
      up: () => this.xdo(['mouseup', '1']),
      click: async (x, y) => {
        await this.mouse.move(x, y);
        await this.xdo(['click', '1']);
      },
    };
  }

  /**
   * moveTo puts the X pointer on page point (x, y). A point off the X screen is refused with an
   * error naming what was aimed at (what), never handed to xdotool: X would pin the pointer to
   * the screen's edge and the click land on something else (and xdotool reads "-244" as an
   * option). No --sync: xdotool waits forever for a move to a point the pointer is already at;
   * the X server handles XTest events in order, so a click sent after the move lands there.
   */
  async moveTo(x, y, what) {
    const sx = Math.round(this.origin.x + x);
    const sy = Math.round(this.origin.y + y);
    const { width, height } = this.screen;
    if (!Number.isFinite(sx) || !Number.isFinite(sy) || sx < 0 || sy < 0 || sx >= width || sy >= height) {
      throw new Error(`${what}: page point (${Math.round(x)}, ${Math.round(y)}) is (${sx}, ${sy}) on the X screen, which is ${width}x${height}: off the screen`);
    }
    await this.xdo(['mousemove', '--', String(sx), String(sy)]);
    this.pointer = { x, y };
  }

  /** pid is the process id of xvfb-run (the group leader); appPid() finds the app itself. */
  get pid() {
    return this.proc.pid;
  }

  /** xenv is the environment that reaches the window's X display. */
  get xenv() {
    return { ...process.env, DISPLAY: this.display, XAUTHORITY: this.xauthority };
  }

  /** xdo runs xdotool on the window's display (E2E_TRACE=1 logs each with its duration). */
  async xdo(args) {
    const t0 = Date.now();
    await run('xdotool', args, { env: this.xenv, timeout: 20_000 });
    if (process.env.E2E_TRACE) console.error(`[window] xdotool ${args.join(' ')}: ${Date.now() - t0} ms`);
  }

  /**
   * evaluate runs fn(...args) inside the window's page and resolves with its (JSON) result; a
   * promise is awaited; an exception rejects with the page's stack.
   */
  async evaluate(fn, ...args) {
    const script = `(${fn.toString()})(...${JSON.stringify(args)})`;
    return this.script(script);
  }

  /** script runs a JavaScript expression in the page (see evaluate). */
  async script(script, timeoutMs = 15_000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      let res;
      try {
        res = await fetch(`${this.url}/eval`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ script, timeout_ms: Math.max(end - Date.now(), 100) }),
          signal: AbortSignal.timeout(timeoutMs + 5_000),
        });
      } catch (e) {
        throw new Error(`the window's harness did not answer: ${e.message}`);
      }
      // 503: the page is (re)loading; ask again until the deadline.
      if (res.status === 503 && Date.now() < end) {
        await sleep(100);
        continue;
      }
      const text = await res.text();
      if (process.env.E2E_TRACE) console.error(`[window] script ${script.slice(0, 80).replace(/\s+/g, ' ')}: ${res.status}`);
      if (!res.ok) throw new Error(`window script failed (${res.status} ${text.trim()}): ${script.slice(0, 200)}`);
      const r = JSON.parse(text);
      if (!r.ok) throw new Error(`in the window: ${r.error}`);
      return r.value;
    }
  }

  /** waitForFunction polls fn(arg) in the page until it returns something truthy, and returns it. */
  async waitForFunction(fn, arg, { timeout = 40_000, polling = 50 } = {}) {
    const end = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        const v = await this.script(`(${fn.toString()})(${JSON.stringify(arg ?? null)})`, Math.max(end - Date.now(), 1_000));
        if (v) return v;
      } catch (e) {
        last = e;
      }
      if (Date.now() > end) throw new Error(`waitForFunction timed out after ${timeout} ms: ${fn.toString().slice(0, 200)}${last ? ` (last error: ${last.message})` : ''}`);
      await sleep(polling);
    }
  }

  /** waitForTimeout waits ms (for things a test must let happen, e.g. "no offer arrives"). */
  waitForTimeout(ms) {
    return sleep(ms);
  }

  /**
   * calibrate finds where the page's (0,0) is on the X screen (the window has no decorations
   * under a bare Xvfb, but nothing promises that), gives the window the keyboard focus and checks
   * a real mouse move arrives in the page.
   */
  async calibrate(timeout = 40_000) {
    const { stdout } = await run('xdotool', ['search', '--sync', '--onlyvisible', '--name', '^Parley$'], { env: this.xenv, timeout });
    this.windowId = stdout.trim().split('\n')[0];
    const { stdout: screen } = await run('xdotool', ['getdisplaygeometry'], { env: this.xenv, timeout });
    const [width, height] = screen.trim().split(/\s+/).map(Number);
    if (width > 0 && height > 0) this.screen = { width, height };
    await this.xdo(['windowfocus', '--sync', this.windowId]);
    await this.evaluate(() => {
      window.__e2eMouse = null;
      document.addEventListener('mousemove', (e) => (window.__e2eMouse = { x: e.clientX, y: e.clientY }), true);
    });
    const { stdout: geo } = await run('xdotool', ['getwindowgeometry', '--shell', this.windowId], { env: this.xenv });
    const g = Object.fromEntries(geo.trim().split('\n').map((l) => l.split('=')));
    const [px, py] = [Number(g.X) + 200, Number(g.Y) + 150];
    let seen;
    const end = Date.now() + timeout;
    for (let i = 0; !seen; i++) {
      if (Date.now() > end) throw new Error('the page never saw the pointer move');
      // Move off and back, so each try is a new motion event.
      await this.xdo(['mousemove', '--', String(px + (i % 2)), String(py)]);
      seen = await this.evaluate(() => window.__e2eMouse);
      if (!seen) await sleep(100);
      else {
        this.origin = { x: px + (i % 2) - seen.x, y: py - seen.y };
        this.pointer = seen;
      }
    }
  }

  /**
   * minimise hides the window as a window manager does with an iconified one (Xvfb has none):
   * unmaps it, and waits until the page knows it is hidden.
   */
  async minimise(timeout = 40_000) {
    await this.xdo(['windowunmap', '--sync', this.windowId]);
    await this.waitForFunction(() => document.visibilityState === 'hidden', null, { timeout });
  }

  /** restore shows the window again, gives it the keyboard and waits until the page is visible. */
  async restore(timeout = 40_000) {
    await this.xdo(['windowmap', '--sync', this.windowId]);
    await this.xdo(['windowfocus', '--sync', this.windowId]);
    await this.waitForFunction(() => document.visibilityState === 'visible', null, { timeout });
  }

  /** locator finds elements by CSS selector. */
  locator(css) {
    return new Locator(this, [{ css }]);
  }

  /** getByTestId finds elements by data-testid. */
  getByTestId(id) {
    return this.locator(`[data-testid="${id}"]`);
  }

  /** getByText finds the innermost elements whose text matches (string: contains; RegExp). */
  getByText(text) {
    return new Locator(this, [{ css: '*' }, { text: pattern(text), innermost: true }]);
  }

  /**
   * shot saves an X screenshot of the window's display as test-results/name and checks it is
   * not blank (a picture of an empty or black window has few distinct colours).
   */
  async shot(name) {
    const file = join(resultsDir(), name);
    await run('import', ['-window', 'root', file], { env: this.xenv, timeout: 30_000 });
    const { stdout } = await run('identify', ['-format', '%k', file], { timeout: 30_000 });
    assert.ok(Number(stdout) > 50 && statSync(file).size > 10_000, `${name} looks blank (${stdout.trim()} colours)`);
    return file;
  }

  /**
   * pixels is what the X display shows in a page rectangle ({x, y, width, height}, as boundingBox
   * gives), as raw RGB bytes: the window's real pixels, e.g. to see video move.
   */
  async pixels(box) {
    const [x, y, w, h] = [this.origin.x + box.x, this.origin.y + box.y, box.width, box.height].map(Math.round);
    if (!(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= this.screen.width && y + h <= this.screen.height)) {
      throw new Error(`pixels(${JSON.stringify(box)}): not inside the ${this.screen.width}x${this.screen.height} X screen`);
    }
    const geo = `${w}x${h}+${x}+${y}`;
    const { stdout } = await run('import', ['-window', 'root', '-crop', geo, 'rgb:-'], { env: this.xenv, encoding: 'buffer', maxBuffer: 64 << 20, timeout: 30_000 });
    return stdout;
  }

  /** appPid finds the app's own process (xvfb-run's grandchild) for /proc measurements. */
  async appPid() {
    // By name (the kernel keeps 15 characters): xvfb-run's command line names the binary too.
    const { stdout } = await run('pgrep', ['-g', String(this.proc.pid), '-x', basename(this.bin).slice(0, 15)]);
    return Number(stdout.trim().split('\n')[0]);
  }
}

/** pattern makes a string or RegExp JSON-safe for the page. */
function pattern(text) {
  return text instanceof RegExp ? { re: text.source, flags: text.flags } : { s: String(text) };
}

/** xKeys turns Playwright key names ("Control+Shift+M", "Enter") into xdotool's ("ctrl+shift+m"). */
function xKeys(keys) {
  const names = { Control: 'ctrl', Shift: 'shift', Alt: 'alt', Meta: 'super', Enter: 'Return', Escape: 'Escape', Tab: 'Tab', Backspace: 'BackSpace', ArrowDown: 'Down', ArrowUp: 'Up', ArrowLeft: 'Left', ArrowRight: 'Right', Space: 'space' };
  return keys
    .split('+')
    .map((k) => names[k] ?? (k.length === 1 ? k.toLowerCase() : k))
    .join('+');
}

/**
 * findAll runs in the page: the elements a locator's steps select. Each step narrows: css
 * (querySelectorAll within each current match, or the document), text (keep those whose text
 * matches), nth.
 */
function findAll(steps) {
  let els = null;
  for (const st of steps) {
    if (st.css !== undefined) {
      const roots = els ?? [document];
      els = roots.flatMap((r) => [...r.querySelectorAll(st.css)]);
    } else if (st.text) {
      const m = (t) => (st.text.re !== undefined ? new RegExp(st.text.re, st.text.flags).test(t) : t.includes(st.text.s));
      els = els.filter((e) => m(e.textContent ?? ''));
      if (st.innermost) els = els.filter((e) => ![...e.children].some((c) => m(c.textContent ?? '')));
    } else if (st.nth !== undefined) {
      const e = st.nth < 0 ? els[els.length + st.nth] : els[st.nth];
      els = e ? [e] : [];
    }
  }
  return els ?? [];
}

/** Locator is a lazy query of the window's page, resolved anew at each action. */
class Locator {
  constructor(win, steps) {
    this.win = win;
    this.steps = steps;
  }

  locator(css) {
    return new Locator(this.win, [...this.steps, { css }]);
  }

  getByTestId(id) {
    return this.locator(`[data-testid="${id}"]`);
  }

  getByText(text) {
    return new Locator(this.win, [...this.steps, { css: '*' }, { text: pattern(text), innermost: true }]);
  }

  filter({ hasText }) {
    return new Locator(this.win, [...this.steps, { text: pattern(hasText) }]);
  }

  first() {
    return new Locator(this.win, [...this.steps, { nth: 0 }]);
  }

  last() {
    return new Locator(this.win, [...this.steps, { nth: -1 }]);
  }

  nth(i) {
    return new Locator(this.win, [...this.steps, { nth: i }]);
  }

  /** on runs body(el, arg) on the first match in the page (null when there is none). */
  on(body, arg) {
    return this.win.script(`(() => { const findAll = ${findAll.toString()}; const el = findAll(${JSON.stringify(this.steps)})[0]; if (!el) return null; return (${body.toString()})(el, ${JSON.stringify(arg ?? null)}); })()`);
  }

  /** need is on() that waits (bounded) for a match first. */
  async need(body, arg, timeout = 40_000) {
    await this.waitFor({ state: 'attached', timeout });
    return this.on(body, arg);
  }

  async count() {
    return this.win.script(`(${findAll.toString()})(${JSON.stringify(this.steps)}).length`);
  }

  /** waitFor waits until the first match is attached, visible (default), hidden or detached. */
  async waitFor({ state = 'visible', timeout = 40_000 } = {}) {
    const steps = JSON.stringify(this.steps);
    const check = `(() => { const findAll = ${findAll.toString()}; const el = findAll(${steps})[0];
      const visible = !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
      return ${JSON.stringify(state)} === 'attached' ? !!el : ${JSON.stringify(state)} === 'detached' ? !el : ${JSON.stringify(state)} === 'hidden' ? !visible : visible; })()`;
    const end = Date.now() + timeout;
    for (;;) {
      if (await this.win.script(check, Math.max(end - Date.now(), 1_000)).catch(() => false)) return;
      if (Date.now() > end) throw new Error(`waiting for ${this.describe()} to be ${state}: timed out after ${timeout} ms`);
      await sleep(50);
    }
  }

  describe() {
    return this.steps.map((s) => (s.css ?? (s.text ? `text ${JSON.stringify(s.text)}` : `nth ${s.nth}`))).join(' >> ');
  }

  /**
   * point scrolls the first match into view and returns the page point at its centre once that
   * point is inside the window's page and the element (not something over it) is there to be
   * hit, as a person's click would need.
   */
  async point(timeout = 40_000) {
    await this.waitFor({ state: 'visible', timeout });
    const end = Date.now() + timeout;
    for (;;) {
      const p = await this.on((el) => {
        el.scrollIntoView({ block: 'center', inline: 'center' });
        const r = el.getBoundingClientRect();
        const x = r.left + r.width / 2;
        const y = r.top + r.height / 2;
        const page = `${innerWidth}x${innerHeight}`;
        if (!(x >= 0 && y >= 0 && x < innerWidth && y < innerHeight)) return { x, y, why: `its centre (${Math.round(x)}, ${Math.round(y)}) is outside the ${page} page` };
        if (el.disabled) return { x, y, why: 'it is disabled' };
        const hit = document.elementFromPoint(x, y);
        if (!hit || !(hit === el || el.contains(hit))) return { x, y, why: `${hit ? `<${hit.tagName.toLowerCase()}${hit.dataset?.testid ? ` data-testid="${hit.dataset.testid}"` : ''}>` : 'nothing'} is at its centre (${Math.round(x)}, ${Math.round(y)})` };
        return { x, y, ok: true };
      });
      if (p?.ok) return p;
      if (Date.now() > end) throw new Error(`${this.describe()} cannot be clicked: ${p?.why ?? 'it is gone'}`);
      await sleep(50);
    }
  }

  /** click is a real X mouse click at the element's centre. */
  async click({ timeout = 40_000 } = {}) {
    const { x, y } = await this.point(timeout);
    await this.win.moveTo(x, y, `click on ${this.describe()}`);
    await this.win.xdo(['click', '1']);
  }

  /**
   * fill clicks into the field, selects what is there with Ctrl+A and types text, all with the
   * real mouse and keyboard: X delivers them in order. (Selecting from script raced the click on
   * a loaded machine: the click, reaching the page after select(), put the caret at the end and
   * the text went after what the field held.) A field that settles on something else (an
   * app's own write meanwhile) is selected and typed again, within timeout.
   */
  async fill(text, { timeout = 40_000 } = {}) {
    await this.click({ timeout });
    const end = Date.now() + timeout;
    for (;;) {
      await this.win.keyboard.press('ctrl+a');
      if (text === '') await this.win.keyboard.press('BackSpace');
      else await this.win.keyboard.type(text);
      // The keystrokes reach the page a moment after xdotool returns (X server, GTK, WebKit):
      // wait for the value, or for it to stay the same for 2 s (then type again).
      let got = await this.inputValue();
      for (let same = Date.now(); got !== text && Date.now() - same < 2_000 && Date.now() < end; ) {
        await sleep(30);
        const now = await this.inputValue();
        if (now !== got) [got, same] = [now, Date.now()];
      }
      if (got === text) return;
      if (Date.now() > end) throw new Error(`typed ${JSON.stringify(text)} into ${this.describe()} but it holds ${JSON.stringify(got)}`);
    }
  }

  /** press focuses the element (real click) and presses keys. */
  async press(keys) {
    const focused = await this.on((el) => el === document.activeElement);
    if (!focused) await this.click();
    await this.win.keyboard.press(keys);
  }

  textContent() {
    return this.need((el) => el.textContent);
  }

  inputValue() {
    return this.need((el) => el.value);
  }

  getAttribute(name) {
    return this.need((el, n) => el.getAttribute(n), name);
  }

  isDisabled() {
    return this.need((el) => !!el.disabled);
  }

  boundingBox() {
    return this.need((el) => {
      const r = el.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    });
  }

  /**
   * selectOption picks an option of a <select> by value, as the change a person's pick makes (a
   * GTK popup menu is no part of the page, so the pick itself is not clicked).
   */
  async selectOption(value) {
    await this.point();
    const ok = await this.on((el, v) => {
      if (![...el.options].some((o) => o.value === v)) return false;
      el.focus();
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
      return true;
    }, value);
    if (!ok) throw new Error(`${this.describe()} has no option ${value}`);
  }
}
