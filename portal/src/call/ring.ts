// The ring of an incoming call, made with WebAudio (no sound file to download): two soft beeps
// every three seconds until stopped. Browsers that block audio before a user gesture just stay quiet.
import type { Ringer } from './call.svelte';

const PERIOD_MS = 3000;

/** webAudioRinger plays the ring through an AudioContext created on start and closed on stop. */
export function webAudioRinger(): Ringer {
  let ctx: AudioContext | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;

  function beep(at: number, freq: number): void {
    if (!ctx) return;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0, at);
    gain.gain.linearRampToValueAtTime(0.12, at + 0.03);
    gain.gain.setValueAtTime(0.12, at + 0.32);
    gain.gain.linearRampToValueAtTime(0, at + 0.38);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + 0.4);
  }

  function burst(): void {
    if (!ctx) return;
    const t = ctx.currentTime + 0.05;
    beep(t, 660);
    beep(t + 0.5, 880);
  }

  return {
    start() {
      if (ctx) return;
      const AC = globalThis.AudioContext as typeof AudioContext | undefined;
      if (!AC) return;
      try {
        ctx = new AC();
      } catch {
        return;
      }
      ctx.resume().catch(() => {});
      burst();
      timer = setInterval(burst, PERIOD_MS);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
      const c = ctx;
      ctx = null;
      c?.close().catch(() => {});
    },
  };
}
