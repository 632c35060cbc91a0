// The portal's entry: the organisation comes from the URL (/chat/{org}), the queue from ?queue=
// (the widget's data-queue), the language from the queue when it serves in one, else from the
// browser, and ?embed=1 means the page runs inside the widget's iframe.
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { ChatSession } from './session.svelte';
import { portalI18n } from './i18n';
import { pickStorage } from './storage';
import type * as wire from '../../web/wire.gen';

const org = decodeURIComponent(location.pathname.split('/')[2] ?? '') || 'demo';
const params = new URLSearchParams(location.search);
const embed = params.get('embed') === '1';
const queue = (params.get('queue') ?? '').slice(0, 64);

/** queueLanguage asks the hub which language the widget's queue serves in ("" when none or unknown). */
async function queueLanguage(): Promise<string> {
  if (!queue) return '';
  try {
    const res = await fetch(`/api/v1/orgs/${encodeURIComponent(org)}/widget?queue=${encodeURIComponent(queue)}`);
    if (!res.ok) return '';
    return ((await res.json()) as wire.WidgetConfig).queue?.language ?? '';
  } catch {
    return ''; // the session's own load reports the hub being out of reach
  }
}

void queueLanguage().then((lang) => {
  const t = portalI18n(lang ? [lang, ...(navigator.languages ?? [])] : undefined);
  document.documentElement.lang = t.lang;
  document.title = t.t('portal.docTitle', { org });
  const session = new ChatSession(org, t, { fetch: (...a) => fetch(...a), storage: pickStorage(embed) }, queue);
  mount(App, { target: document.getElementById('app')!, props: { session, t, embed } });
  session.load();
});
