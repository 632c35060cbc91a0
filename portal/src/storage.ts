// Where the portal keeps the conversation token so a reload resumes the chat: sessionStorage when
// the browser allows it. Inside the widget's iframe a browser that blocks third-party storage denies
// it; there the page keeps the value in memory and asks the loader to keep it in the host page's
// sessionStorage, which hands it back in the iframe URL's fragment (#s=…) on the next page.

import { toHost } from './host';

/** KeyValue is the part of Storage the portal uses. */
export type KeyValue = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** usable returns window.sessionStorage if reading and writing it works. */
function usable(): Storage | null {
  try {
    const s = window.sessionStorage;
    s.setItem('parley.probe', '1');
    s.removeItem('parley.probe');
    return s;
  } catch {
    return null;
  }
}

/** pickStorage returns the storage for this page. */
export function pickStorage(embed: boolean): KeyValue {
  const session = usable();
  if (session) return session;
  const mem = new Map<string, string>();
  if (embed) {
    const seeded = new URLSearchParams(location.hash.slice(1)).get('s');
    if (seeded) {
      try {
        const { key, value } = JSON.parse(seeded) as { key: string; value: string };
        if (typeof key === 'string' && typeof value === 'string') mem.set(key, value);
      } catch {
        // A damaged fragment only means no resume.
      }
    }
  }
  // The token goes only to the loader's origin (host.ts), never to whatever page frames us.
  const tell = (key: string, value: string | null) => {
    if (embed) toHost({ parley: 'store', key, value });
  };
  return {
    getItem: (k) => mem.get(k) ?? null,
    setItem: (k, v) => {
      mem.set(k, v);
      tell(k, v);
    },
    removeItem: (k) => {
      mem.delete(k);
      tell(k, null);
    },
  };
}
