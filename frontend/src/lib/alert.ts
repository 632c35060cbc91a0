// The offer alert: a short two-tone chime made with WebAudio (no sound file to ship) and a desktop
// notification where the webview has them. Both fail quietly: the offer card is the real signal.
import { i18n } from './i18n';

let ctx: AudioContext | undefined;
let quiet: ReturnType<typeof setTimeout> | undefined;

/** chime plays two short tones. */
export function chime(): void {
  try {
    const AC = globalThis.AudioContext ?? (globalThis as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!AC) return;
    ctx ??= new AC();
    // A context made before any click starts suspended in some webviews.
    if (ctx.state === 'suspended') void ctx.resume().catch(() => {});
    const t0 = ctx.currentTime;
    for (const [i, freq] of [880, 1320].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      const start = t0 + i * 0.18;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.17);
    }
    // A running context costs the whole time: WebKitGTK keeps its GStreamer pipeline pushing
    // silence (about 3 % of a core measured in a call, make bench-app with BENCH_PROFILE).
    // Suspended once the chime is over, resumed by the next one above.
    clearTimeout(quiet);
    const c = ctx;
    quiet = setTimeout(() => void c.suspend().catch(() => {}), 600);
  } catch {
    // No audio output: the card still shows.
  }
}

/** notifyDesktop raises a desktop notification if the webview allows it. */
export function notifyDesktop(title: string, body: string): void {
  try {
    const N = globalThis.Notification;
    if (!N) return;
    if (N.permission === 'granted') new N(title, { body });
    else if (N.permission === 'default') void N.requestPermission().then((p) => p === 'granted' && new N(title, { body }));
  } catch {
    // Notifications unsupported here.
  }
}

export function alertNewOffer(name: string): void {
  chime();
  notifyDesktop(i18n.t('offer.title'), i18n.t('offer.notification', { name: name || i18n.t('panel.customer') }));
}
