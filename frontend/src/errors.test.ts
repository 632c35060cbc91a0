// Every error code the app's own services hand the UI (AppCode, generated from package app like the
// wire's codes) has a sentence of its own in every language, as web/i18n.test.ts checks the wire's.
import { describe, expect, it } from 'vitest';
import * as app from './api/app.gen';
import { createI18n } from '../../web/i18n';
import { locales } from './lib/i18n';

const codes: string[] = Object.values(app).filter((v) => typeof v === 'string' && /^E[A-Z]+$/.test(v));

describe('app error codes', () => {
  it('has codes to check', () => {
    expect(codes).toContain('ENOMICROPHONE');
    expect(codes).toContain('EPOLICY');
  });

  for (const lang of Object.keys(locales) as (keyof typeof locales)[]) {
    it(`${lang} has a sentence for every app error code`, () => {
      const t = createI18n({ en: {}, [lang]: locales[lang] }, [lang]);
      const generic = t.error('EINTERNAL');
      for (const code of codes) {
        const s = t.error(code);
        expect(s, code).not.toBe(generic);
        expect(s, code).not.toMatch(/^errors\./);
        expect(s, code).not.toContain(code);
      }
    });
  }
});
