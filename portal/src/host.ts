// The widget's iframe talks to the loader (widget.js) on the host page with postMessage. What it
// sends can matter (the conversation token, when the browser denies the iframe its own storage),
// so it goes only to the origin the loader announced: the browser stamps the origin of the
// loader's first message (sent when the chat loads), and until it arrives messages wait. A page
// that frames the chat without the loader never announces itself and learns nothing.

/** Message is what the chat tells the host page: { parley: 'store' | 'unread' | 'close' | ... }. */
export type Message = { parley: string } & Record<string, unknown>;

/** HostLink posts to the host page once it is known. */
export interface HostLink {
  /** post sends m to the host page's loader, now or once it has announced its origin. */
  post(m: Message): void;
  /** origin is the host page's origin once announced. */
  readonly origin: string | null;
}

/** maxWaiting bounds the messages kept until the loader announces itself. */
const maxWaiting = 20;

/** hostLink listens on win for the loader's first message and posts to win.parent. A window that
 * is not in a frame has no host: its posts go nowhere. */
export function hostLink(win: Window): HostLink {
  let origin: string | null = null;
  let waiting: Message[] = [];
  const framed = win.parent !== win;
  if (framed) {
    const onMessage = (e: MessageEvent) => {
      if (e.source !== win.parent || typeof e.data?.parley !== 'string' || !e.origin || e.origin === 'null') return;
      win.removeEventListener('message', onMessage);
      origin = e.origin;
      const due = waiting;
      waiting = [];
      for (const m of due) win.parent.postMessage(m, origin);
    };
    win.addEventListener('message', onMessage);
  }
  return {
    post(m) {
      if (!framed) return;
      if (origin) win.parent.postMessage(m, origin);
      else {
        waiting.push(m);
        if (waiting.length > maxWaiting) waiting.shift();
      }
    },
    get origin() {
      return origin;
    },
  };
}

// Listening starts when the chat's code loads, before the loader's first message (sent when the
// frame has loaded) can arrive.
const shared: HostLink | null = typeof window === 'undefined' ? null : hostLink(window);

/** toHost posts m to the loader on the host page (see hostLink). */
export function toHost(m: Message): void {
  shared?.post(m);
}
