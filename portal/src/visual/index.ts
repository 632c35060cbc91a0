// The visual engagement module, loaded with a dynamic import() on the first invitation: the
// session, its view, and the built-in co-browse and screen share it starts.
import type { Translator } from '../../../web/i18n';
import type * as wire from '../../../web/wire.gen';
import { VisualSession, type Proto, type Runner } from './visual.svelte';
import VisualPrompt from './VisualPrompt.svelte';

export { VisualSession, VisualPrompt };

/** createVisual makes the session on the real browser. */
export function createVisual(proto: Proto, t: Translator, embedded: boolean): VisualSession {
  return new VisualSession(
    {
      ...proto,
      embedded,
      openJoin: (url) => {
        window.open(url, '_blank', 'noopener,noreferrer');
      },
      run: async (v: wire.Visual): Promise<Runner> => {
        if (v.provider === 'builtin-screenshare') {
          const { createScreenShare } = await import('./screenshare');
          const s = createScreenShare(proto, v);
          await s.start();
          if (s.state === 'denied' || s.state === 'failed') throw new Error('EFORBIDDEN');
          return { handle: (env) => s.handle(env), stop: () => s.stop(false) };
        }
        const { startCobrowse } = await import('../../cobrowse/bridge');
        const b = await startCobrowse(proto, v.id, { embedded });
        return { handle: (env) => b.handle(env), stop: () => b.stop(), setControl: (g) => b.setControl(g) };
      },
    },
    t,
  );
}
