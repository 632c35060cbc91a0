// Calls in the communication panel's More commands (…) menu: Voice call and Video call, as the
// conversation's call setting allows (the hub enforces it too). Imported by the floating call
// control, so the items exist wherever the call UI does.
import type { CallsAllowed, ConversationView } from '../../api/types';
import { registerCommand } from '../../lib/commands';
import { inCall, startCall } from '../../stores/call.svelte';
import { callIcons } from './icons';

/** callsAllowed is the conversation's call setting: voice_video, voice or none (voice_video when the hub did not say). */
export function callsAllowed(conv: ConversationView): CallsAllowed {
  return conv.calls || 'voice_video';
}

registerCommand({
  id: 'voice-call',
  labelKey: 'agentCall.voice',
  icon: callIcons.phone,
  available: (conv) => conv.state === 'active' && callsAllowed(conv) !== 'none' && !inCall(),
  run: (conv) => startCall(conv.id, 'voice'),
});

registerCommand({
  id: 'video-call',
  labelKey: 'agentCall.video',
  icon: callIcons.video,
  available: (conv) => conv.state === 'active' && callsAllowed(conv) === 'voice_video' && !inCall(),
  run: (conv) => startCall(conv.id, 'video'),
});
