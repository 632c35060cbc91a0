// The agent's conversations, the open one and the transcripts, from the "conversations" and
// "message" events.
import * as api from '../api/backend';
import type { ConversationView, MessageView } from '../api/types';

export const convs = $state({
  list: [] as ConversationView[],
  activeId: '' as string,
  messages: {} as Record<string, MessageView[]>,
});

export function setConversations(list: ConversationView[]): void {
  convs.list = list;
}

/** addMessage inserts a message in sequence order, once. */
export function addMessage(m: MessageView): void {
  const list = convs.messages[m.conv] ?? [];
  if (list.some((x) => x.seq === m.seq)) return;
  const i = list.findIndex((x) => x.seq > m.seq);
  const next = [...list];
  if (i < 0) next.push(m);
  else next.splice(i, 0, m);
  convs.messages[m.conv] = next;
}

/** loadConversations loads the list and shows the conversation the services have open (after a reload). */
export async function loadConversations(): Promise<void> {
  convs.list = await api.conversations.list();
  const id = await api.conversations.active();
  if (id) await followActive(id);
}

/** openConversation makes id the active conversation and loads its transcript. */
export async function openConversation(id: string): Promise<void> {
  convs.activeId = id;
  await api.conversations.open(id);
  const msgs = await api.conversations.messages(id);
  for (const m of msgs) addMessage(m);
}

/** followActive shows the conversation the services opened (from this view or another). */
export async function followActive(id: string): Promise<void> {
  if (convs.activeId === id) return;
  convs.activeId = id;
  const msgs = await api.conversations.messages(id);
  for (const m of msgs) addMessage(m);
}

export function active(): ConversationView | undefined {
  return convs.list.find((c) => c.id === convs.activeId);
}

export function resetConversations(): void {
  convs.list = [];
  convs.activeId = '';
  convs.messages = {};
}

export const sendMessage = (id: string, text: string) => api.conversations.send(id, text);
/** sendNote writes an internal note (the customer never receives it). */
export const sendNote = (id: string, text: string) => api.conversations.sendNote(id, text);
export const setTyping = (id: string, typing: boolean) => api.conversations.typing(id, typing);
export const endConversation = (id: string) => api.conversations.end(id);
export const keepOpen = (id: string) => api.conversations.keepOpen(id);
export const wrapUp = (id: string, code: string, note: string) => api.conversations.wrapUp(id, code, note);
