// Short messages for the agent (a toast): offers withdrawn, the connection lost, a failed action.
export interface Toast {
  id: number;
  text: string;
  tone: 'info' | 'error';
}

export const notices = $state({ items: [] as Toast[] });

let next = 1;

/** notify shows text for a few seconds; with ms 0 it stays until the agent closes it. */
export function notify(text: string, tone: Toast['tone'] = 'info', ms = 5000): void {
  const id = next++;
  notices.items.push({ id, text, tone });
  if (ms > 0) setTimeout(() => dismiss(id), ms);
}

/** dismiss hides a toast. */
export function dismiss(id: number): void {
  notices.items = notices.items.filter((n) => n.id !== id);
}
