// A tiny i18n for both UIs: locale objects with nested keys, English as the fallback for any key a
// locale lacks, the language chosen from the browser's preferences, and a translated sentence for
// every wire error code so no UI ever shows a raw error string.
import type { Code } from './wire.gen';

/** Messages is a locale: nested objects whose leaves are strings with {name} placeholders. */
export interface Messages {
  [key: string]: string | Messages;
}

/** Params fill the {name} placeholders of a message. */
export type Params = Record<string, string | number>;

/** Translator turns keys into sentences in one language. */
export interface Translator {
  /** lang is the chosen language tag, e.g. "es". */
  readonly lang: string;
  /** t returns the message at a dotted key ("chat.send"), falling back to English, then to the key. */
  t(key: string, params?: Params): string;
  /** error returns the sentence for a wire error code (or any unknown failure). */
  error(code: Code | string | undefined, params?: Params): string;
}

/** pickLanguage returns the first of the preferred languages (e.g. "es-MX" → "es") that is available. */
export function pickLanguage(preferred: readonly string[], available: readonly string[], fallback = 'en'): string {
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (available.includes(lower)) return lower;
    const base = lower.split('-')[0];
    if (available.includes(base)) return base;
  }
  return fallback;
}

function lookup(messages: Messages | undefined, key: string): string | undefined {
  let node: string | Messages | undefined = messages;
  for (const part of key.split('.')) {
    if (node === undefined || typeof node === 'string') return undefined;
    node = node[part];
  }
  return typeof node === 'string' ? node : undefined;
}

function fill(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** merge deep-merges locales, later ones winning; it is how an app adds its keys to the shared ones. */
export function merge(...sources: Messages[]): Messages {
  const out: Messages = {};
  for (const src of sources) {
    for (const [k, v] of Object.entries(src)) {
      const prev = out[k];
      out[k] = typeof v === 'object' && typeof prev === 'object' ? merge(prev, v) : v;
    }
  }
  return out;
}

/**
 * createI18n picks a language from `preferred` (navigator.languages by default) among the locales
 * given, which must include "en".
 */
export function createI18n(locales: Record<string, Messages>, preferred?: readonly string[]): Translator {
  const prefs = preferred ?? (typeof navigator !== 'undefined' ? navigator.languages ?? [navigator.language] : []);
  const lang = pickLanguage(prefs, Object.keys(locales));
  const chosen = locales[lang];
  const en = locales.en;
  const t = (key: string, params?: Params): string => fill(lookup(chosen, key) ?? lookup(en, key) ?? key, params);
  return {
    lang,
    t,
    error(code, params) {
      const key = `errors.${code ?? 'EINTERNAL'}`;
      const found = lookup(chosen, key) ?? lookup(en, key);
      return fill(found ?? t('errors.EINTERNAL'), params);
    },
  };
}
