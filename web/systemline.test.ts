import { describe, expect, it } from 'vitest';
import { createI18n } from './i18n';
import en from './locales/en';
import es from './locales/es';
import { callDuration, shownTo, systemLine } from './systemline';
import * as wire from './wire.gen';

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

  it('has a sentence for every event the hub sends, in English and Spanish', () => {
    const kinds = Object.entries(wire)
      .filter(([k]) => k.startsWith('Event') && k !== 'EventKind')
      .map(([, v]) => v as wire.EventKind);
    expect(kinds).toContain('idle_closed');
    for (const tr of [enT, esT]) {
      for (const kind of kinds) {
        const line = systemLine(tr, 'HUB TEXT', { kind, call_kind: 'voice', name: 'Ana', duration_ms: 1000 }, 'agent');
        expect(line, `${tr.lang} ${kind}`).not.toBe('HUB TEXT');
      }
    }
    expect(systemLine(esT, 'Closed after inactivity.', { kind: 'idle_closed' })).toBe('Cerrada por inactividad.');
    expect(systemLine(esT, 'x', { kind: 'customer_gone' }, 'agent')).toBe('El cliente ha abandonado el chat.');
  });

  it('keeps the customer\'s own comings and goings out of their transcript', () => {
    expect(shownTo({ kind: 'customer_gone' }, 'customer')).toBe(false);
    expect(shownTo({ kind: 'customer_back' }, 'customer')).toBe(false);
    expect(shownTo({ kind: 'customer_gone' }, 'agent')).toBe(true);
    expect(shownTo({ kind: 'idle_closed' }, 'customer')).toBe(true);
    expect(shownTo(undefined, 'customer')).toBe(true);
  });

  it('translates routing lines: transfers, readers along, left messages', () => {
    expect(systemLine(esT, 'x', { kind: 'transferred', queue: 'Facturación' })).toBe('Te estamos transfiriendo a Facturación.');
    expect(systemLine(enT, 'x', { kind: 'transferred' })).toBe('Transferring you to another agent.');
    expect(systemLine(enT, 'x', { kind: 'transfer_note', name: 'Agent One', target: 'Billing', note: 'wants a refund' })).toBe(
      'Agent One transferred the conversation to Billing: “wants a refund”',
    );
    expect(systemLine(esT, 'x', { kind: 'consult_invited', name: 'Ana', target: 'Supervisor One' })).toBe(
      'Ana invitó a Supervisor One a seguir la conversación.',
    );
    expect(systemLine(enT, 'x', { kind: 'message_left' }, 'customer')).toBe('You left a message. We will reply here.');
    expect(systemLine(enT, 'x', { kind: 'message_left' }, 'agent')).toBe('The customer left a message.');
  });

  it('translates recording lines: who started or stopped it, or the organisation', () => {
    expect(systemLine(enT, 'x', { kind: 'recording_started', name: 'Ana' })).toBe('Recording started by Ana');
    expect(systemLine(esT, 'x', { kind: 'recording_stopped', name: 'Ana' })).toBe('Ana ha dejado de grabar');
    expect(systemLine(esT, 'x', { kind: 'recording_started' })).toBe('Grabación iniciada (aquí se graban todas las llamadas)');
  });

  it('translates a supervisor joining and leaving a call', () => {
    expect(systemLine(enT, 'x', { kind: 'supervisor_joined', name: 'Sue' })).toBe('A supervisor joined the call');
    expect(systemLine(esT, 'x', { kind: 'supervisor_joined', name: 'Sue' })).toBe('Un supervisor se ha unido a la llamada');
    expect(systemLine(esT, 'x', { kind: 'supervisor_left' })).toBe('El supervisor ha salido de la llamada');
  });

  it('translates the notice of a supervisor listening, without their name', () => {
    expect(systemLine(enT, 'x', { kind: 'supervisor_listening', name: 'Sue' })).toBe('A supervisor is listening to this call');
    expect(systemLine(esT, 'x', { kind: 'supervisor_listening', name: 'Sue' })).toBe('Un supervisor está escuchando esta llamada');
    expect(systemLine(enT, 'x', { kind: 'supervisor_stopped_listening' })).toBe('The supervisor stopped listening');
    expect(systemLine(esT, 'x', { kind: 'supervisor_stopped_listening' })).toBe('El supervisor ha dejado de escuchar');
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
