// The co-browse recorder: runs on the customer's page (the site that embeds the widget, or the
// portal page itself), mirrors the page with rrweb, and talks to the chat over a private
// MessagePort. Masking happens here, before anything leaves the browser: sensitive fields are
// masked by rrweb and every batch is checked once more for the values of sensitive fields before
// it is sent. It also shows the agent's laser dot and runs the agent's commands, only while the
// customer grants control, never into masked fields, with a "Take back control" button.
import { record } from 'rrweb';
import { shadowWithStyle } from '../shadow';
import { BLOCK_SELECTOR, MASK_TEXT_SELECTOR, controllable, leaks, maskValue, secrets } from './mask';
import {
  BATCH_MS,
  MAX_BACKLOG_BYTES,
  MAX_EVENT_BYTES,
  chunkText,
  type Command,
  type CommandResult,
  type FromRecorder,
  type Pointer,
  type ToRecorder,
} from '../../web/cobrowse';

/** Recorder is a running co-browse on this page. */
export interface Recorder {
  /** stop ends recording, removes the overlay and tells the chat. */
  stop(code?: string): void;
}

const TEXT: Record<string, { takeBack: string; controlling: string; sharing: string }> = {
  en: { takeBack: 'Take back control', controlling: 'The agent is controlling this page', sharing: 'The agent can see this page' },
  es: {
    takeBack: 'Recuperar el control',
    controlling: 'El agente está controlando esta página',
    sharing: 'El agente puede ver esta página',
  },
};

const CSS = `
:host{all:initial}
.dot{position:fixed;left:0;top:0;width:18px;height:18px;margin:-9px 0 0 -9px;border-radius:50%;background:rgba(240,62,62,.85);
 box-shadow:0 0 0 4px rgba(240,62,62,.3),0 0 12px 4px rgba(240,62,62,.45);pointer-events:none;z-index:2147483646;transition:transform 60ms linear}
.dot[hidden],.bar[hidden]{display:none}
.bar{position:fixed;left:50%;top:12px;transform:translateX(-50%);z-index:2147483647;display:flex;gap:10px;align-items:center;
 padding:8px 10px 8px 14px;border-radius:999px;background:#1c2430;color:#fff;font:500 14px/1.3 system-ui,sans-serif;box-shadow:0 6px 20px rgba(0,0,0,.3)}
.bar button{font:600 14px/1 system-ui,sans-serif;border:0;border-radius:999px;padding:8px 14px;background:#f03e3e;color:#fff;cursor:pointer}
.bar button:focus-visible{outline:3px solid #ffa8a8;outline-offset:2px}
`;

/** startRecorder starts mirroring this page to the chat at the other end of port. */
export function startRecorder(port: MessagePort, doc: Document = document): Recorder {
  const win = doc.defaultView || window;
  const lang = (navigator.languages?.[0] || navigator.language || 'en').toLowerCase().slice(0, 2);
  const text = TEXT[lang] || TEXT.en;
  const send = (m: FromRecorder) => port.postMessage(m);

  // The overlay (laser dot, control bar) lives in a shadow root the recording leaves out.
  const host = doc.createElement('div');
  host.setAttribute('data-parley-cobrowse', '');
  const root = shadowWithStyle(host, CSS);
  const dot = doc.createElement('div');
  dot.className = 'dot';
  dot.hidden = true;
  dot.setAttribute('data-testid', 'laser-dot');
  dot.setAttribute('aria-hidden', 'true');
  const bar = doc.createElement('div');
  bar.className = 'bar';
  bar.hidden = true;
  bar.setAttribute('role', 'status');
  const label = doc.createElement('span');
  label.textContent = text.controlling;
  const takeBack = doc.createElement('button');
  takeBack.type = 'button';
  takeBack.textContent = text.takeBack;
  takeBack.setAttribute('data-testid', 'visual-take-back');
  bar.append(label, takeBack);
  root.append(dot, bar);
  (doc.body || doc.documentElement).appendChild(host);

  let granted = false;
  let stopped = false;
  let seq = 0;
  let queue: unknown[] = [];
  let queued = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let dotTimer: ReturnType<typeof setTimeout> | null = null;
  // leaked counts batches in a row held back because they held a secret; a page that keeps
  // rendering one in plain text ends the co-browse rather than loop on snapshots.
  let leaked = 0;

  function setControl(on: boolean, tell: boolean): void {
    granted = on;
    bar.hidden = !on;
    if (tell) send({ op: 'control', granted: on });
  }
  // Taking control back works at once, here on the page: the next command is refused before
  // the agent even learns about it.
  takeBack.addEventListener('click', () => setControl(false, true));

  function flush(): void {
    timer = null;
    if (stopped || !queue.length) return;
    const batch = queue;
    queue = [];
    queued = 0;
    const json = JSON.stringify(batch);
    // The last line of defence: if a sensitive field's value is in what we are about to send
    // (a site that renders a card number into a plain element, a masking rule rrweb missed),
    // nothing of this batch leaves, and the agent gets a fresh, masked snapshot instead.
    if (leaks(json, secrets(doc))) {
      if (++leaked >= 3) stop('EFORBIDDEN');
      else record.takeFullSnapshot?.(true);
      return;
    }
    leaked = 0;
    seq++;
    const parts = chunkText(json);
    parts.forEach((data, part) => send({ op: 'chunk', chunk: { seq, part, parts: parts.length, data } }));
  }

  const stopRecording = record({
    emit(event) {
      if (stopped) return;
      const size = JSON.stringify(event).length;
      if (size > MAX_EVENT_BYTES) {
        stop('ETOOLARGE');
        return;
      }
      queue.push(event);
      queued += size;
      if (queued > MAX_BACKLOG_BYTES) {
        stop('ETOOLARGE');
        return;
      }
      if (!timer) timer = setTimeout(flush, BATCH_MS);
    },
    blockSelector: BLOCK_SELECTOR,
    maskTextSelector: MASK_TEXT_SELECTOR,
    // Every input goes through maskValue, which masks only the sensitive ones: passwords, card
    // numbers and codes, anything under data-parley-mask.
    maskAllInputs: true,
    maskInputOptions: { password: true },
    maskInputFn: maskValue,
    slimDOMOptions: 'all',
    inlineStylesheet: true,
    recordCanvas: false,
    collectFonts: false,
    inlineImages: false,
    recordCrossOriginIframes: false,
    sampling: { mousemove: 50, scroll: 100, input: 'last', media: 800 },
    // A fresh full snapshot now and then heals an agent view that missed a batch.
    checkoutEveryNms: 30_000,
  });

  function showPointer(p: Pointer): void {
    if (!p.visible || !Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      dot.hidden = true;
      return;
    }
    const x = Math.round(Math.max(0, Math.min(1, p.x)) * win.innerWidth);
    const y = Math.round(Math.max(0, Math.min(1, p.y)) * win.innerHeight);
    dot.style.transform = `translate(${x}px, ${y}px)`;
    dot.dataset.x = String(x);
    dot.dataset.y = String(y);
    dot.hidden = false;
    // A pointer that stops coming (the agent's view closed) fades out.
    if (dotTimer) clearTimeout(dotTimer);
    dotTimer = setTimeout(() => (dot.hidden = true), 4000);
  }

  function target(id: unknown): HTMLElement | CommandResult {
    if (!Number.isInteger(id)) return { ok: false, code: 'EINVALID' };
    const node = record.mirror.getNode(id as number);
    const el = (node && (node.nodeType === 1 ? node : node.parentElement)) as HTMLElement | null;
    if (!el || !el.isConnected) return { ok: false, code: 'ENOTFOUND' };
    if (!controllable(el)) return { ok: false, code: 'EFORBIDDEN' };
    return el;
  }

  function run(c: Command): CommandResult {
    if (!c || typeof c !== 'object') return { ok: false, code: 'EINVALID' };
    if (!granted) return { ok: false, code: 'EFORBIDDEN' };
    switch (c.action) {
      case 'scroll': {
        const x = Number(c.x ?? 0);
        const y = Number(c.y ?? 0);
        if (!Number.isFinite(x) || !Number.isFinite(y)) return { ok: false, code: 'EINVALID' };
        if (c.node) {
          const el = target(c.node);
          if (!(el instanceof HTMLElement)) return el;
          el.scrollTo(x, y);
        } else win.scrollTo(x, y);
        return { ok: true };
      }
      case 'navigate': {
        let u: URL;
        try {
          u = new URL(String(c.url), win.location.href);
        } catch {
          return { ok: false, code: 'EINVALID' };
        }
        if (u.protocol !== 'http:' && u.protocol !== 'https:') return { ok: false, code: 'EINVALID' };
        win.location.assign(u.href);
        return { ok: true };
      }
      case 'click': {
        const el = target(c.node);
        if (!(el instanceof HTMLElement)) return el;
        el.focus?.();
        // HTMLElement.click() follows links and submits forms as a real click would.
        el.click();
        return { ok: true };
      }
      case 'type': {
        const el = target(c.node);
        if (!(el instanceof HTMLElement)) return el;
        if (!editable(el) || typeof c.text !== 'string' || c.text.length > 1000) return { ok: false, code: 'EINVALID' };
        const field = el as HTMLInputElement | HTMLTextAreaElement;
        field.focus();
        let value = field.value;
        let submit = false;
        for (const ch of c.text) {
          if (ch === '\b') value = value.slice(0, -1);
          else if (ch === '\n' && !(field instanceof HTMLTextAreaElement)) submit = true;
          else value += ch;
        }
        if (field.maxLength > 0) value = value.slice(0, field.maxLength);
        setValue(field, value);
        if (submit) field.form?.requestSubmit?.();
        return { ok: true };
      }
      default:
        return { ok: false, code: 'EINVALID' };
    }
  }

  port.onmessage = (e: MessageEvent<ToRecorder>) => {
    const m = e.data;
    if (stopped || !m || typeof m !== 'object') return;
    switch (m.op) {
      case 'pointer':
        if (m.pointer && typeof m.pointer === 'object') showPointer(m.pointer);
        break;
      case 'command':
        send({ op: 'result', id: m.id, result: run(m.command) });
        break;
      case 'control':
        setControl(m.granted === true, false);
        break;
      case 'snapshot':
        record.takeFullSnapshot?.(true);
        break;
      case 'stop':
        stop();
        break;
    }
  };

  function stop(code?: string): void {
    if (stopped) return;
    if (!code) flush();
    stopped = true;
    stopRecording?.();
    if (timer) clearTimeout(timer);
    if (dotTimer) clearTimeout(dotTimer);
    host.remove();
    send({ op: 'stopped', code });
    port.close();
  }

  return { stop };
}

/** editable says whether the agent may type into el: a text-like input or a textarea. */
function editable(el: Element): boolean {
  if (el instanceof HTMLTextAreaElement) return !el.disabled && !el.readOnly;
  if (!(el instanceof HTMLInputElement) || el.disabled || el.readOnly) return false;
  return ['text', 'search', 'email', 'url', 'tel', 'number', ''].includes((el.getAttribute('type') || '').toLowerCase());
}

/** setValue changes a field's value the way typing does, so frameworks that wrap the value
 * setter (React) see the change: through the prototype's setter, then input and change events. */
function setValue(field: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  const proto = field instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  const setter = Object.getOwnPropertyDescriptor(proto, 'value')?.set;
  if (setter) setter.call(field, value);
  else field.value = value;
  field.dispatchEvent(new Event('input', { bubbles: true }));
  field.dispatchEvent(new Event('change', { bubbles: true }));
}
