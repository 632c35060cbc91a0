// The communication panel's "More commands (…)" menu. Each feature adds its commands here (the
// calls issue adds Voice call and Video call); the menu shows them in order, enabled or not by
// `available`. With none, the menu says so in one translated line.
import type { ConversationView } from '../api/types';

export interface Command {
  /** id is stable and is the item's data-testid (a contract: "voice-call", "video-call"). */
  id: string;
  /** labelKey is an i18n key. */
  labelKey: string;
  /** icon is an SVG path ("d") drawn in a 24x24 box. */
  icon: string;
  available(conv: ConversationView): boolean;
  run(conv: ConversationView): void | Promise<void>;
}

export const moreCommands: Command[] = [];

/** registerCommand adds a command to the menu. */
export function registerCommand(c: Command): void {
  if (!moreCommands.some((x) => x.id === c.id)) moreCommands.push(c);
}
