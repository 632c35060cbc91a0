import { describe, it, expect } from 'vitest';
import * as wire from './wire.gen';
import { createI18n, pickLanguage, merge } from './i18n';
import en from './locales/en';
import es from './locales/es';

// Every code of wire.Code (its constants are named like their values, EINVALID = "EINVALID"), so a
// new code without a sentence fails here.
const codes = Object.entries(wire)
  .filter(([k, v]) => /^E[A-Z]+$/.test(k) && k === v)
  .map(([k]) => k);

describe('i18n', () => {
  it('has codes to check', () => {
    expect(codes).toContain('ETOOLARGE');
  });

  for (const [lang, loc] of Object.entries({ en, es })) {
    it(`${lang} has a sentence for every wire error code`, () => {
      const t = createI18n({ en: {}, [lang]: loc }, [lang]);
      for (const code of codes) {
        const s = t.error(code, { limit: 10 });
        expect(s, code).not.toMatch(/^errors\./);
        expect(s, code).not.toContain(code);
      }
    });
  }

  it('picks the language from the browser preferences', () => {
    expect(pickLanguage(['es-MX', 'en'], ['en', 'es'])).toBe('es');
    expect(pickLanguage(['fr-FR', 'es'], ['en', 'es'])).toBe('es');
    expect(pickLanguage(['de'], ['en', 'es'])).toBe('en');
    expect(pickLanguage([], ['en', 'es'])).toBe('en');
  });

  it('falls back to English for a key the locale lacks, then to the key', () => {
    const t = createI18n({ en: { a: { b: 'English {n}' }, only: 'en only' }, es: { a: { b: 'Español {n}' } } }, ['es']);
    expect(t.lang).toBe('es');
    expect(t.t('a.b', { n: 2 })).toBe('Español 2');
    expect(t.t('only')).toBe('en only');
    expect(t.t('missing.key')).toBe('missing.key');
  });

  it('fills the limit into the too-large sentence, in Spanish', () => {
    const t = createI18n({ en, es }, ['es-ES']);
    expect(t.error('ETOOLARGE', { limit: 4000 })).toBe('El mensaje es demasiado largo: el límite es de 4000 caracteres.');
  });

  it('maps an unknown code to the generic sentence, never the raw code', () => {
    const t = createI18n({ en, es }, ['en']);
    expect(t.error('EWHATEVER')).toBe(en.errors && (en.errors as Record<string, string>).EINTERNAL);
    expect(t.error(undefined)).toBe((en.errors as Record<string, string>).EINTERNAL);
  });

  it('merges app keys into the shared ones', () => {
    const m = merge({ a: { x: '1', y: '2' } }, { a: { y: '3' }, b: '4' });
    expect(m).toEqual({ a: { x: '1', y: '3' }, b: '4' });
  });
});
