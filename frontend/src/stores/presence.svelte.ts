// The agent's presence, load and capacity, from the "agent" events.
import * as api from '../api/backend';
import type { AgentState, Presence } from '../api/types';

export const agent = $state({ state: { presence: 'offline', load: 0, capacity: 0 } as AgentState });

export function setAgent(s: AgentState): void {
  agent.state = s;
}

export async function loadAgent(): Promise<void> {
  agent.state = await api.presence.current();
}

export async function setPresence(p: Presence): Promise<void> {
  await api.presence.set(p);
}
