// The agent's visual engagement, from the "visual" event of app/visual.go: the organisation's
// providers, the agent's provider sign-ins and each conversation's engagement, plus which
// conversation has its provider tab open. Actions call the Visual service.
import * as api from '../../api/backend';
import type { UIError } from '../../api/backend';
import type * as wire from '../../../../web/wire.gen';
import type { VisualView as View } from '../../api/types';

/** Kind is what the agent asks to see. */
export type Kind = wire.VisualKind;

/** Account is a provider sign-in (app.ProviderAccount); View is the visual engagement state (app.VisualView). */
export type { ProviderAccount as Account, VisualView as View } from '../../api/types';

const empty: View = {
  settings: { cobrowse: { provider: '' }, screenshare: { provider: '' } } as wire.VisualSettings,
  known: false,
  accounts: {},
  engagements: [],
};

class VisualStore {
  view = $state<View>(empty);
  /** tabFor is the conversation whose provider tab is open ('' when closed). */
  tabFor = $state('');
  /** kind is the kind picked in the tab. */
  kind = $state<Kind>('screenshare');
  /** error is the last failed action's code, shown in the tab. */
  error = $state<UIError['code'] | ''>('');
  busy = $state(false);
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    void api.on('visual', (v) => (this.view = v)).catch(() => {});
    void api.visual
      .view()
      .then((v) => (this.view = v))
      .catch(() => {});
  }

  engagement(conv: string): wire.Visual | undefined {
    return this.view.engagements.find((e) => e.conv === conv);
  }

  provider(kind: Kind): wire.ProviderConfig {
    return kind === 'cobrowse' ? this.view.settings.cobrowse : this.view.settings.screenshare;
  }

  toggle(conv: string): void {
    this.tabFor = this.tabFor === conv ? '' : conv;
    this.error = '';
    if (this.tabFor && !this.provider(this.kind)?.provider) {
      const other: Kind = this.kind === 'cobrowse' ? 'screenshare' : 'cobrowse';
      if (this.provider(other)?.provider) this.kind = other;
    }
  }

  private async run<T>(f: () => Promise<T>): Promise<T | undefined> {
    this.busy = true;
    this.error = '';
    try {
      return await f();
    } catch (e) {
      this.error = (e as UIError).code;
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  signIn(username: string, password: string, sessionOnly: boolean) {
    return this.run(() => api.visual.signIn(this.kind, username, password, sessionOnly));
  }
  signOut() {
    return this.run(() => api.visual.signOut(this.kind));
  }
  create(conv: string) {
    return this.run(() => api.visual.start(conv, this.kind));
  }
  createWithPIN(conv: string, pin: string, session: string) {
    return this.run(() => api.visual.startWithPIN(conv, this.kind, pin, session));
  }
  sharePIN(conv: string, text: string) {
    return this.run(() => api.visual.sharePIN(conv, text));
  }
  stop(conv: string) {
    return this.run(() => api.visual.stop(conv));
  }
}

export const visual = new VisualStore();
