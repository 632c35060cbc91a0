// The portal's entry: the organisation comes from the URL (/chat/{org}), the language from the
// browser, and ?embed=1 means the page runs inside the widget's iframe.
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { ChatSession } from './session.svelte';
import { portalI18n } from './i18n';
import { pickStorage } from './storage';

const org = decodeURIComponent(location.pathname.split('/')[2] ?? '') || 'demo';
const embed = new URLSearchParams(location.search).get('embed') === '1';
const t = portalI18n();
document.documentElement.lang = t.lang;
document.title = t.t('portal.docTitle', { org });

const session = new ChatSession(org, t, { fetch: (...a) => fetch(...a), storage: pickStorage(embed) });
mount(App, { target: document.getElementById('app')!, props: { session, t, embed } });
session.load();
