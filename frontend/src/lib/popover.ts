// Where the call control's popovers (quality details, devices) open: beside the control, inside
// the window, never over its End button.

/** Rect is a box in the window's coordinates (CSS pixels). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const gap = 8; // between the control and the popover
const margin = 4; // between the popover and the window's edge

const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(v, hi));

/**
 * placePopover returns the top-left corner of a w x h popover for the control at `around` in a
 * vw x vh window: to its left when there is room, else to its right, else above it, else below
 * it. When none has room (a tiny window), it goes inside the window where it leaves `keep` (the
 * End button) clear if it can.
 */
export function placePopover(around: Rect, w: number, h: number, vw: number, vh: number, keep?: Rect): { x: number; y: number } {
  const y = clamp(around.y, margin, vh - h - margin);
  const x = clamp(around.x + around.width - w, margin, vw - w - margin);
  const tries = [
    { x: around.x - gap - w, y },
    { x: around.x + around.width + gap, y },
    { x, y: around.y - gap - h },
    { x, y: around.y + around.height + gap },
  ];
  const fits = (p: { x: number; y: number }) => p.x >= margin && p.y >= margin && p.x + w <= vw - margin && p.y + h <= vh - margin;
  const found = tries.find(fits);
  if (found) return found;
  // No side has room: inside the window, above End or below it.
  const p = { x, y: clamp(around.y, margin, vh - h - margin) };
  if (keep && overlaps({ ...p, width: w, height: h }, keep)) {
    const above = keep.y - gap - h;
    const below = keep.y + keep.height + gap;
    if (above >= margin) p.y = above;
    else if (below + h <= vh - margin) p.y = below;
  }
  return p;
}

/** rectOf is an element's box as a Rect. */
export function rectOf(el: Element): Rect {
  const r = el.getBoundingClientRect();
  return { x: r.x, y: r.y, width: r.width, height: r.height };
}

/** movedEvent is the window event the call control sends when it moves or changes size. */
export const movedEvent = 'parley:call-control-moved';

/**
 * besideControl is a Svelte action for a popover of the floating call control: it fixes the node
 * beside the control (placePopover) and follows it as the control, the popover or the window
 * change.
 */
export function besideControl(node: HTMLElement) {
  const update = () => {
    const ctl = node.closest('[data-testid="floating-call-control"]');
    if (!ctl) return;
    const end = ctl.querySelector('[data-testid="call-end"]');
    const p = placePopover(rectOf(ctl), node.offsetWidth, node.offsetHeight, innerWidth, innerHeight, end ? rectOf(end) : undefined);
    node.style.left = `${Math.round(p.x)}px`;
    node.style.top = `${Math.round(p.y)}px`;
    node.style.visibility = 'visible';
  };
  update();
  const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(update) : null;
  ro?.observe(node);
  addEventListener('resize', update);
  addEventListener(movedEvent, update);
  return {
    destroy() {
      ro?.disconnect();
      removeEventListener('resize', update);
      removeEventListener(movedEvent, update);
    },
  };
}
