// Text forms of routing settings the console edits: skills as "billing:2, spanish" and a queue's
// working hours summed up in a line. The hub checks everything again.
import type * as wire from '../../../web/wire.gen';

/** slug is the shape of queue ids, skill names, pre-chat answer ids and quick-reply shortcuts. */
export const slug = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** MaxSkillLevel is the highest skill level (wire.MaxSkillLevel). */
export const maxLevel = 5;

/**
 * parseSkills reads "billing:2, spanish" (a missing level is 1). It returns the skills, or the
 * first entry it cannot read.
 */
export function parseSkills(text: string): { skills: wire.Skill[]; bad?: string } {
  const skills: wire.Skill[] = [];
  for (const raw of text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean)) {
    const [name, level = '1', ...rest] = raw.split(':').map((s) => s.trim());
    const n = Number(level);
    if (rest.length || !slug.test(name) || !Number.isInteger(n) || n < 1 || n > maxLevel || skills.some((s) => s.name === name)) {
      return { skills, bad: raw };
    }
    skills.push({ name, level: n });
  }
  return { skills };
}

/** formatSkills writes skills the way parseSkills reads them. */
export function formatSkills(skills: wire.Skill[] | null | undefined): string {
  return (skills ?? []).map((s) => (s.level === 1 ? s.name : `${s.name}:${s.level}`)).join(', ');
}

/** slugify makes a slug from a label ("Billing & refunds" → "billing-refunds"). */
export function slugify(label: string): string {
  return (
    label
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32) || 'answer'
  );
}

/** dayOrder lists weekdays Monday first (wire days count from 0 = Sunday). */
export const dayOrder = [1, 2, 3, 4, 5, 6, 0];

/**
 * hoursSummary sums up working hours in one line per run of days with the same times, e.g.
 * "Mon–Fri 09:00–17:00; Sat 10:00–14:00", using the browser's names of the days.
 */
export function hoursSummary(h: wire.WorkingHours, lang: string): string {
  const ivs = h.intervals ?? [];
  if (!ivs.length) return '';
  const dayName = (d: number) => new Intl.DateTimeFormat(lang, { weekday: 'short', timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 7 + d)));
  // Each day's times, then runs of consecutive days (Monday first) with the same times.
  const times = new Map<number, string>();
  for (const d of dayOrder) {
    const t = ivs
      .filter((iv) => iv.day === d)
      .sort((a, b) => a.from.localeCompare(b.from))
      .map((iv) => `${iv.from}–${iv.to}`)
      .join(', ');
    if (t) times.set(d, t);
  }
  const parts: string[] = [];
  let i = 0;
  while (i < dayOrder.length) {
    const t = times.get(dayOrder[i]);
    if (!t) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < dayOrder.length && times.get(dayOrder[j + 1]) === t) j++;
    parts.push(`${dayName(dayOrder[i])}${j > i ? `–${dayName(dayOrder[j])}` : ''} ${t}`);
    i = j + 1;
  }
  return parts.join('; ');
}
