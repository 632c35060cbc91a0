package h264

import (
	"image"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	enc, err := NewEncoder(320, 240, 500_000, 30)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	decoded := 0
	for i := 0; i < 10; i++ {
		img := image.NewYCbCr(image.Rect(0, 0, 320, 240), image.YCbCrSubsampleRatio420)
		for j := range img.Y {
			img.Y[j] = byte(j + i*8)
		}
		for j := range img.Cb {
			img.Cb[j], img.Cr[j] = 128, 128
		}
		au, key, err := enc.Encode(img)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		if i == 0 && (!key || !IsKeyFrame(au)) {
			t.Errorf("first frame key = %v, IsKeyFrame = %v; want an IDR", key, IsKeyFrame(au))
		}
		out, err := dec.Decode(au)
		if err != nil {
			t.Fatalf("Decode(frame %d): %v", i, err)
		}
		if out != nil {
			decoded++
			if out.Bounds() != img.Bounds() {
				t.Fatalf("decoded %v; want %v", out.Bounds(), img.Bounds())
			}
		}
	}
	if decoded < 9 {
		t.Errorf("decoded %d of 10 frames", decoded)
	}
}
