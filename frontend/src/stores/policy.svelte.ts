// This machine's policy (app/policy via the Settings service): what is locked, and the error
// when IT's policy file was refused.
import { settings, type PolicyView } from '../api/settings';

export const policy = $state({
  view: { managed: false, locked: [] } as PolicyView,
  loaded: false,
});

export async function loadPolicy(): Promise<void> {
  try {
    policy.view = await settings.policy();
  } catch {
    // An app without the Settings service (an older build behind a dev server) is unmanaged.
  } finally {
    policy.loaded = true;
  }
}

/** isLocked says whether the policy keeps the agent from changing a setting (hub_url, camera, ...). */
export function isLocked(setting: string, view: PolicyView = policy.view): boolean {
  return view.locked.includes(setting);
}
