// The supervisor's view of the organisation, from the "supervisor" events.
import * as api from '../api/backend';
import type { SupervisorView } from '../api/types';

export const team = $state({ view: { agents: [], conversations: [], updated_at: 0 } as SupervisorView });

export function setTeam(v: SupervisorView): void {
  team.view = v;
}

export async function loadTeam(): Promise<void> {
  team.view = await api.supervisor.snapshot();
}

export const assign = (conv: string, agent: string) => api.supervisor.assign(conv, agent);
