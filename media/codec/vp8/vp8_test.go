package vp8

import (
	"image"
	"math"
	"testing"
	"time"
)

// frame draws a 320x240 I420 picture: a moving gradient with fine grain (so the encoder has
// more to say than any bitrate here lets it) and a box at a position that moves with n.
func frame(n int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420)
	seed := uint32(n*2654435761 + 1)
	for y := 0; y < 240; y++ {
		for x := 0; x < 320; x++ {
			seed = seed*1664525 + 1013904223
			img.Y[y*img.YStride+x] = byte((x+y+n*3)%200) + byte(seed>>27)
		}
	}
	bx, by := (n*7)%260, (n*5)%180
	for y := by; y < by+48; y++ {
		for x := bx; x < bx+48; x++ {
			img.Y[y*img.YStride+x] = 235
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 120, 136
	}
	return img
}

// psnr is the luma peak signal-to-noise ratio of b against a, in dB.
func psnr(a, b *image.YCbCr) float64 {
	var se float64
	n := 0
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			d := float64(a.Y[y*a.YStride+x]) - float64(b.Y[y*b.YStride+x])
			se += d * d
			n++
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

// TestRoundTripKeyFramesAndBitRate encodes a moving picture at 30 frames a second (paced: the
// rate control budgets bits by the time between frames), decodes it, and checks what a call
// needs from the encoder: the picture comes back, a key frame comes first and again only when
// asked, and a bitrate change takes effect with one reconfiguration, not one per frame.
func TestRoundTripKeyFramesAndBitRate(t *testing.T) {
	enc, err := NewEncoder(320, 240, Params{BitRate: 600_000})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()

	// The frames come exactly 30 a second on the encoder's clock, as a camera's do: on a loaded
	// machine a ticker's frames came late and in bursts, and the rate control, which budgets by
	// time, overshot the low target by half (a figure of the machine, not of the encoder).
	clock := enc.start
	enc.mu.Lock()
	enc.now = func() time.Time { return clock }
	enc.mu.Unlock()
	var sizes []int
	var at []time.Time
	var keys []int
	var worst = math.Inf(1)
	for n := 0; n < 120; n++ {
		clock = clock.Add(time.Second / 30)
		switch n {
		case 30:
			if err := enc.ForceKeyFrame(); err != nil {
				t.Fatal(err)
			}
		case 45:
			if err := enc.SetBitRate(150_000); err != nil {
				t.Fatal(err)
			}
		}
		src := frame(n)
		out, key, err := enc.Encode(src)
		if err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		if key {
			keys = append(keys, n)
		}
		sizes = append(sizes, len(out))
		at = append(at, clock)
		img, err := dec.Decode(out)
		if err != nil || img == nil {
			t.Fatalf("frame %d: decode: %v %v", n, img, err)
		}
		if img.Rect.Dx() != 320 || img.Rect.Dy() != 240 {
			t.Fatalf("frame %d decoded at %v", n, img.Rect)
		}
		if n >= 5 && n < 45 {
			worst = min(worst, psnr(src, img))
		}
	}
	if len(keys) != 2 || keys[0] != 0 || keys[1] != 30 {
		t.Errorf("key frames at %v; want [0 30] (the first, and the one asked for)", keys)
	}
	if worst < 25 {
		t.Errorf("worst luma PSNR at 600 kbit/s = %.1f dB; want at least 25", worst)
	}
	enc.mu.Lock()
	sets := enc.configSets
	enc.mu.Unlock()
	if sets != 1 {
		t.Errorf("vpx_codec_enc_config_set ran %d times for one bitrate change over 120 frames; want 1", sets)
	}
	// The bitrate each stretch actually had: bytes over the time its frames span.
	rate := func(from, to int) float64 {
		b := 0
		for _, v := range sizes[from:to] {
			b += v
		}
		return float64(b*8) / at[to-1].Sub(at[from-1]).Seconds()
	}
	high, low := rate(10, 30), rate(75, 120) // the low rate 1 s after the change (the rate buffer is 1 s)
	if low > 0.5*high || low > 150_000*1.5 {
		t.Errorf("%.0f bit/s at a 600 kbit/s target, %.0f at 150 kbit/s; want the second near its target", high, low)
	}
	t.Logf("%.0f bit/s at 600 kbit/s, %.0f at 150 kbit/s; worst PSNR %.1f dB", high, low, worst)
}

func TestEncoderRefusesWrongFrames(t *testing.T) {
	enc, err := NewEncoder(320, 240, Params{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := enc.Encode(image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)); err == nil {
		t.Error("a 640x480 frame into a 320x240 encoder was accepted")
	}
	if _, _, err := enc.Encode(image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio444)); err == nil {
		t.Error("a 4:4:4 frame was accepted")
	}
	if _, err := NewEncoder(0, 240, Params{}); err == nil {
		t.Error("NewEncoder(0, 240) succeeded")
	}
	enc.Close()
	if _, _, err := enc.Encode(frame(0)); err == nil {
		t.Error("Encode after Close succeeded")
	}
}
