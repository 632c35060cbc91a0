// The sign-in state, from the Session service and its "session" events.
import * as api from '../api/backend';
import type { Prefill, SessionView } from '../api/types';

export const session = $state({
  view: { signed_in: false, hub_url: '', connection: 'offline', max_text_bytes: 4000 } as SessionView,
  prefill: { hub_url: '', org: '', username: '' } as Prefill,
  loaded: false,
});

export function setSession(v: SessionView): void {
  session.view = v;
}

export async function loadSession(): Promise<void> {
  const [view, prefill] = await Promise.all([api.session.current(), api.session.prefill()]);
  session.view = view;
  session.prefill = prefill;
  session.loaded = true;
}

/** signIn throws a UIError the form translates. */
export async function signIn(hub: string, org: string, user: string, password: string): Promise<void> {
  session.view = await api.session.signIn(hub, org, user, password);
  session.prefill = { hub_url: session.view.hub_url, org, username: user };
}

/** signInSSO signs in through the organisation's identity provider in the system browser. */
export async function signInSSO(hub: string, org: string): Promise<void> {
  session.view = await api.session.signInSSO(hub, org);
  session.prefill = { hub_url: session.view.hub_url, org, username: session.view.user?.username ?? '' };
}

export async function signOut(): Promise<void> {
  await api.session.signOut();
  // The "session" event says so too; this view does not wait for it.
  session.view = await api.session.current();
}

/** isSupervisor is true for supervisors and admins. */
export function isSupervisor(v: SessionView): boolean {
  return v.user?.role === 'supervisor' || v.user?.role === 'admin';
}
