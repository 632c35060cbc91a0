// The quick replies the agent may use, loaded from the hub when the picker first opens and again
// when it opens after a minute (an admin may have added some), and the agent's own kept here.
import type { QuickReply } from '../../../../web/wire.gen';
import { conversations as api, type UIError } from '../../api/backend';

/** How long a loaded list is used before the picker asks the hub again. */
const freshMs = 60_000;

export const replies = $state({
  list: [] as QuickReply[],
  /** loadedAt is when list came from the hub (0: never). */
  loadedAt: 0,
  /** problem is the code of the last failed load ('' when fine). */
  problem: '' as UIError['code'] | '',
});

let loading: Promise<void> | null = null;

/** loadReplies fetches the list unless it is fresh (or force). */
export function loadReplies(force = false): Promise<void> {
  if (!force && replies.loadedAt && Date.now() - replies.loadedAt < freshMs) return Promise.resolve();
  loading ??= api
    .quickReplies()
    .then((l) => {
      replies.list = l;
      replies.loadedAt = Date.now();
      replies.problem = '';
    })
    .catch((err) => {
      replies.problem = (err as UIError).code;
    })
    .finally(() => {
      loading = null;
    });
  return loading;
}

/** saveMine stores one of the agent's own replies (id '' for new); a refusal rejects with its UIError. */
export async function saveMine(id: string, shortcut: string, text: string): Promise<QuickReply> {
  const saved = await api.saveQuickReply(id, shortcut, text);
  replies.list = [...replies.list.filter((r) => r.id !== saved.id), saved];
  return saved;
}

/** deleteMine removes one of the agent's own replies. */
export async function deleteMine(id: string): Promise<void> {
  await api.deleteQuickReply(id);
  replies.list = replies.list.filter((r) => r.id !== id);
}
