// Unit tests of the built-in co-browse's pure parts (portal/cobrowse): which fields are secret,
// the leak check, chunking under the hub's frame limit and reassembly of malformed input, and the
// chat bridge's routing (another engagement's frames are ignored). The recorder and replay run in
// real Chromium in e2e/cobrowse.test.mjs.
import { describe, expect, it } from 'vitest';
import { controllable, leaks, maskValue, secrets, sensitive } from '../../cobrowse/mask';
import { Assembler, MAX_CHUNK_BYTES, chunkText, validEvent } from '../../../web/cobrowse';
import { startCobrowse } from '../../cobrowse/bridge';

function el(html: string): HTMLElement {
  document.body.innerHTML = html;
  return document.body.querySelector('#t') as HTMLElement;
}

describe('sensitive', () => {
  const cases: [string, boolean][] = [
    ['<input id="t" name="fullname">', false],
    ['<input id="t" type="password">', true],
    ['<input id="t" type="PASSWORD">', true],
    ['<input id="t" type="hidden" value="csrf">', true],
    ['<input id="t" autocomplete="cc-number">', true],
    ['<input id="t" autocomplete="one-time-code">', true],
    ['<input id="t" name="cardNumber">', true],
    ['<input id="t" name="cvc">', true],
    ['<input id="t" name="iban">', true],
    ['<input id="t" placeholder="Your PIN">', true],
    ['<input id="t" aria-label="Security code">', true],
    ['<div data-parley-mask><input id="t" name="note"></div>', true],
    ['<div data-parley-mask><p id="t">text</p></div>', true],
    ['<textarea id="t" name="comment"></textarea>', false],
    ['<p id="t">plain</p>', false],
  ];
  for (const [html, want] of cases) {
    it(`${html} → ${want}`, () => expect(sensitive(el(html))).toBe(want));
  }
  it('spots a card number by its value', () => {
    const input = el('<input id="t" name="misc">') as HTMLInputElement;
    input.value = '4111-1111-1111-1111';
    expect(sensitive(input)).toBe(true);
  });
  it('takes null', () => expect(sensitive(null)).toBe(false));
});

describe('maskValue', () => {
  it('masks secrets with a fixed ASCII mask, not their length', () => {
    const pw = el('<input id="t" type="password">');
    expect(maskValue('hunter2-long-password', pw)).toBe('********');
    expect(maskValue('', pw)).toBe('');
    expect(maskValue('Ada', el('<input id="t" name="fullname">'))).toBe('Ada');
  });
});

describe('secrets and leaks', () => {
  it('finds the values of sensitive fields and spots them in text, escaped or not', () => {
    document.body.innerHTML = '<input id="a" type="password"><input id="b" name="x"><div data-parley-mask>Acct 12345678</div>';
    (document.getElementById('a') as HTMLInputElement).value = 'pa"ss\\word';
    (document.getElementById('b') as HTMLInputElement).value = 'harmless';
    const s = secrets(document);
    expect(s).toContain('pa"ss\\word');
    expect(s).toContain('Acct 12345678');
    expect(s).not.toContain('harmless');
    expect(leaks(JSON.stringify({ v: 'pa"ss\\word' }), s)).toBe(true);
    expect(leaks(JSON.stringify({ v: 'Acct 12345678' }), s)).toBe(true);
    expect(leaks(JSON.stringify({ v: 'harmless' }), s)).toBe(false);
  });
});

describe('controllable', () => {
  it('refuses secrets, the widget and the co-browse bar', () => {
    expect(controllable(el('<button id="t">Buy</button>'))).toBe(true);
    expect(controllable(el('<input id="t" type="password">'))).toBe(false);
    expect(controllable(el('<div data-parley-widget="demo"><button id="t">x</button></div>'))).toBe(false);
    expect(controllable(el('<div data-parley-nocontrol><button id="t">Stop sharing</button></div>'))).toBe(false);
  });
});

describe('chunkText', () => {
  it('keeps every piece under the limit once JSON-escaped, and loses nothing', () => {
    const text = '"\\'.repeat(9000) + '😀'.repeat(5000) + 'a'.repeat(30000) + '\u0001'.repeat(4000);
    const parts = chunkText(text);
    expect(parts.join('')).toBe(text);
    const enc = new TextEncoder();
    for (const p of parts) expect(enc.encode(JSON.stringify(p)).length - 2).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
    // No piece starts with a lone low surrogate.
    for (const p of parts) expect(/^[\uDC00-\uDFFF]/.test(p)).toBe(false);
  });
  it('gives nothing for nothing', () => expect(chunkText('')).toEqual([]));
});

describe('Assembler', () => {
  const events = [{ type: 4, timestamp: 1, data: { href: 'x', width: 10, height: 10 } }];
  it('reassembles parts in order', () => {
    const a = new Assembler();
    const text = JSON.stringify(events);
    expect(a.push({ seq: 1, part: 0, parts: 2, data: text.slice(0, 5) })).toBeNull();
    expect(a.push({ seq: 1, part: 1, parts: 2, data: text.slice(5) })).toEqual(events);
  });
  const bad: [string, unknown, string][] = [
    ['not an object', 'x', 'EINVALID'],
    ['part out of range', { seq: 1, part: 2, parts: 2, data: '' }, 'EINVALID'],
    ['too many parts', { seq: 1, part: 0, parts: 100000, data: '' }, 'EINVALID'],
    ['data not a string', { seq: 1, part: 0, parts: 1, data: 5 }, 'EINVALID'],
    ['part without its start', { seq: 1, part: 1, parts: 2, data: '[]' }, 'EINVALID'],
    ['not JSON', { seq: 1, part: 0, parts: 1, data: '[{' }, 'EINVALID'],
    ['not an array', { seq: 1, part: 0, parts: 1, data: '{}' }, 'EINVALID'],
    ['unknown event type', { seq: 1, part: 0, parts: 1, data: '[{"type":42,"timestamp":1,"data":{}}]' }, 'EINVALID'],
  ];
  for (const [name, chunk, code] of bad) {
    it(`refuses ${name} with ${code}`, () => expect(() => new Assembler().push(chunk)).toThrow(code));
  }
  it('refuses a batch over its limit', () => {
    const a = new Assembler(100);
    expect(() => a.push({ seq: 1, part: 0, parts: 3, data: 'x'.repeat(101) })).toThrow('ETOOLARGE');
  });
  it('checks event outlines', () => {
    expect(validEvent({ type: 2, timestamp: 5, data: {} })).toBe(true);
    expect(validEvent({ type: 2, timestamp: '5', data: {} })).toBe(false);
    expect(validEvent([])).toBe(false);
  });
});

describe('startCobrowse', () => {
  it('relays chunks as visual.event, the agent\'s frames to the recorder, and ignores other engagements', async () => {
    const ch = new MessageChannel();
    const sent: { type: string; data: unknown }[] = [];
    const toRecorder: unknown[] = [];
    ch.port1.onmessage = (e) => toRecorder.push(e.data);
    const b = await startCobrowse(
      {
        request: async (type, data) => void sent.push({ type, data }),
        notify: (type, data) => (sent.push({ type, data }), true),
      },
      'v1',
      { embedded: false, connect: async () => ch.port2 },
    );
    ch.port1.postMessage({ op: 'chunk', chunk: { seq: 1, part: 0, parts: 1, data: '[]' } });
    b.handle({ type: 'visual.pointer', data: { visual: 'v1', x: 0.5, y: 0.5, visible: true } });
    b.handle({ type: 'visual.pointer', data: { visual: 'v2', x: 0.1, y: 0.1, visible: true } });
    b.handle({ type: 'visual.command', data: { visual: 'v2', action: 'click', node: 3 } });
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([{ type: 'visual.event', data: { visual: 'v1', seq: 1, part: 0, parts: 1, data: '[]' } }]);
    expect(toRecorder).toEqual([{ op: 'pointer', pointer: { x: 0.5, y: 0.5, visible: true } }]);
    // The customer takes control back on the page: the hub hears of it.
    ch.port1.postMessage({ op: 'control', granted: false });
    await new Promise((r) => setTimeout(r, 20));
    expect(sent.at(-1)).toEqual({ type: 'visual.control', data: { visual: 'v1', granted: false } });
    b.stop();
    await new Promise((r) => setTimeout(r, 20));
    expect(toRecorder.at(-1)).toEqual({ op: 'stop' });
    ch.port1.close();
  });

  it('tells the agent which command the page refused, and nothing of those it ran', async () => {
    const ch = new MessageChannel();
    const sent: { type: string; data: unknown }[] = [];
    const commands: { id: string }[] = [];
    ch.port1.onmessage = (e) => e.data.op === 'command' && commands.push(e.data);
    const b = await startCobrowse(
      { request: async () => undefined, notify: (type, data) => (sent.push({ type, data }), true) },
      'v1',
      { embedded: false, connect: async () => ch.port2 },
    );
    b.handle({ type: 'visual.command', data: { visual: 'v1', action: 'click', node: 3 } });
    b.handle({ type: 'visual.command', data: { visual: 'v1', action: 'type', node: 4, text: 'x' } });
    await new Promise((r) => setTimeout(r, 20));
    expect(commands).toHaveLength(2);
    // Answers in any order: the click ran, the typing hit a masked field.
    ch.port1.postMessage({ op: 'result', id: commands[1].id, result: { ok: false, code: 'EFORBIDDEN' } });
    ch.port1.postMessage({ op: 'result', id: commands[0].id, result: { ok: true } });
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([{ type: 'visual.result', data: { visual: 'v1', action: 'type', code: 'EFORBIDDEN' } }]);
    b.stop();
    ch.port1.close();
  });
});
