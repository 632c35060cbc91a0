// The sentence for a system line of a transcript, in the reader's language. The hub stores system
// lines with an Event (what happened, with its values) and an English Text as the fallback.
import type { Translator } from './i18n';
import type * as wire from './wire.gen';

/** callDuration formats milliseconds as m:ss or h:mm:ss, like "4:12". */
export function callDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * shownTo says whether reader sees a system line: the customer does not read that they left the
 * chat page or came back (the agent does).
 */
export function shownTo(ev: wire.Event | null | undefined, reader: wire.Author): boolean {
  return !(reader === 'customer' && (ev?.kind === 'customer_gone' || ev?.kind === 'customer_back'));
}

/**
 * systemLine translates a system message from its event, or returns its text when it has none.
 * reader is who reads it, so the customer reads "You left" where the agent reads "The customer left".
 */
export function systemLine(t: Translator, text: string, ev?: wire.Event | null, reader?: wire.Author): string {
  if (!ev) return text;
  let key = `system.${ev.kind}`;
  if (ev.kind === 'call_started') key += `_${ev.call_kind ?? 'voice'}`;
  if (ev.kind === 'left' && reader === 'customer') key += '_self';
  if (ev.kind === 'message_left' && reader === 'customer') key += '_self';
  if (ev.kind === 'transferred' && !ev.queue) key += '_agent';
  if (ev.kind === 'recording_started' && !ev.name) key += '_auto';
  if ((ev.kind === 'transfer_note' || ev.kind === 'consult_invited') && ev.note) key += '_with';
  const out = t.t(key, {
    name: ev.name ?? '',
    duration: callDuration(ev.duration_ms ?? 0),
    queue: ev.queue ?? '',
    target: ev.target ?? '',
    note: ev.note ?? '',
  });
  return out === key ? text : out;
}
