// A ticking clock for countdowns and durations, shared so one timer drives them all.
export const clock = $state({ now: Date.now() });

let timer: ReturnType<typeof setInterval> | undefined;

/** startClock ticks clock.now every quarter second (idempotent). */
export function startClock(): void {
  timer ??= setInterval(() => (clock.now = Date.now()), 250);
}
