// Transfer in the communication panel's More commands (…) menu: it opens the transfer form under
// the conversation's header (TransferForm.svelte).
import type { ConversationView } from '../../api/types';
import { registerCommand } from '../../lib/commands';

/** transfer.conv is the conversation whose transfer form is open ("" for none). */
export const transfer = $state({ conv: '' });

registerCommand({
  id: 'transfer',
  labelKey: 'transfer.command',
  icon: 'M7 17 17 7M9 7h8v8M4 20h16',
  available: (conv: ConversationView) => conv.state === 'active' && !conv.moved && !conv.consulting,
  run: (conv: ConversationView) => {
    transfer.conv = conv.id;
  },
});
