// Quick replies in the composer: typing "/" and a few letters lists the canned responses whose
// shortcut (or text) matches; picking one puts its text, placeholders filled, in the composer.
// Pure functions here (tested in quickreplies.test.ts); the state is in quickreplies.svelte.ts.
import type { QuickReply } from '../../../../web/wire.gen';

/** query is what follows "/" when the whole draft is one "/word" (the picker is open), else null. */
export function query(draft: string): string | null {
  const m = /^\/([^\s/]*)$/.exec(draft);
  return m ? m[1].toLowerCase() : null;
}

/**
 * matches lists the replies for a conversation in queue: the organisation's, that queue's and
 * the agent's own, shortcut prefix matches first, then shortcut or text containing the query;
 * the agent's own before the shared ones on a tie, then by shortcut. At most limit.
 */
export function matches(list: QuickReply[], q: string, queue: string | undefined, limit = 8): QuickReply[] {
  const rank = (r: QuickReply): number => {
    if (r.shortcut.startsWith(q)) return 0;
    if (r.shortcut.includes(q)) return 1;
    if (q.length >= 2 && r.text.toLowerCase().includes(q)) return 2;
    return -1;
  };
  const scope = (r: QuickReply) => (r.scope === 'personal' ? 0 : r.scope === 'queue' ? 1 : 2);
  return list
    .filter((r) => r.scope !== 'queue' || r.queue === queue)
    .map((r) => ({ r, k: rank(r) }))
    .filter((x) => x.k >= 0)
    .sort((a, b) => a.k - b.k || scope(a.r) - scope(b.r) || a.r.shortcut.localeCompare(b.r.shortcut))
    .slice(0, limit)
    .map((x) => x.r);
}

/** Placeholders are what a reply's {name} markers become. */
export interface Placeholders {
  customer_name: string;
  agent_name: string;
  queue: string;
}

/** fill replaces the known placeholders; an unknown {marker} stays as typed. */
export function fill(text: string, p: Placeholders): string {
  return text.replace(/\{(customer_name|agent_name|queue)\}/g, (_, k: keyof Placeholders) => p[k]);
}

/** shortcutOK mirrors the hub's rule for a shortcut: lower-case letters, digits, - and _, up to 32. */
export function shortcutOK(s: string): boolean {
  return /^[a-z0-9][a-z0-9_-]{0,31}$/.test(s);
}
