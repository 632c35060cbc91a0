import { describe, expect, it } from 'vitest';
import { createI18n } from './i18n';
import en from './locales/en';
import es from './locales/es';
import { callDuration, systemLine } from './systemline';

const esT = createI18n({ en, es }, ['es-ES']);
const enT = createI18n({ en, es }, ['en-GB']);

describe('systemLine', () => {
  it('translates hub events into the reader\'s language', () => {
    expect(systemLine(esT, 'Call ended · 4:12', { kind: 'call_ended', duration_ms: 252_000 })).toBe('Llamada finalizada · 4:12');
    expect(systemLine(esT, 'Video call started', { kind: 'call_started', call_kind: 'video' })).toBe('Videollamada iniciada');
    expect(systemLine(esT, 'Agent One joined the conversation.', { kind: 'joined', name: 'Agent One' })).toBe('Agent One se ha unido a la conversación.');
    expect(systemLine(enT, 'x', { kind: 'call_missed' })).toBe('Missed call');
    expect(systemLine(esT, 'The customer left the conversation.', { kind: 'left' }, 'customer')).toBe('Has salido de la conversación.');
    expect(systemLine(enT, 'The customer left the conversation.', { kind: 'left' }, 'agent')).toBe('The customer left the conversation.');
  });

  it('falls back to the hub text for lines without an event', () => {
    expect(systemLine(esT, 'Something else', undefined)).toBe('Something else');
  });

  it('formats call durations', () => {
    expect(callDuration(0)).toBe('0:00');
    expect(callDuration(252_000)).toBe('4:12');
    expect(callDuration(3_725_000)).toBe('1:02:05');
  });
});
