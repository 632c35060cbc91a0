// The customer's side of visual engagement: the invitation (with the PIN the agent shared in the
// chat), accept or decline, a persistent indicator while shared, and stop at any time. Accepted,
// the built-in co-browse starts the page recorder (../../cobrowse/bridge.ts), the built-in screen
// share asks the browser what to share (screenshare.ts), and an external provider's join page
// opens in a new tab with the PIN filled in.
import * as wire from '../../../web/wire.gen';
import type { Translator } from '../../../web/i18n';

/** Proto is the chat's hub connection. */
export interface Proto {
  request(type: wire.Type, data: unknown): Promise<unknown>;
  notify(type: wire.Type, data: unknown): boolean;
}

/** Runner is a running built-in engagement (co-browse bridge or screen share). */
export interface Runner {
  handle(env: wire.Envelope): void | Promise<void>;
  stop(): void | Promise<void>;
  setControl?(granted: boolean): Promise<void>;
}

/** Deps are what the session starts engagements with, injected for tests. */
export interface Deps extends Proto {
  embedded: boolean;
  /** run starts a built-in engagement once accepted. */
  run(v: wire.Visual): Promise<Runner>;
  /** openJoin opens an external provider's join page. */
  openJoin(url: string): void;
}

/** joinURL fills an external provider's join page template with what the customer typed. */
export function joinURL(template: string, pin: string): string {
  return template.split('{pin}').join(encodeURIComponent(pin));
}

export class VisualSession {
  /** visual is the latest engagement (invited, active, or the last one ended). */
  visual = $state.raw<wire.Visual | null>(null);
  pin = $state('');
  /** error is the code of the last refused action (EUNAUTHORIZED: wrong PIN, ...). */
  error = $state('');
  busy = $state(false);
  /** control is true while the customer lets the agent drive the page. */
  control = $state(false);
  /** problem is a code when the built-in engagement could not start (screen picker refused...). */
  problem = $state('');
  private runner: Runner | null = null;
  private starting = false;

  constructor(
    private readonly deps: Deps,
    readonly t: Translator,
  ) {}

  /** open is true while there is something to show (invitation or active engagement). */
  get open(): boolean {
    return !!this.visual && this.visual.state !== 'ended';
  }

  handle(env: wire.Envelope): void {
    if (env.type === wire.TypeVisualState) {
      const v = env.data as wire.Visual;
      if (this.visual && v.id !== this.visual.id && this.visual.state !== 'ended' && v.state === 'ended') return;
      const fresh = !this.visual || this.visual.id !== v.id;
      this.visual = v;
      this.control = v.control;
      if (fresh) {
        this.pin = '';
        this.error = '';
        this.problem = '';
      }
      if (v.state === 'ended') this.halt();
      else if (v.state === 'active') void this.begin(v); // also after a reload mid-engagement
    }
    if (this.runner) void this.runner.handle(env);
  }

  private async begin(v: wire.Visual): Promise<void> {
    if (v.provider === 'external' || this.runner || this.starting) return;
    this.starting = true;
    try {
      const r = await this.deps.run(v);
      if (this.visual?.id === v.id && this.visual.state !== 'ended') this.runner = r;
      else void r.stop();
    } catch (e) {
      this.problem = e instanceof Error && /^E[A-Z]+$/.test(e.message) ? e.message : 'EUNAVAILABLE';
      await this.stop();
    } finally {
      this.starting = false;
    }
  }

  private halt(): void {
    const r = this.runner;
    this.runner = null;
    this.control = false;
    if (r) void r.stop();
  }

  async accept(): Promise<void> {
    const v = this.visual;
    if (!v || v.state !== 'invited' || this.busy) return;
    this.busy = true;
    this.error = '';
    const pin = this.pin.trim();
    try {
      await this.deps.request(wire.TypeVisualAccept, { visual: v.id, pin } satisfies wire.VisualAccept);
      if (v.provider === 'external' && v.join_url) this.deps.openJoin(joinURL(v.join_url, pin));
      // Start at once, while the click still counts as the customer's gesture (getDisplayMedia
      // needs one); the active state that follows finds it started.
      await this.begin({ ...v, state: 'active' });
    } catch (e) {
      this.error = (e as { code?: string }).code ?? 'EINTERNAL';
    } finally {
      this.busy = false;
    }
  }

  async decline(): Promise<void> {
    const v = this.visual;
    if (!v || v.state !== 'invited') return;
    await this.deps.request(wire.TypeVisualDecline, { visual: v.id } satisfies wire.VisualRef).catch(() => {});
  }

  async stop(): Promise<void> {
    const v = this.visual;
    this.halt();
    if (!v || v.state === 'ended') return;
    await this.deps.request(wire.TypeVisualStop, { visual: v.id } satisfies wire.VisualRef).catch(() => {});
  }

  async setControl(granted: boolean): Promise<void> {
    const v = this.visual;
    if (!v || v.state !== 'active') return;
    try {
      if (this.runner?.setControl) await this.runner.setControl(granted);
      else await this.deps.request(wire.TypeVisualControl, { visual: v.id, granted } satisfies wire.VisualControl);
      this.control = granted;
    } catch (e) {
      this.error = (e as { code?: string }).code ?? 'EINTERNAL';
    }
  }
}
