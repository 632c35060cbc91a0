// The supervisor's leg on an agent's call (Supervisor.Monitor): listen, whisper, join, from the
// "monitor" events.
import * as api from '../api/backend';
import type { MonitorView } from '../api/types';
import type { MonitorMode, UserID } from '../api/types';

export const monitor = $state({
  /** view is the current leg; null when none (or once it ended). */
  view: null as MonitorView | null,
  /** ended is the reason the last leg ended, until another starts ('' for none). */
  ended: '',
});

export function setMonitor(v: MonitorView): void {
  if (v.ended) {
    if (monitor.view && monitor.view.id === v.id) monitor.view = null;
    monitor.ended = v.reason ?? '';
    return;
  }
  monitor.view = v;
  monitor.ended = '';
}

/** startMonitor listens, whispers or joins agent's call; asked again it changes the mode. */
export async function startMonitor(agent: UserID, mode: MonitorMode): Promise<void> {
  const v = await api.supervisor.monitor(agent, mode);
  if (!v.ended) {
    monitor.view = { ...v, customer_level: monitor.view?.customer_level ?? 0, agent_level: monitor.view?.agent_level ?? 0 };
    monitor.ended = '';
  }
}

/** stopMonitor ends the leg; the call goes on. */
export async function stopMonitor(): Promise<void> {
  monitor.view = null;
  await api.supervisor.stopMonitor();
}
