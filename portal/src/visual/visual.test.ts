import { describe, expect, it, vi } from 'vitest';
import type * as wire from '../../../web/wire.gen';
import { portalI18n } from '../i18n';
import { VisualSession, joinURL, type Deps, type Runner } from './visual.svelte';

const invited: wire.Visual = {
  id: 'v1',
  conv: 'c1',
  kind: 'screenshare',
  provider: 'builtin-screenshare',
  provider_name: 'Parley',
  state: 'invited',
  pin_required: true,
  control: false,
  created_at: 1,
};

function setup(over: Partial<Deps> = {}) {
  const sent: { type: string; data: unknown }[] = [];
  const runner: Runner & { stopped: number } = { stopped: 0, handle: vi.fn(), stop: () => void runner.stopped++ };
  const deps: Deps = {
    embedded: false,
    request: vi.fn(async (type: string, data: unknown) => {
      sent.push({ type, data });
      return {};
    }),
    notify: () => true,
    run: vi.fn(async () => runner),
    openJoin: vi.fn(),
    ...over,
  };
  const v = new VisualSession(deps, portalI18n(['en']));
  return { v, deps, sent, runner };
}

const state = (x: Partial<wire.Visual>): wire.Envelope => ({ type: 'visual.state', data: { ...invited, ...x } });

describe('visual engagement, customer side', () => {
  it('keeps a refused PIN as its code and lets the customer try again', async () => {
    const { v, deps } = setup({ request: vi.fn(async () => Promise.reject({ code: 'EUNAUTHORIZED' })) });
    v.handle(state({}));
    v.pin = '000000';
    await v.accept();
    expect(v.error).toBe('EUNAUTHORIZED');
    expect(deps.run).not.toHaveBeenCalled();
    expect(v.open).toBe(true);
  });

  it('starts the built-in engagement once, on accept, and stops it when it ends', async () => {
    const { v, deps, sent, runner } = setup();
    v.handle(state({}));
    v.pin = ' 123456 ';
    const accepting = v.accept();
    v.handle(state({ state: 'active' })); // the hub's state may arrive before the Ack
    await accepting;
    expect(sent[0]).toEqual({ type: 'visual.accept', data: { visual: 'v1', pin: '123456' } });
    expect(deps.run).toHaveBeenCalledTimes(1);
    v.handle({ type: 'visual.pointer', data: { visual: 'v1', x: 0.5, y: 0.5, visible: true } });
    expect(runner.handle).toHaveBeenCalled();
    v.handle(state({ state: 'ended', reason: 'stopped', ended_by: 'agent' }));
    expect(runner.stopped).toBe(1);
    expect(v.open).toBe(false);
  });

  it('opens an external provider’s join page with the typed PIN, escaped', async () => {
    const { v, deps } = setup();
    v.handle(state({ provider: 'external', provider_name: 'AcmeView', join_url: 'https://acme.example/join/S-1?pin={pin}' }));
    v.pin = '12 34&x';
    await v.accept();
    expect(deps.openJoin).toHaveBeenCalledWith('https://acme.example/join/S-1?pin=12%2034%26x');
    expect(deps.run).not.toHaveBeenCalled();
  });

  it('stops at the customer’s word, and declines an invitation', async () => {
    const { v, sent } = setup();
    v.handle(state({}));
    await v.decline();
    expect(sent.at(-1)).toEqual({ type: 'visual.decline', data: { visual: 'v1' } });
    v.handle(state({ id: 'v2', state: 'active' }));
    await v.stop();
    expect(sent.at(-1)).toEqual({ type: 'visual.stop', data: { visual: 'v2' } });
  });

  it('fills only {pin} in join URLs', () => {
    expect(joinURL('https://x.example/{pin}/{pin}', '1/2')).toBe('https://x.example/1%2F2/1%2F2');
  });
});
