// Wires the stores to the services' events and loads the current state (after a reload, or when
// the app started signed in, as with -demo).
import * as api from '../api/backend';
import type { AgentState, ConversationView, MessageView, Notice, OfferView, SessionView, SupervisorView } from '../api/types';
import { i18n } from '../lib/i18n';
import { addMessage, followActive, loadConversations, resetConversations, setConversations } from './conversations.svelte';
import { notify } from './notices.svelte';
import { loadOffers, setOffers } from './offers.svelte';
import { loadAgent, setAgent } from './presence.svelte';
import { loadSession, session, setSession } from './session.svelte';
import { loadTeam, setTeam } from './supervisor.svelte';
import { setMonitor } from './monitor.svelte';

export async function init(): Promise<void> {
  await Promise.all([
    api.on('session', (v) => {
      const was = session.view.signed_in;
      if (!v.signed_in) resetConversations();
      setSession(v);
      // Signed in elsewhere (another view of the app, or -demo): load what this view lacks.
      if (v.signed_in && !was) refresh().catch(() => {});
    }),
    api.on('agent', setAgent),
    api.on('offers', setOffers),
    api.on('conversations', setConversations),
    api.on('message', addMessage),
    api.on('active', followActive),
    api.on('supervisor', setTeam),
    api.on('monitor', setMonitor),
    // The page was reloaded after its web process stopped: say so, and whether the call went on.
    api.on('window', (w) => {
      // It stays until closed: the agent may have looked away while the window was frozen.
      if (w.recovered) notify(i18n.t(w.call ? 'notice.windowRecoveredCall' : 'notice.windowRecovered'), 'info', 0);
    }),
    api.on('notice', (n) => {
      if (n.kind === 'offer_revoked') {
        // Where the conversation went, as the hub saw it: another agent, or the queue.
        const where = n.next === 'queue' ? 'Queue' : '';
        const key = `offer.revoked.${n.reason ?? 'other'}${n.reason === 'timeout' || n.reason === 'call' ? where : ''}`;
        const text = i18n.t(key);
        notify(text === key ? i18n.t('offer.revoked.other') : text);
      } else if (n.kind === 'connection_lost') {
        notify(i18n.t(n.code === 'EUNAUTHORIZED' ? 'notice.sessionExpired' : 'notice.connectionLost'), 'error', 10000);
      }
    }),
  ]);
  await loadSession();
  if (session.view.signed_in) await refresh();
  api.appWindow.ready().catch(() => {});
  reportShown();
}

let watchingShown = false;

/**
 * reportShown tells the services whether the window can be seen now and each time that changes
 * (WebKitGTK says 'hidden' when the window is minimised or on another workspace): while it
 * cannot, the Go side encodes no video for it and the webview paints none.
 */
function reportShown(): void {
  const report = () => api.appWindow.setShown(document.visibilityState !== 'hidden').catch(() => {});
  if (!watchingShown) {
    watchingShown = true;
    document.addEventListener('visibilitychange', report);
  }
  report();
}

/** refresh loads every domain's current state (after sign-in). */
export async function refresh(): Promise<void> {
  await Promise.all([loadAgent(), loadOffers(), loadConversations(), loadTeam()]);
}
