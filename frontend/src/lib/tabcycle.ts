// The keyboard's Tab order wraps around inside the window. A browser hands Tab past the last
// control to its own toolbar; the app's webview has none, so the focus went nowhere: one Tab stop
// after the composer showed no focus at all, and the next Tab started again from the top. Here
// Tab on the last control goes to the first, Shift+Tab on the first to the last, within the open
// modal dialog when there is one.

const focusable = 'a[href], button, input:not([type="hidden"]), select, textarea, [tabindex]';

/** tabStops are the elements of scope that Tab visits, in document order. */
export function tabStops(scope: ParentNode): HTMLElement[] {
  return [...scope.querySelectorAll<HTMLElement>(focusable)].filter(
    (el) =>
      el.tabIndex >= 0 &&
      !(el as HTMLButtonElement).disabled &&
      !el.closest('[inert], [aria-hidden="true"]') &&
      el.getClientRects().length > 0 &&
      getComputedStyle(el).visibility !== 'hidden',
  );
}

/** wrapTab moves the focus around the ends of the Tab order for one keydown; true if it did. */
export function wrapTab(e: KeyboardEvent, doc: Document = document): boolean {
  if (e.key !== 'Tab' || e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return false;
  const dialogs = doc.querySelectorAll<HTMLElement>('[aria-modal="true"]');
  const scope = dialogs.length > 0 ? dialogs[dialogs.length - 1] : doc.body;
  const stops = tabStops(scope);
  if (stops.length === 0) return false;
  const at = doc.activeElement;
  const first = stops[0];
  const last = stops[stops.length - 1];
  const outside = !at || at === doc.body || !scope.contains(at);
  if (e.shiftKey ? at === first || outside : at === last || outside) {
    e.preventDefault();
    focusShown(e.shiftKey ? last : first);
    return true;
  }
  return false;
}

/**
 * focusShown focuses el with its focus ring. WebKit does not count a focus moved by script during
 * a key press as keyboard focus (:focus-visible), so the ring is asked for by name
 * ([data-focus-ring], app.css) until el loses the focus.
 */
function focusShown(el: HTMLElement) {
  el.focus();
  let visible = false;
  try {
    visible = el.matches(':focus-visible');
  } catch {
    // A selector the engine does not know: ask for the ring.
  }
  if (!visible) {
    el.setAttribute('data-focus-ring', '');
    el.addEventListener('blur', () => el.removeAttribute('data-focus-ring'), { once: true });
  }
}

/** keepTabInWindow installs wrapTab for the page; it returns the function that removes it. */
export function keepTabInWindow(win: Window = window): () => void {
  const f = (e: KeyboardEvent) => void wrapTab(e, win.document);
  win.addEventListener('keydown', f);
  return () => win.removeEventListener('keydown', f);
}
