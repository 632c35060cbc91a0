// The values the console's pickers offer, in their order on screen. Each value's words are under
// the key given beside it in Options.svelte (roles.agent, org.callsOptions.voice …).
import type * as wire from '../../../web/wire.gen';

/** roles are the roles a member can have (people.role), least to most. */
export const roles = ['agent', 'supervisor', 'admin'] as const satisfies readonly wire.Role[];
/** callModes are what an organisation or a queue allows of calls (org.callsOptions). */
export const callModes = ['voice_video', 'voice', 'none'] as const satisfies readonly wire.CallsAllowed[];
/** languages are the languages the portal speaks (org.languages). */
export const languages = ['en', 'es'] as const;
/** recordingModes are when calls are recorded (recording.modes). */
export const recordingModes = ['off', 'ask', 'always'] as const satisfies readonly wire.RecordingMode[];
