import { describe, expect, it } from 'vitest';
import { placePopover, type Rect } from './popover';

const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('placePopover', () => {
  // The call control on the right of a 1280x800 window, its End button at the bottom.
  const control = { x: 916, y: 124, width: 340, height: 240 };
  const end = { x: 1137, y: 314, width: 48, height: 40 };

  it('opens to the left of the control when there is room', () => {
    expect(placePopover(control, 260, 180, 1280, 800, end)).toEqual({ x: 916 - 8 - 260, y: 124 });
  });

  it('opens to the right when the control is at the left edge', () => {
    expect(placePopover({ ...control, x: 10 }, 260, 180, 1280, 800, end)).toEqual({ x: 10 + 340 + 8, y: 124 });
  });

  it('opens above or below when neither side has room, staying inside the window', () => {
    const narrow = { x: 4, y: 300, width: 340, height: 200 };
    const above = placePopover(narrow, 300, 180, 420, 800);
    expect(above).toEqual({ x: 44, y: 300 - 8 - 180 });
    const below = placePopover({ ...narrow, y: 20 }, 300, 180, 420, 800);
    expect(below).toEqual({ x: 44, y: 20 + 200 + 8 });
  });

  it('keeps End clear when no side has room', () => {
    const ctl = { x: 4, y: 4, width: 300, height: 300 };
    const e = { x: 130, y: 250, width: 48, height: 40 };
    const p = placePopover(ctl, 280, 200, 310, 330, e);
    expect(overlaps({ ...p, width: 280, height: 200 }, e)).toBe(false);
    expect(p.y).toBeGreaterThanOrEqual(4);
  });

  it('stays inside a 900x560 window with the control low on the right', () => {
    const ctl = { x: 556, y: 124, width: 340, height: 339 };
    const p = placePopover(ctl, 280, 330, 900, 560);
    expect(p.x + 280).toBeLessThanOrEqual(ctl.x);
    expect(p.y + 330).toBeLessThanOrEqual(556);
  });
});
