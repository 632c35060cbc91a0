// The console's translator: its own strings over the shared ones (wire error sentences), the
// language from the browser (the organisation's default when the browser prefers neither).
import { createI18n, merge, type Translator } from '../../../web/i18n';
import sharedEn from '../../../web/locales/en';
import sharedEs from '../../../web/locales/es';
import { en, es } from '../locales';

const locales = { en: merge(sharedEn, en), es: merge(sharedEs, es) };

export let i18n: Translator = createI18n(locales);
export const t = (key: string, params?: Record<string, string | number>) => i18n.t(key, params);

/** useOrgLanguage picks the organisation's default language when the browser prefers neither. */
export function useOrgLanguage(lang: string): void {
  const prefs = navigator.languages ?? [navigator.language];
  if (!prefs.some((p) => p.toLowerCase().startsWith('en') || p.toLowerCase().startsWith('es'))) {
    i18n = createI18n(locales, [lang]);
    document.documentElement.lang = i18n.lang;
  }
}

/** errorText is the sentence for a failed call: the console's own where it has one. */
export function errorText(code: string): string {
  const own = i18n.t(`errors.${code}`);
  return own.startsWith('errors.') ? i18n.error(code) : own;
}

document.documentElement.lang = i18n.lang;
