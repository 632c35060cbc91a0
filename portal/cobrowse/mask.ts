// What the co-browse recorder never lets leave the customer's browser: passwords, card numbers and
// other secrets, and anything the site marks with data-parley-mask. Kept apart from the recorder so
// the rules are unit-tested without rrweb.

/** MASK_ATTR marks an element (and everything inside it) the agent must never see or touch. */
export const MASK_ATTR = 'data-parley-mask';

/** NO_CONTROL marks controls the agent must never operate: the widget and the co-browse bar. */
export const NO_CONTROL = '[data-parley-widget], [data-parley-cobrowse], [data-parley-nocontrol]';

/** BLOCK_SELECTOR is what rrweb replaces with an empty box of the same size. */
export const BLOCK_SELECTOR = `[${MASK_ATTR}], [data-parley-widget], [data-parley-cobrowse]`;

/** MASK_TEXT_SELECTOR is whose text rrweb replaces with asterisks (belt and braces: blocked too). */
export const MASK_TEXT_SELECTOR = `[${MASK_ATTR}], [${MASK_ATTR}] *`;

// Names, ids, labels and placeholders that say "secret": card numbers and codes, bank accounts,
// national ids, PINs, passwords, one-time codes.
const SECRET_NAME =
  /(passw|passcode|pwd|secret|card|cc-?(num|number|csc|cvv|exp)|ccnum|cvv|cvc|csc|securitycode|security[-_ ]code|iban|account[-_ ]?(number|no)|routing|ssn|social[-_ ]security|tax[-_ ]?id|\bpin\b|otp|one[-_ ]time)/i;

// autocomplete tokens for secrets (https://html.spec.whatwg.org/#autofill-field).
const SECRET_AUTOCOMPLETE = /\b(cc-[a-z-]+|current-password|new-password|one-time-code)\b/;

// Input types whose value is never shown to the agent.
const SECRET_TYPES = new Set(['password', 'hidden']);

/** sensitive says whether an element's value must never leave the browser. */
export function sensitive(el: Element | null | undefined): boolean {
  if (!el || typeof el.closest !== 'function') return false;
  if (el.closest(`[${MASK_ATTR}]`)) return true;
  const tag = el.tagName.toLowerCase();
  if (tag !== 'input' && tag !== 'textarea' && tag !== 'select') return false;
  const input = el as HTMLInputElement;
  if (tag === 'input' && SECRET_TYPES.has((input.getAttribute('type') || 'text').toLowerCase())) return true;
  if (SECRET_AUTOCOMPLETE.test((el.getAttribute('autocomplete') || '').toLowerCase())) return true;
  for (const a of ['name', 'id', 'aria-label', 'placeholder', 'data-testid']) {
    const v = el.getAttribute(a);
    if (v && SECRET_NAME.test(v)) return true;
  }
  // A field that looks like a card number by what is in it (13-19 digits with spaces or dashes).
  const value = (input.value || '').replace(/[\s-]/g, '');
  if (/^\d{13,19}$/.test(value)) return true;
  return false;
}

/** maskValue is rrweb's maskInputFn: the value of a sensitive field becomes a fixed mask, so not
 * even its length leaves the browser; other fields keep their value. */
export function maskValue(text: string, el: HTMLElement | null | undefined): string {
  if (!sensitive(el)) return text;
  return text ? '********' : '';
}

/** secrets lists the values of the sensitive fields now on the page (at least 4 characters), so
 * the recorder can check that none of them is about to be sent. */
export function secrets(doc: Document): string[] {
  const out: string[] = [];
  const walk = (root: Document | ShadowRoot) => {
    for (const el of Array.from(root.querySelectorAll('input, textarea, select, [' + MASK_ATTR + ']'))) {
      if (!sensitive(el)) continue;
      const v = (el as HTMLInputElement).value;
      if (typeof v === 'string' && v.length >= 4) out.push(v);
      const t = el.textContent;
      if (el.hasAttribute(MASK_ATTR) && t && t.trim().length >= 4) out.push(t.trim());
    }
  };
  walk(doc);
  return out;
}

/** leaks says whether serialized text holds any of the secrets, as is or JSON-escaped. */
export function leaks(text: string, secretValues: string[]): boolean {
  for (const s of secretValues) {
    if (text.includes(s)) return true;
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s && text.includes(escaped)) return true;
  }
  return false;
}

/** controllable says whether the agent may operate an element: not masked, not a secret field,
 * not the widget or the co-browse controls. */
export function controllable(el: Element | null | undefined): boolean {
  if (!el || typeof el.closest !== 'function') return false;
  if (sensitive(el)) return false;
  if (el.closest(NO_CONTROL)) return false;
  return true;
}
