// The chat's hook into visual engagement: a few lines loaded with the chat, which load the visual
// module (index.ts) with a dynamic import() on the first invitation, so a plain chat never
// downloads it. Frames that arrive while it loads are kept and handed over in order.
import * as wire from '../../../web/wire.gen';
import type { Component } from 'svelte';
import type { Translator } from '../../../web/i18n';
import type { VisualSession, Proto } from './visual.svelte';

/** Host is what the hook needs from the chat session. */
export interface Host {
  proto(): Proto;
  t: Translator;
  /** embedded is true inside the widget's iframe. */
  embedded: boolean;
  /** loaded receives the session and its view once the module is in. */
  loaded(v: VisualSession, view: Component<{ visual: VisualSession; t: Translator }>): void;
}

/** isVisual says whether a frame belongs to visual engagement. */
export function isVisual(t: wire.Type): boolean {
  return t.startsWith('visual.');
}

/** visualHook returns the handler of visual.* frames for one chat. */
export function visualHook(host: Host): (env: wire.Envelope) => void {
  let session: VisualSession | null = null;
  let loading: Promise<void> | null = null;
  const queue: wire.Envelope[] = [];
  return (env) => {
    if (session) return session.handle(env);
    // Only an invitation (or an engagement still open after a reload) is worth loading for.
    if (!loading && !(env.type === wire.TypeVisualState && (env.data as wire.Visual).state !== 'ended')) return;
    queue.push(env);
    if (loading) return;
    loading = import('./index').then(
      (m) => {
        session = m.createVisual(host.proto(), host.t, host.embedded);
        for (const e of queue.splice(0)) session.handle(e);
        host.loaded(session, m.VisualPrompt);
      },
      () => {
        loading = null; // offline: the next invitation tries again
        queue.length = 0;
      },
    );
  };
}
