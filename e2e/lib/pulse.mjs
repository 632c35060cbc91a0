// A private PulseAudio with a null sink for tests that listen to what an app plays (CI has no
// sound card): the app gets env (its XDG_RUNTIME_DIR), plays into "Null Output", and record()
// reads the sink's monitor back.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** startPulse starts the daemon in a fresh runtime folder and resolves once it answers. */
export async function startPulse() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-pulse-'));
  const env = { ...process.env, XDG_RUNTIME_DIR: dir, PULSE_RUNTIME_PATH: join(dir, 'pulse') };
  await run('pulseaudio', ['--daemonize=yes', '--exit-idle-time=-1', '-n', '--load=module-native-protocol-unix', '--load=module-null-sink sink_name=parley_null'], { env, timeout: 20_000 });
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      await run('pactl', ['info'], { env, timeout: 5_000 });
      break;
    } catch (e) {
      if (Date.now() > end) throw new Error(`pulseaudio did not come up: ${e.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    /** env is what a process needs to play into this daemon. */
    env: { XDG_RUNTIME_DIR: dir, PULSE_RUNTIME_PATH: join(dir, 'pulse') },
    /**
     * record reads the null sink's monitor until it has `seconds` of audio (the sink's clock is
     * not real time here, so it counts samples, bounded by timeoutMs) and returns its loudness:
     * rms over the whole, and peak, the loudest 20 ms (Chromium's fake microphone beeps).
     */
    async record(seconds = 2, timeoutMs = 20_000) {
      const want = 2 * 48000 * seconds;
      const p = spawn('parec', ['-d', 'parley_null.monitor', '--raw', '--format=s16le', '--rate=48000', '--channels=1', '--latency-msec=20'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
      const chunks = [];
      let n = 0;
      await new Promise((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        p.stdout.on('data', (d) => {
          chunks.push(d);
          n += d.length;
          if (n >= want) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      p.kill('SIGINT');
      const raw = Buffer.concat(chunks);
      const count = Math.floor(raw.length / 2);
      const win = 960; // 20 ms at 48 kHz
      let sum = 0;
      let peak = 0;
      for (let i = 0; i < count; i += win) {
        let w = 0;
        const end = Math.min(i + win, count);
        for (let j = i; j < end; j++) {
          const v = raw.readInt16LE(2 * j) / 32768;
          w += v * v;
        }
        sum += w;
        peak = Math.max(peak, Math.sqrt(w / (end - i)));
      }
      return { rms: count ? Math.sqrt(sum / count) : 0, peak };
    },
    async stop() {
      await run('pulseaudio', ['--kill'], { env }).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
