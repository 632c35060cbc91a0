import { describe, it, expect } from 'vitest';
import { en, es } from './locales';
import type { Messages } from '../../web/i18n';
import { formatSkills, hoursSummary, parseSkills, slugify } from './src/routing';
import { detailText, words } from './src/auditDetail';
import { createI18n, merge } from '../../web/i18n';

/** keys lists a locale's leaf keys, dotted. */
function keys(m: Messages, prefix = ''): string[] {
  return Object.entries(m).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v as Messages, `${prefix}${k}.`)));
}

/** placeholders lists a sentence's {name}s. */
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('admin console strings', () => {
  it('Spanish has every English string and no other', () => {
    expect(keys(es).sort()).toEqual(keys(en).sort());
  });

  it('each Spanish sentence has the same placeholders as the English one', () => {
    const get = (m: Messages, k: string) => k.split('.').reduce<unknown>((n, p) => (n as Messages)[p], m) as string;
    for (const k of keys(en)) expect(placeholders(get(es, k)), k).toEqual(placeholders(get(en, k)));
  });

  it('names every audit action the hub writes, with underscores for the dots', () => {
    const actions = Object.keys((en.audit as Messages).actions as Messages);
    for (const a of ['org.create', 'member.invite', 'member.disable', 'member.password_set', 'session.signin', 'session.end', 'settings.visual', 'settings.autoclose', 'routing.queue_save', 'settings.recording', 'settings.monitoring', 'recording.play', 'recording.upload', 'recording.delete']) {
      expect(actions).toContain(a.replaceAll('.', '_'));
    }
  });
});

describe('routing text forms', () => {
  it('reads skills with levels, 1 when none', () => {
    expect(parseSkills('billing:2, spanish ,\nrefunds:5')).toEqual({ skills: [{ name: 'billing', level: 2 }, { name: 'spanish', level: 1 }, { name: 'refunds', level: 5 }] });
    expect(parseSkills('')).toEqual({ skills: [] });
  });

  it('names the first skill it cannot read', () => {
    expect(parseSkills('billing:9').bad).toBe('billing:9');
    expect(parseSkills('ok, Billing').bad).toBe('Billing');
    expect(parseSkills('a:1, a:2').bad).toBe('a:2');
    expect(parseSkills('a:1:2').bad).toBe('a:1:2');
  });

  it('writes skills back the way it reads them', () => {
    const s = [{ name: 'billing', level: 2 }, { name: 'es', level: 1 }];
    expect(formatSkills(s)).toBe('billing:2, es');
    expect(parseSkills(formatSkills(s)).skills).toEqual(s);
  });

  it('makes slugs from labels', () => {
    expect(slugify('Billing & refunds')).toBe('billing-refunds');
    expect(slugify('Facturación')).toBe('facturacion');
    expect(slugify('¿?')).toBe('answer');
  });

  it('sums up working hours by runs of days, Monday first', () => {
    const weekdays = [1, 2, 3, 4, 5].map((day) => ({ day, from: '09:00', to: '17:00' }));
    expect(hoursSummary({ intervals: [...weekdays, { day: 6, from: '10:00', to: '14:00' }] }, 'en')).toBe('Mon–Fri 09:00–17:00; Sat 10:00–14:00');
    expect(hoursSummary({ intervals: [{ day: 0, from: '10:00', to: '12:00' }, { day: 1, from: '09:00', to: '12:00' }, { day: 1, from: '13:00', to: '17:00' }] }, 'en')).toBe(
      'Mon 09:00–12:00, 13:00–17:00; Sun 10:00–12:00',
    );
    expect(hoursSummary({}, 'en')).toBe('');
  });
});

describe('audit details', () => {
  const es_ = createI18n({ es: merge({}, es) }, ['es']);
  const en_ = createI18n({ en: merge({}, en) }, ['en']);
  const tes = (k: string) => es_.t(k);
  const ten = (k: string) => en_.t(k);

  it('has a word in both languages for every phrase', () => {
    for (const key of new Set(Object.values(words))) {
      expect(tes(`audit.words.${key}`), key).not.toMatch(/^audit\./);
      expect(ten(`audit.words.${key}`), key).not.toMatch(/^audit\./);
    }
  });

  it('puts what the hub writes into Spanish, leaving names, addresses and numbers alone', () => {
    expect(detailText('role agent, capacity 3', tes)).toBe('rol agente, capacidad 3');
    expect(detailText('sessions ended', tes)).toBe('sesiones terminadas');
    expect(detailText('new setup link, sessions ended', tes)).toBe('nuevo enlace de configuración, sesiones terminadas');
    expect(detailText('through an invite link', tes)).toBe('con un enlace de invitación');
    expect(detailText('password, app', tes)).toBe('contraseña, aplicación del agente');
    expect(detailText('sso, app', tes)).toBe('inicio de sesión único, aplicación del agente');
    // A quoted name keeps the words people typed, even English ones.
    expect(detailText('name "Role Admin, capacity" → "Kim", role agent → supervisor', tes)).toBe(
      'nombre "Role Admin, capacity" → "Kim", rol agente → supervisor',
    );
    // Host names and addresses are not words.
    expect(detailText('issuer none → https://app.example.com/sso, allowed domains app.example.com', tes)).toBe(
      'emisor ninguno → https://app.example.com/sso, dominios permitidos app.example.com',
    );
    expect(detailText('enabled false → true, password sign-in true → false', tes)).toBe('activado no → sí, acceso con contraseña sí → no');
    expect(detailText('saved (queue billing)', tes)).toBe('guardada (cola billing)');
    // What it does not know stays as the hub wrote it.
    expect(detailText('Acme Insurance', tes)).toBe('Acme Insurance');
    expect(detailText('role agent, capacity 3', ten)).toBe('role agent, capacity 3');
  });
});
