// The supervisor's view of the organisation, from the "supervisor" events.
import * as api from '../api/backend';
import type { UIError } from '../api/backend';
import type { Report, SupervisorView } from '../api/types';

export const team = $state({
  view: { agents: [], conversations: [], updated_at: 0, stats: { since_ms: 0, with_call: 0, without_call: 0, aht_with_call_ms: 0, aht_without_call_ms: 0, calls: {}, avg_call_ms: 0, resolved: 0, abandoned: 0, auto_closed: 0 }, queues: [] } as SupervisorView,
});

export function setTeam(v: SupervisorView): void {
  team.view = v;
}

export async function loadTeam(): Promise<void> {
  team.view = await api.supervisor.snapshot();
}

export const assign = (conv: string, agent: string) => api.supervisor.assign(conv, agent);
export const closeConversation = (conv: string) => api.supervisor.close(conv);

/** Exported is where a report went: a file in the downloads folder, or the clipboard. */
export type Exported = { path: string } | { copied: true };

/**
 * exportReport saves a CSV report to the downloads folder. When the file cannot be written
 * (EINTERNAL: no downloads folder, disk full) the report goes to the clipboard instead; a refusal
 * by the hub (EFORBIDDEN, EUNAVAILABLE...) is thrown as it is.
 */
export async function exportReport(report: Report): Promise<Exported> {
  try {
    return { path: await api.supervisor.saveCSV(report) };
  } catch (e) {
    if ((e as UIError).code !== 'EINTERNAL') throw e;
  }
  await api.copyText(await api.supervisor.fetchCSV(report));
  return { copied: true };
}
