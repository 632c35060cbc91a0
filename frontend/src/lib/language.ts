// The agent's chosen language (Settings.Language), set by main.ts before the UI's modules load:
// lib/i18n.ts builds its translator from it, else from the system's preferences.
let chosen: string[] | undefined;

/** chooseLanguage makes lang ("en", "es") the UI's language; "" keeps the system's. */
export function chooseLanguage(lang: string): void {
  chosen = lang ? [lang] : undefined;
}

/** chosenLanguage is the agent's choice as a preference list, or undefined for the system's. */
export function chosenLanguage(): readonly string[] | undefined {
  return chosen;
}

