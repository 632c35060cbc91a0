import { describe, it, expect } from 'vitest';
import { hostLink } from './host';

// A framed chat's window with its parent, as the browser gives them: messages carry the origin
// of the window that sent them.
function framed() {
  const posted: { m: unknown; origin: string }[] = [];
  const listeners: ((e: MessageEvent) => void)[] = [];
  const parent = { postMessage: (m: unknown, origin: string) => posted.push({ m, origin }) };
  const win = {
    parent,
    addEventListener: (_: string, f: (e: MessageEvent) => void) => listeners.push(f),
    removeEventListener: (_: string, f: (e: MessageEvent) => void) => listeners.splice(listeners.indexOf(f), 1),
  };
  const deliver = (source: unknown, origin: string, data: unknown) =>
    [...listeners].forEach((f) => f({ source, origin, data } as MessageEvent));
  return { win: win as unknown as Window, parent, posted, deliver };
}

describe('hostLink', () => {
  it('sends the token only to the origin the loader announced, never to "*"', () => {
    const f = framed();
    const link = hostLink(f.win);
    link.post({ parley: 'store', key: 'parley.demo', value: 'secret-token' });
    expect(f.posted).toEqual([]); // nobody announced: nothing leaves
    // Another frame (not our parent) claiming to be the loader is ignored.
    f.deliver({}, 'https://evil.example', { parley: 'open' });
    expect(f.posted).toEqual([]);
    f.deliver(f.parent, 'https://shop.example', { parley: 'hello' });
    expect(link.origin).toBe('https://shop.example');
    expect(f.posted).toEqual([{ m: { parley: 'store', key: 'parley.demo', value: 'secret-token' }, origin: 'https://shop.example' }]);
    link.post({ parley: 'unread' });
    expect(f.posted.at(-1)).toEqual({ m: { parley: 'unread' }, origin: 'https://shop.example' });
    // Later messages do not move it.
    f.deliver(f.parent, 'https://evil.example', { parley: 'open' });
    link.post({ parley: 'close' });
    expect(f.posted.every((p) => p.origin === 'https://shop.example')).toBe(true);
  });

  it('keeps a bounded queue until the loader speaks', () => {
    const f = framed();
    const link = hostLink(f.win);
    for (let i = 0; i < 50; i++) link.post({ parley: 'unread', i });
    f.deliver(f.parent, 'https://shop.example', { parley: 'open' });
    expect(f.posted).toHaveLength(20);
    expect(f.posted[0].m).toEqual({ parley: 'unread', i: 30 });
  });

  it('posts nothing from a page that is not framed', () => {
    const posted: unknown[] = [];
    const win = { addEventListener() {}, removeEventListener() {} } as unknown as Window & { parent: Window };
    (win as { parent: unknown }).parent = win;
    (win as unknown as { postMessage: (m: unknown) => void }).postMessage = (m) => posted.push(m);
    hostLink(win).post({ parley: 'store', key: 'k', value: 'v' });
    expect(posted).toEqual([]);
  });
});
