// The agent app's translator: the shared strings of web/locales under the app's own, English as
// the fallback, the language the agent chose (lib/language.ts) else the system's preferences.
import { createI18n, merge, type Translator } from '../../../web/i18n';
import sharedEn from '../../../web/locales/en';
import sharedEs from '../../../web/locales/es';
import en from '../locales/en';
import es from '../locales/es';
import * as settingsLocales from '../locales/settings';
import { chosenLanguage } from './language';

export const locales = {
  en: merge(sharedEn, en, settingsLocales.en),
  es: merge(sharedEs, es, settingsLocales.es),
};

export const i18n: Translator = createI18n(locales, chosenLanguage());
export const t = i18n.t;

/** signInError is the sentence for a failed sign-in: sign-in specific where there is one. */
export function signInError(code: string): string {
  const specific = i18n.t(`signin.errors.${code}`);
  return specific.startsWith('signin.') ? i18n.error(code) : specific;
}

/** duration formats milliseconds as "45s", "3m", "1h 5m". */
export function duration(ms: number, tr: Translator = i18n): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return tr.t('time.sec', { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return tr.t('time.min', { n: m });
  return tr.t('time.hour', { n: Math.floor(m / 60), m: m % 60 });
}

const clock = new Intl.DateTimeFormat(i18n.lang, { hour: 'numeric', minute: '2-digit' });

/** clockTime formats a Unix-ms time as the local "14:05". */
export function clockTime(ms: number): string {
  return ms ? clock.format(new Date(ms)) : '';
}

/** permissionMessage is the sentence for a device permission problem (app.PermissionProblem). */
export function permissionMessage(p: { device: string; reason: string; path?: string; group?: string }): string {
  return i18n.t(`permissions.${p.reason}`, {
    device: i18n.t(`permissions.${p.device}`),
    page: i18n.t(`permissions.pages.${p.device}`),
    switch: i18n.t(`permissions.switches.${p.device}`),
    path: p.path ?? '',
    group: p.group ?? '',
  });
}
