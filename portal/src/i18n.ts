// The portal's translator: the shared strings merged with the portal's, English or Spanish by the
// browser's language.
import { createI18n, merge, type Translator } from '../../web/i18n';
import sharedEn from '../../web/locales/en';
import sharedEs from '../../web/locales/es';
import en from './locales/en';
import es from './locales/es';

/** locales are the portal's languages. */
export const locales = { en: merge(sharedEn, en), es: merge(sharedEs, es) };

/** portalI18n picks the language from the browser (or from `preferred`). */
export function portalI18n(preferred?: readonly string[]): Translator {
  return createI18n(locales, preferred);
}
