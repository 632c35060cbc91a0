// The embed loader. A host page includes
//   <script src="https://HUB/widget.js" data-org="demo" data-queue="sales" async></script>
// and gets a launcher button that opens the chat in an iframe served by the hub (/chat/{org}?embed=1).
// The button lives in a shadow root and the chat in the iframe, so the host page's CSS and
// scripts cannot reach the chat and the chat cannot break the host page. No framework: this file must
// stay under 5 KB gzipped.

import { shadowWithStyle } from '../shadow';

interface ParleyAPI {
  open(): void;
  close(): void;
  toggle(): void;
}

declare global {
  interface Window {
    Parley?: ParleyAPI;
    ParleyCobrowse?: { start(port: MessagePort): unknown };
  }
}

// The co-browse recorder's file under the hub (assets/cobrowse-<hash>.js), set by the build;
// empty when it was not built.
declare const __PARLEY_COBROWSE__: string;

const CSS = `
:host{all:initial}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;padding:0;margin:0;
 background:#3b5bdb;color:#fff;cursor:pointer;display:grid;box-sizing:border-box;place-items:center;box-shadow:0 6px 20px rgba(28,36,48,.28);transition:transform .15s ease,background .15s ease}
.launcher:hover{background:#2f4ac0;transform:scale(1.05)}
.launcher:focus-visible{outline:3px solid #748ffc;outline-offset:3px}
.launcher svg{width:28px;height:28px;pointer-events:none}
.launcher.sharing{box-shadow:0 0 0 4px #2f9e44,0 6px 20px rgba(28,36,48,.28)}
.launcher.unread::after{content:"";position:absolute;top:3px;right:3px;width:14px;height:14px;border-radius:50%;background:#f03e3e;border:2px solid #fff}
.panel{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:380px;height:min(640px,calc(100vh - 112px));max-height:calc(100vh - 112px);
 border-radius:16px;overflow:hidden;background:#fff;box-shadow:0 16px 48px rgba(28,36,48,.28)}
.panel[hidden]{display:none}
iframe{display:block;width:100%;height:100%;border:0;background:#fff;color-scheme:light}
@media (max-width:480px){
 .panel{inset:0;width:100%;height:100%;max-height:none;border-radius:0}
 .open .launcher{display:none}
}
@media (prefers-reduced-motion:reduce){.launcher{transition:none}}
`;

const CHAT_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M12 3C6.5 3 2 6.6 2 11c0 2.3 1.2 4.4 3.2 5.9L4.5 21l4.3-2.3c1 .3 2.1.4 3.2.4 5.5 0 10-3.6 10-8s-4.5-8-10-8z"/></svg>';
const CLOSE_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" fill="none"/></svg>';

const TEXT: Record<string, { open: string; close: string; title: string; unread: string; sharing: string }> = {
  en: { open: 'Open chat', close: 'Close chat', title: 'Chat with us', unread: 'Open chat (new message)', sharing: 'Open chat (you are sharing this page)' },
  es: {
    open: 'Abrir el chat',
    close: 'Cerrar el chat',
    title: 'Chatea con nosotros',
    unread: 'Abrir el chat (mensaje nuevo)',
    sharing: 'Abrir el chat (estás compartiendo esta página)',
  },
};

function init(): void {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script || window.Parley) return;
  const org = script.dataset.org;
  // The queue the chat goes to (an unknown one goes to the organisation's default).
  const queue = script.dataset.queue ? `&queue=${encodeURIComponent(script.dataset.queue.slice(0, 64))}` : '';
  if (!org) {
    console.warn('parley widget: add data-org="your-org" to the script tag');
    return;
  }
  const hub = new URL(script.src, location.href).origin;
  const lang = (navigator.languages?.[0] || navigator.language || 'en').toLowerCase().slice(0, 2);
  const text = TEXT[lang] || TEXT.en;

  const host = document.createElement('div');
  host.setAttribute('data-parley-widget', org);
  const root = shadowWithStyle(host, CSS);

  const wrap = document.createElement('div');
  const panel = document.createElement('div');
  panel.className = 'panel';
  panel.id = 'parley-panel';
  panel.hidden = true;
  panel.setAttribute('role', 'region');
  panel.setAttribute('aria-label', text.title);
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'launcher';
  button.setAttribute('aria-controls', panel.id);
  wrap.append(panel, button);
  root.appendChild(wrap);

  let frame: HTMLIFrameElement | null = null;
  let ready = false;
  let sharing = false; // a co-browse records this page: the closed launcher says so

  function label(open: boolean, unread = false): void {
    const name = open ? text.close : unread ? text.unread : sharing ? text.sharing : text.open;
    button.setAttribute('aria-expanded', String(open));
    button.setAttribute('aria-label', name);
    button.title = name;
    button.classList.toggle('unread', unread);
    button.classList.toggle('sharing', sharing && !open);
    button.innerHTML = open ? CLOSE_ICON : CHAT_ICON;
  }

  // Browsers that block third-party storage deny it to the iframe: then the chat asks us to keep
  // its conversation token here, and gets it back in the fragment, so a new page resumes the chat.
  const storeKey = `parley.widget.${org}`;
  function kept(): string {
    try {
      const v = sessionStorage.getItem(storeKey);
      return v ? `#s=${encodeURIComponent(v)}` : '';
    } catch {
      return '';
    }
  }
  function keep(key: unknown, value: unknown): void {
    try {
      if (typeof value === 'string' && typeof key === 'string') sessionStorage.setItem(storeKey, JSON.stringify({ key, value }));
      else sessionStorage.removeItem(storeKey);
    } catch {
      // Nowhere to keep it: the chat still works, it just does not survive a new page.
    }
  }

  function tell(what = 'open'): void {
    if (ready && frame?.contentWindow) frame.contentWindow.postMessage({ parley: what }, hub);
  }

  const openKey = `${storeKey}.open`;

  // The chat, made on first open (or hidden on a new page while a co-browse goes on).
  function load(): HTMLIFrameElement {
    if (!frame) {
      // The chat loads on first open, so a page that never opens it pays only for this file.
      frame = document.createElement('iframe');
      frame.title = text.title;
      // Calls: the chat asks for the camera and microphone (only when the customer accepts a call)
      // and plays the agent's sound and the ring; the built-in screen share asks for the screen.
      frame.allow = 'camera; microphone; autoplay; display-capture';
      frame.src = `${hub}/chat/${encodeURIComponent(org!)}?embed=1${queue}${kept()}`;
      frame.addEventListener('load', () => {
        ready = true;
        // The chat posts to this page only once it knows its origin from a message of ours.
        frame?.contentWindow?.postMessage({ parley: 'hello' }, hub);
        tell();
      });
      panel.appendChild(frame);
    }
    return frame;
  }

  function open(focus = true): void {
    const frame = load();
    remember(true, openKey);
    panel.hidden = false;
    wrap.className = 'open';
    label(true);
    if (focus) frame.focus();
    tell();
  }

  function close(): void {
    if (panel.hidden) return;
    remember(false, openKey);
    panel.hidden = true;
    wrap.className = '';
    label(false);
    tell('closed');
    button.focus();
  }

  button.addEventListener('click', () => (panel.hidden ? open() : close()));
  window.addEventListener('message', (e) => {
    if (!frame || e.origin !== hub || e.source !== frame.contentWindow || !e.data) return;
    if (e.data.parley === 'close') close();
    // A new message while the panel is closed: a dot on the launcher.
    if (e.data.parley === 'unread' && panel.hidden) label(false, true);
    if (e.data.parley === 'store') keep(e.data.key, e.data.value);
    if (e.data.parley === 'cobrowse') cobrowse();
    if (e.data.parley === 'cobrowse-end') {
      remember(false);
      sharing = false;
      label(!panel.hidden);
    }
  });

  // A co-browse outlives the page: following a link ends this page's recorder, and the next page
  // of the site loads the chat at once (hidden), which resumes the conversation and starts the
  // recorder there.
  const cobrowseKey = `${storeKey}.cobrowse`;
  function remember(on: boolean, key = cobrowseKey): void {
    try {
      if (on) sessionStorage.setItem(key, '1');
      else sessionStorage.removeItem(key);
    } catch {
      // No storage: the co-browse ends with this page.
    }
  }
  function remembered(key = cobrowseKey): boolean {
    try {
      return sessionStorage.getItem(key) === '1';
    } catch {
      return false;
    }
  }

  // Co-browse: the chat asks for it once the customer accepts. The recorder (rrweb) loads now,
  // from the hub, and the chat gets a private port to it.
  let recorder: Promise<void> | null = null;
  function cobrowse(): void {
    const src = typeof __PARLEY_COBROWSE__ === 'string' ? __PARLEY_COBROWSE__ : '';
    if (!src) return;
    recorder ||= new Promise<void>((resolve, reject) => {
      const s = document.createElement('script');
      s.src = `${hub}/portal/${src}`;
      s.onload = () => resolve();
      s.onerror = () => {
        recorder = null;
        reject();
      };
      document.head.appendChild(s);
    });
    recorder.then(
      () => {
        const ch = new MessageChannel();
        window.ParleyCobrowse?.start(ch.port1);
        frame?.contentWindow?.postMessage({ parley: 'cobrowse-port' }, hub, [ch.port2]);
        remember(true);
        sharing = true;
        label(!panel.hidden);
      },
      () => frame?.contentWindow?.postMessage({ parley: 'cobrowse-failed' }, hub),
    );
  }
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') close();
  });

  label(false);
  window.Parley = { open: () => open(), close, toggle: () => (panel.hidden ? open() : close()) };
  // During a co-browse the next page shows the chat as the last one did: open, or loaded behind
  // a launcher that says the page is shared.
  const mount = () => {
    document.body.appendChild(host);
    if (!remembered()) return;
    sharing = true;
    if (remembered(openKey)) open(false);
    else {
      load();
      label(false);
    }
  };
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
}

init();

export {};
