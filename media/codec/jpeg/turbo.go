//go:build !noturbojpeg

package jpeg

// #cgo pkg-config: libturbojpeg
// #include <turbojpeg.h>
// #include <stdlib.h>
import "C"

import (
	"errors"
	"image"
	"runtime"
	"unsafe"
)

// Encoder turns I420 frames into JPEG. It is not safe for concurrent use.
type Encoder struct {
	h C.tjhandle
}

// NewEncoder returns an encoder.
func NewEncoder() (*Encoder, error) {
	h := C.tjInitCompress()
	if h == nil {
		return nil, errors.New("jpeg: tjInitCompress failed")
	}
	return &Encoder{h: h}, nil
}

// Encode compresses img (4:2:0) at quality 1..100 and appends the JPEG to dst.
func (e *Encoder) Encode(dst []byte, img *image.YCbCr, quality int) ([]byte, error) {
	if img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return nil, errors.New("jpeg: frame is not I420")
	}
	b := img.Bounds()
	planes := [3]*C.uchar{(*C.uchar)(&img.Y[0]), (*C.uchar)(&img.Cb[0]), (*C.uchar)(&img.Cr[0])}
	strides := [3]C.int{C.int(img.YStride), C.int(img.CStride), C.int(img.CStride)}
	var out *C.uchar
	var size C.ulong
	// The plane pointers go into C memory: pin them, as cgo's pointer rules ask.
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&img.Y[0])
	pin.Pin(&img.Cb[0])
	pin.Pin(&img.Cr[0])
	pp := (**C.uchar)(C.malloc(C.size_t(unsafe.Sizeof(planes))))
	defer C.free(unsafe.Pointer(pp))
	copy(unsafe.Slice(pp, 3), planes[:])
	if C.tjCompressFromYUVPlanes(e.h, pp, C.int(b.Dx()), &strides[0], C.int(b.Dy()), C.TJSAMP_420,
		&out, &size, C.int(quality), C.TJFLAG_FASTDCT) != 0 {
		return nil, errors.New("jpeg: " + C.GoString(C.tjGetErrorStr2(e.h)))
	}
	defer C.tjFree(out)
	return append(dst, unsafe.Slice((*byte)(unsafe.Pointer(out)), int(size))...), nil
}

// Close frees the encoder.
func (e *Encoder) Close() error {
	if e.h != nil {
		C.tjDestroy(e.h)
		e.h = nil
	}
	return nil
}
