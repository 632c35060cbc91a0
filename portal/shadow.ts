// Shared by the widget loader and the co-browse recorder, which each draw in a shadow root on a
// customer's page.

/** shadowWithStyle attaches an open shadow root to host with css: a constructed sheet, which works
 * on pages whose CSP forbids inline styles, else a <style> element. */
export function shadowWithStyle(host: HTMLElement, css: string): ShadowRoot {
  const root = host.attachShadow({ mode: 'open' });
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch {
    const style = host.ownerDocument.createElement('style');
    style.textContent = css;
    root.appendChild(style);
  }
  return root;
}
