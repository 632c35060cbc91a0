// The Settings service (app/settings.go): this machine's policy, the About box and the device
// permission checks. A module of its own beside backend.ts, through the same bindings.
import { ready, toUIError } from './backend';

/** PolicyErrorView is a policy file the app refused (app.PolicyErrorView). */
export interface PolicyErrorView {
  path: string;
  line: number;
  column: number;
  kind: 'syntax' | 'unknown_key' | 'duplicate_key' | 'invalid_value' | 'encoding' | 'unreadable';
  /** detail is the policy package's sentence for IT, as parley-policy check prints it. */
  detail: string;
}

/** PolicyView is the machine's policy as the UI shows it (app.PolicyView). */
export interface PolicyView {
  managed: boolean;
  path?: string;
  hub_url?: string;
  org?: string;
  region?: string;
  provider?: string;
  locked: string[];
  error?: PolicyErrorView;
}

/** AboutView is the About box's contents (app.AboutView). */
export interface AboutView {
  name: string;
  version: string;
  hub_url: string;
  policy_path: string;
  managed: boolean;
  license: string;
}

/** PermissionProblem is what keeps a camera or microphone from working here (app.PermissionProblem). */
export interface PermissionProblem {
  device: 'camera' | 'microphone';
  code: string;
  reason: 'windows_privacy' | 'windows_privacy_desktop' | 'windows_privacy_device' | 'linux_no_device' | 'linux_group';
  path?: string;
  group?: string;
  settings_uri?: string;
}

type Fn = (...args: unknown[]) => Promise<unknown>;

async function call<T>(method: string, ...args: unknown[]): Promise<T> {
  await ready();
  const g = globalThis as unknown as { go?: { app?: Record<string, Record<string, Fn>> } };
  const fn = g.go?.app?.Settings?.[method];
  if (!fn) throw { code: 'EINTERNAL', message: `no binding Settings.${method}` };
  try {
    return (await fn(...args)) as T;
  } catch (e) {
    throw toUIError(e);
  }
}

/** LanguageView is the agent's language setting (app.LanguageView): "" follows the system's. */
export interface LanguageView {
  language: '' | 'en' | 'es';
  locked: boolean;
}

export const settings = {
  policy: () => call<PolicyView>('Policy'),
  language: () => call<LanguageView>('Language'),
  setLanguage: (lang: string) => call<void>('SetLanguage', lang),
  about: () => call<AboutView>('About'),
  devicePermissions: () => call<PermissionProblem[] | null>('DevicePermissions'),
};
