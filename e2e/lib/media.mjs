// Measuring what a call shows and plays in a test browser: the remote <video>'s picture and sound.

/** remotePixels draws what the remote <video> shows now onto a small canvas and sums it up: a
 * hash of the picture and its tint (mean blue minus mean red, -255..255), or null if nothing. */
function remotePixels(page) {
  return page.evaluate(() => {
    const v = document.querySelector('[data-testid="remote-video"]');
    if (!v || !v.videoWidth) return null;
    const c = document.createElement('canvas');
    c.width = 160;
    c.height = 120;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0, c.width, c.height);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    let d = 0;
    for (let i = 0; i < px.length; i += 4) {
      h = (h * 31 + px[i] + px[i + 1] * 3 + px[i + 2] * 7) >>> 0;
      d += px[i + 2] - px[i];
    }
    return { hash: h, tint: d / (px.length / 4) };
  });
}

/** videoFrame hashes what the remote <video> shows now, or null if nothing. */
export async function videoFrame(page) {
  return (await remotePixels(page))?.hash ?? null;
}

/** videoTint is how blue the remote <video>'s picture is: mean blue minus mean red, or null. */
export async function videoTint(page) {
  return (await remotePixels(page))?.tint ?? null;
}

/** audioLevel measures the peak RMS of the remote <video>'s sound over two seconds (WebAudio analyser). */
export function audioLevel(page) {
  return page.evaluate(async () => {
    const v = document.querySelector('[data-testid="remote-video"]');
    const stream = v?.srcObject;
    if (!stream || stream.getAudioTracks().length === 0) return 0;
    const ctx = new AudioContext();
    await ctx.resume();
    const an = ctx.createAnalyser();
    an.fftSize = 2048;
    ctx.createMediaStreamSource(stream).connect(an);
    const buf = new Float32Array(an.fftSize);
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      an.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const x of buf) sum += x * x;
      peak = Math.max(peak, Math.sqrt(sum / buf.length));
    }
    await ctx.close();
    return peak;
  });
}
