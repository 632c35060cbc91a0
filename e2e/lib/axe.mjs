// axe-core, the accessibility engine (npm axe-core), run inside a page under test: a Chromium page
// (playwright-core) or the agent app's real window (window.mjs: the source goes in through the
// window harness, as any script does). Only WCAG 2.0/2.1 A and AA rules run; a test fails on any
// serious or critical violation and reads which rule, why and on which elements.
//
//   await accessible(page, 'portal: pre-chat');        // Chromium page
//   await accessible(win, 'app: sign-in');              // the real window
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let source;

/** axeSource is axe-core's browser build (about 650 KB), read once. */
function axeSource() {
  source ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return source;
}

/** wcag21aa are the rule tags that run: WCAG 2.0 and 2.1, levels A and AA. */
const options = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] };

/**
 * check runs in the page: axe on the whole document once what is arriving has arrived (a card
 * fading in would read as low contrast), and returns the serious and critical violations.
 */
async function check(opts) {
  const arriving = (document.getAnimations?.() ?? []).filter((a) => a.effect?.getTiming?.().iterations !== Infinity);
  await Promise.race([Promise.all(arriving.map((a) => a.finished.catch(() => {}))), new Promise((r) => setTimeout(r, 2000))]);
  return window.axe.run(document, opts).then((r) =>
    r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 6).map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 160), why: (n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 300) })),
      })),
  );
}

/**
 * violations runs axe in page (a playwright Page or a window.mjs Window) and returns its serious
 * and critical violations. axe goes in once per page load.
 */
export async function violations(page) {
  if (typeof page.script === 'function') {
    // The real window: the harness splices a script in as an expression, so the source runs
    // inside a function body.
    if (!(await page.evaluate(() => !!window.axe))) {
      await page.script(`(() => { ${axeSource()}\n; return !!window.axe; })()`, 60_000);
    }
    return page.script(`(${check.toString()})(${JSON.stringify(options)})`, 60_000);
  }
  // Chromium: evaluated through the DevTools protocol, which the page's CSP does not govern.
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource());
  return page.evaluate(check, options);
}

/** accessible fails the test when axe finds a serious or critical violation in page. */
export async function accessible(page, what) {
  const found = await violations(page);
  const text = found
    .map((v) => `  ${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target}  ${n.html}\n      ${n.why}`).join('\n')}`)
    .join('\n');
  assert.equal(found.length, 0, `${what}: axe-core found ${found.length} serious or critical WCAG 2.1 AA violation(s):\n${text}`);
}
