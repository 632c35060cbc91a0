import { describe, it, expect, afterEach, beforeEach, vi } from 'vitest';
import { render, cleanup, waitFor, fireEvent } from '@testing-library/svelte';
import { createI18n } from '../../web/i18n';
import { locales, permissionMessage } from './lib/i18n';
import { policy } from './stores/policy.svelte';
import type { PolicyView } from './api/settings';
import SignIn from './components/SignIn.svelte';

// fakeBackend puts bindings where the Wails runtime would (window.go.app.*).
function fakeBackend(view: PolicyView) {
  const g = globalThis as Record<string, unknown>;
  g.runtime = { EventsOn: () => () => {} };
  g.go = {
    app: {
      Settings: { Policy: vi.fn(async () => view) },
      Session: { SignIn: vi.fn(async () => Promise.reject({ code: 'EFORBIDDEN', message: 'locked' })) },
    },
  };
}

describe('sign-in under a policy', () => {
  beforeEach(() => {
    policy.view = { managed: false, locked: [] };
    policy.loaded = false;
  });
  afterEach(() => {
    cleanup();
    delete (globalThis as Record<string, unknown>).go;
  });

  it('shows a locked hub as locked, with the policy hub and the tooltip', async () => {
    fakeBackend({ managed: true, path: '/etc/parley/policy.json', hub_url: 'https://parley.example.com', locked: ['hub_url'] });
    const r = render(SignIn);
    const marker = await r.findByTestId('signin-hub-locked');
    expect(marker.getAttribute('title')).toBe('Set by your organisation');
    const hub = r.getByTestId('signin-hub') as HTMLInputElement;
    await waitFor(() => expect(hub.value).toBe('https://parley.example.com'));
    expect(hub.readOnly).toBe(true);
    expect(r.queryByTestId('policy-error')).toBeNull();
  });

  it('leaves an unlocked hub editable', async () => {
    fakeBackend({ managed: true, hub_url: 'https://parley.example.com', locked: ['region'], region: 'gcc' });
    const r = render(SignIn);
    await waitFor(() => expect(policy.loaded).toBe(true));
    expect(r.queryByTestId('signin-hub-locked')).toBeNull();
    expect((r.getByTestId('signin-hub') as HTMLInputElement).readOnly).toBe(false);
  });

  it('shows a refused policy file with its path and line, and will not sign in', async () => {
    fakeBackend({
      managed: true, path: '/etc/parley/policy.json', locked: [],
      error: { path: '/etc/parley/policy.json', line: 3, column: 3, kind: 'unknown_key', detail: 'policy file /etc/parley/policy.json:3:3: unknown key: "hubURL"' },
    });
    const r = render(SignIn);
    const where = await r.findByTestId('policy-error-where');
    expect(where.textContent).toContain('In /etc/parley/policy.json, line 3, column 3.');
    expect(where.textContent).toContain('a setting Parley does not know');
    expect((r.getByTestId('signin-submit') as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('device permission messages', () => {
  it('tells a Windows agent where to allow the camera, in Spanish too', () => {
    const p = { device: 'camera', reason: 'windows_privacy_desktop', settings_uri: 'ms-settings:privacy-webcam' };
    expect(permissionMessage(p)).toContain('Settings > Privacy & security > Camera');
    expect(permissionMessage(p)).toContain('Let desktop apps access your camera');
    const es = createI18n(locales, ['es']);
    expect(es.t('permissions.windows_privacy', { device: es.t('permissions.microphone'), page: es.t('permissions.pages.microphone') }))
      .toBe('Windows bloquea el micrófono. Abre Configuración > Privacidad y seguridad > Micrófono, activa el acceso y vuelve a intentarlo.');
  });

  it('names the Linux group', () => {
    expect(permissionMessage({ device: 'camera', reason: 'linux_group', path: '/dev/video0', group: 'video' }))
      .toBe('You are not allowed to use the camera (/dev/video0). Ask your IT team to add your account to the “video” group, then sign out of the computer and back in.');
  });
});

describe('the language setting', () => {
  afterEach(() => {
    cleanup();
    delete (globalThis as Record<string, unknown>).go;
  });

  function backend(language: { language: string; locked: boolean }, set = vi.fn(async () => {})) {
    const g = globalThis as Record<string, unknown>;
    g.runtime = { EventsOn: () => () => {} };
    g.go = { app: { Settings: { About: vi.fn(async () => ({ name: 'Parley', version: 'v1', hub_url: '', policy_path: '', managed: false, license: '' })), Language: vi.fn(async () => language), SetLanguage: set } } };
    return set;
  }

  it('shows the agent\'s choice and saves a new one', async () => {
    const set = backend({ language: 'es', locked: false });
    const { default: About } = await import('./components/About.svelte');
    const r = render(About, { onclose: () => {} });
    const sel = (await r.findByTestId('about-language')) as HTMLSelectElement;
    await waitFor(() => expect(sel.value).toBe('es'));
    expect(sel.disabled).toBe(false);
    expect([...sel.options].map((o) => o.textContent)).toEqual(['System (English)', 'English', 'Español']);
    await fireEvent.change(sel, { target: { value: 'en' } });
    await waitFor(() => expect(set).toHaveBeenCalledWith('en'));
    expect((await r.findByTestId('about-language-saved')).textContent).toBe('Saved: Parley uses it from its next start.');
  });

  it('shows a language the policy locks as locked', async () => {
    backend({ language: '', locked: true });
    const { default: About } = await import('./components/About.svelte');
    const r = render(About, { onclose: () => {} });
    await r.findByTestId('about-language-locked');
    expect((r.getByTestId('about-language') as HTMLSelectElement).disabled).toBe(true);
  });
});
