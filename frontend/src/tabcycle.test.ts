import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { wrapTab } from './lib/tabcycle';

// jsdom lays nothing out: every element counts as shown.
beforeAll(() => {
  Element.prototype.getClientRects = function () {
    return [{}] as unknown as DOMRectList;
  };
});

function tab(shiftKey = false) {
  const e = new KeyboardEvent('keydown', { key: 'Tab', shiftKey, bubbles: true, cancelable: true });
  const moved = wrapTab(e);
  return { moved, prevented: e.defaultPrevented, at: (document.activeElement as HTMLElement | null)?.id };
}

describe('Tab order wraps inside the window', () => {
  afterEach(() => (document.body.innerHTML = ''));

  it('goes from the last stop to the first and back, skipping what Tab skips', () => {
    document.body.innerHTML = `<button id="a">a</button><button id="off" disabled>x</button><div aria-hidden="true"><button id="hid">h</button></div>
      <span tabindex="-1" id="neg">n</span><textarea id="composer"></textarea><button id="send" disabled>send</button>`;
    document.getElementById('composer')!.focus();
    expect(tab()).toEqual({ moved: true, prevented: true, at: 'a' }); // not off the page
    expect(tab(true)).toEqual({ moved: true, prevented: true, at: 'composer' });
    document.getElementById('a')!.focus();
    expect(tab()).toEqual({ moved: false, prevented: false, at: 'a' }); // the webview moves on itself
  });

  it('keeps the focus inside an open modal dialog', () => {
    document.body.innerHTML = `<button id="page">p</button><div role="dialog" aria-modal="true"><button id="ok">ok</button><button id="cancel">c</button></div>`;
    document.getElementById('cancel')!.focus();
    expect(tab().at).toBe('ok');
    expect(tab(true).at).toBe('cancel');
    document.getElementById('page')!.focus(); // somewhere behind the dialog
    expect(tab().at).toBe('ok');
  });
});
