// The organisation admin's console, served by the hub at /admin/{org}, and the page a setup link
// opens, /setup#SECRET. Svelte, in the agent app's visual language (its tokens and buttons); user
// text is only ever rendered as text.
import { mount } from 'svelte';
import '../../frontend/src/app.css';
import './admin.css';
import App from './src/App.svelte';
import { org } from './src/api.svelte';
import { useOrgLanguage } from './src/i18n';

async function start() {
  // The organisation's default language, for browsers that prefer neither English nor Spanish.
  if (org && !location.pathname.startsWith('/setup')) {
    try {
      const res = await fetch(`/api/v1/orgs/${encodeURIComponent(org)}/signin`);
      if (res.ok) useOrgLanguage((await res.json()).language);
    } catch {
      // the sign-in page says what is wrong
    }
  }
  mount(App, { target: document.getElementById('admin')! });
}

void start();
