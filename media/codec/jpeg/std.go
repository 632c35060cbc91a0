//go:build noturbojpeg

package jpeg

import (
	"bytes"
	"image"
	"image/jpeg"
)

// Encoder turns I420 frames into JPEG with Go's image/jpeg.
type Encoder struct{}

// NewEncoder returns an encoder.
func NewEncoder() (*Encoder, error) { return &Encoder{}, nil }

// Encode compresses img at quality 1..100 and appends the JPEG to dst.
func (e *Encoder) Encode(dst []byte, img *image.YCbCr, quality int) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if err := jpeg.Encode(buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Close does nothing.
func (e *Encoder) Close() error { return nil }
