package jpeg

import (
	"bytes"
	"image"
	stdjpeg "image/jpeg"
	"testing"
)

func TestEncodeDecodes(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = byte(i)
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}
	e, err := NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	b, err := e.Encode(nil, img, 80)
	if err != nil {
		t.Fatal(err)
	}
	got, err := stdjpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got.Bounds() != img.Bounds() {
		t.Fatalf("bounds = %v; want %v", got.Bounds(), img.Bounds())
	}
	r, _, _, _ := got.At(10, 0).RGBA()
	if want := uint32(10) << 8; r>>8 < 5 || r>>8 > 15 {
		t.Errorf("pixel (10,0) red = %d; want about %d", r>>8, want>>8)
	}
}
