// Consult in the communication panel's More commands (…) menu: it opens the consult form under
// the conversation's header (ConsultForm.svelte).
import type { ConversationView } from '../../api/types';
import { registerCommand } from '../../lib/commands';

/** consult.conv is the conversation whose consult form is open ("" for none). */
export const consult = $state({ conv: '' });

registerCommand({
  id: 'consult',
  labelKey: 'consult.command',
  icon: 'M8 10h8M8 14h5M4 5h16v11H9l-5 4z',
  available: (conv: ConversationView) => conv.state === 'active' && !conv.moved && !conv.consulting,
  run: (conv: ConversationView) => {
    consult.conv = conv.id;
  },
});
