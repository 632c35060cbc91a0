// The Settings service (app/settings.go): this machine's policy, the About box and the device
// permission checks.
import { call } from './backend';

export type { AboutView, LanguageView, PermissionProblem, PolicyErrorView, PolicyView } from './app.gen';

export const settings = {
  policy: () => call('Settings', 'Policy'),
  language: () => call('Settings', 'Language'),
  setLanguage: (lang: string) => call('Settings', 'SetLanguage', lang),
  about: () => call('Settings', 'About'),
  devicePermissions: () => call('Settings', 'DevicePermissions'),
};
