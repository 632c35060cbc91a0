package media

import (
	"image"
	"strconv"
	"testing"
	"time"
)

func TestDownscale(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_123)
	src := NewPattern(640, 480).Draw(now)
	for _, w := range []int{320, 324, 97, 64, 362, 400} {
		got := Downscale(src, w)
		wantW := w &^ 1
		if w >= 320 && w <= 360 { // near half: exactly half
			wantW = 320
		}
		if got.Rect.Dx() != wantW || got.Rect.Dy() != (480*wantW/640)&^1 {
			t.Errorf("Downscale(640x480, %d) = %v; want %dx%d", w, got.Rect, wantW, (480*wantW/640)&^1)
		}
		if w < 160 { // below about 2.5 px a block the stamp is not meant to be read
			continue
		}
		// What a viewer reads off the shrunk picture is still the frame that was drawn.
		if ts, frame, ok := ReadStamp(got); !ok || !ts.Equal(now) || frame != 0 {
			t.Errorf("Downscale(640x480, %d): stamp %v %d %v; want %v 0 true", w, ts, frame, ok, now)
		}
	}
	if got := Downscale(src, 640); got != src {
		t.Error("Downscale to the same width made a copy")
	}
	if got := Downscale(src, 0); got != src {
		t.Error("Downscale to width 0 did not keep the picture")
	}

	// A flat picture stays flat: the box filter averages, it adds nothing.
	flat := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	for i := range flat.Y {
		flat.Y[i] = 200
	}
	for i := range flat.Cb {
		flat.Cb[i], flat.Cr[i] = 90, 160
	}
	small := Downscale(flat, 250)
	for i, v := range small.Y {
		if v != 200 {
			t.Fatalf("flat Y[%d] = %d; want 200", i, v)
		}
	}
	for i := range small.Cb {
		if small.Cb[i] != 90 || small.Cr[i] != 160 {
			t.Fatalf("flat chroma[%d] = %d,%d; want 90,160", i, small.Cb[i], small.Cr[i])
		}
	}
}

// TestHalf: the halving fast path gives what the general box filter gives, to the bit.
func TestHalf(t *testing.T) {
	src := NewPattern(640, 480).Draw(time.UnixMilli(1_800_000_000_123))
	// Noise on top, so that every rounding case comes up.
	x := uint32(7)
	for i := range src.Y {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		src.Y[i] = byte(int(src.Y[i]) + int(x%64) - 32)
	}
	for _, w := range []int{640, 638, 6} { // 638 and 6: tails that are not a multiple of four
		h := 8
		want := make([]byte, w/2*h/2)
		got := make([]byte, w/2*h/2)
		box(want, w/2, w/2, h/2, src.Y, src.YStride, w, h)
		half(got, w/2, w/2, h/2, src.Y, src.YStride, w, h)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("half(%dx%d)[%d] = %d; box gives %d", w, h, i, got[i], want[i])
			}
		}
	}
}

func BenchmarkDownscale(b *testing.B) {
	src := NewPattern(640, 480).Draw(time.Now())
	for _, w := range []int{324, 400, 97} {
		b.Run(strconv.Itoa(w), func(b *testing.B) {
			for b.Loop() {
				Downscale(src, w)
			}
		})
	}
}
