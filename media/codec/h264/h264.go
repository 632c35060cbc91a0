//go:build !noh264

// Package h264 is a small OpenH264 encoder (constrained baseline, real-time camera settings)
// and decoder. It links the system libopenh264 (Debian libopenh264-dev); the Windows
// cross-build (make build-media-windows) links the static library mediadevices ships.
package h264

// #cgo linux pkg-config: openh264
// #cgo darwin LDFLAGS: -lopenh264
// #include <stdlib.h>
// #include <string.h>
// #include <wels/codec_api.h>
//
// static int parley_enc_new(ISVCEncoder **out, int w, int h, int bps, float fps) {
//   ISVCEncoder *e;
//   int rv = WelsCreateSVCEncoder(&e);
//   if (rv != 0) return rv;
//   SEncParamExt p;
//   (*e)->GetDefaultParams(e, &p);
//   p.iUsageType = CAMERA_VIDEO_REAL_TIME;
//   p.iPicWidth = w; p.iPicHeight = h;
//   p.iTargetBitrate = bps; p.iMaxBitrate = UNSPECIFIED_BIT_RATE;
//   p.iRCMode = RC_BITRATE_MODE;
//   p.fMaxFrameRate = fps;
//   p.bEnableFrameSkip = 0;
//   p.uiIntraPeriod = 0;            // key frames on request (PLI/FIR)
//   p.eSpsPpsIdStrategy = CONSTANT_ID;
//   p.iMultipleThreadIdc = 1;
//   p.iSpatialLayerNum = 1;
//   p.iTemporalLayerNum = 1;
//   p.sSpatialLayers[0].iVideoWidth = w;
//   p.sSpatialLayers[0].iVideoHeight = h;
//   p.sSpatialLayers[0].fFrameRate = fps;
//   p.sSpatialLayers[0].iSpatialBitrate = bps;
//   p.sSpatialLayers[0].iMaxSpatialBitrate = UNSPECIFIED_BIT_RATE;
//   p.sSpatialLayers[0].uiProfileIdc = PRO_BASELINE;
//   p.sSpatialLayers[0].sSliceArgument.uiSliceMode = SM_SINGLE_SLICE;
//   rv = (*e)->InitializeExt(e, &p);
//   if (rv != 0) { WelsDestroySVCEncoder(e); return rv; }
//   int fmt = videoFormatI420;
//   (*e)->SetOption(e, ENCODER_OPTION_DATAFORMAT, &fmt);
//   *out = e;
//   return 0;
// }
// static int parley_enc_bitrate(ISVCEncoder *e, int bps) {
//   SBitrateInfo b; memset(&b, 0, sizeof b);
//   b.iLayer = SPATIAL_LAYER_ALL; b.iBitrate = bps;
//   return (*e)->SetOption(e, ENCODER_OPTION_BITRATE, &b);
// }
// // parley_enc_frame encodes and copies the Annex-B output into out (cap bytes); returns the
// // size, or -1 on error, or -2 if out is too small.
// static int parley_enc_frame(ISVCEncoder *e, int w, int h, unsigned char *y, int ys,
//     unsigned char *u, unsigned char *v, int cs, long long ms, int forceKey,
//     unsigned char *out, int cap, int *key) {
//   if (forceKey) (*e)->ForceIntraFrame(e, 1);
//   SSourcePicture pic; memset(&pic, 0, sizeof pic);
//   pic.iColorFormat = videoFormatI420; pic.iPicWidth = w; pic.iPicHeight = h;
//   pic.iStride[0] = ys; pic.iStride[1] = cs; pic.iStride[2] = cs;
//   pic.pData[0] = y; pic.pData[1] = u; pic.pData[2] = v;
//   pic.uiTimeStamp = ms;
//   SFrameBSInfo info; memset(&info, 0, sizeof info);
//   if ((*e)->EncodeFrame(e, &pic, &info) != cmResultSuccess) return -1;
//   *key = info.eFrameType == videoFrameTypeIDR;
//   if (info.eFrameType == videoFrameTypeSkip) return 0;
//   int n = 0;
//   for (int l = 0; l < info.iLayerNum; l++) {
//     SLayerBSInfo *L = &info.sLayerInfo[l];
//     int sz = 0;
//     for (int i = 0; i < L->iNalCount; i++) sz += L->pNalLengthInByte[i];
//     if (n + sz > cap) return -2;
//     memcpy(out + n, L->pBsBuf, sz);
//     n += sz;
//   }
//   return n;
// }
// static void parley_enc_free(ISVCEncoder *e) { (*e)->Uninitialize(e); WelsDestroySVCEncoder(e); }
//
// static int parley_dec_new(ISVCDecoder **out) {
//   ISVCDecoder *d;
//   if (WelsCreateDecoder(&d) != 0) return -1;
//   SDecodingParam p; memset(&p, 0, sizeof p);
//   p.sVideoProperty.eVideoBsType = VIDEO_BITSTREAM_AVC;
//   if ((*d)->Initialize(d, &p) != 0) { WelsDestroyDecoder(d); return -1; }
//   *out = d;
//   return 0;
// }
// // parley_dec_frame decodes one access unit; on a picture it fills planes/strides/size.
// static int parley_dec_frame(ISVCDecoder *d, const unsigned char *b, int n,
//     unsigned char **planes, int *strides, int *w, int *h) {
//   SBufferInfo info; memset(&info, 0, sizeof info);
//   unsigned char *dst[3] = {0, 0, 0};
//   DECODING_STATE st = (*d)->DecodeFrameNoDelay(d, b, n, dst, &info);
//   if (st != dsErrorFree) return -(int)st;
//   if (info.iBufferStatus != 1) return 0;
//   planes[0] = dst[0]; planes[1] = dst[1]; planes[2] = dst[2];
//   strides[0] = info.UsrData.sSystemBuffer.iStride[0];
//   strides[1] = info.UsrData.sSystemBuffer.iStride[1];
//   *w = info.UsrData.sSystemBuffer.iWidth;
//   *h = info.UsrData.sSystemBuffer.iHeight;
//   return 1;
// }
// static void parley_dec_free(ISVCDecoder *d) { (*d)->Uninitialize(d); WelsDestroyDecoder(d); }
import "C"

import (
	"errors"
	"fmt"
	"image"
	"sync"
	"time"
	"unsafe"
)

// Encoder is a real-time H.264 constrained-baseline encoder. Safe for concurrent use.
type Encoder struct {
	mu       sync.Mutex
	e        *C.ISVCEncoder
	w, h     int
	bitrate  int
	applied  int
	forceKey bool
	start    time.Time
	out      []byte
}

// NewEncoder returns an encoder for w x h frames at bps bit/s and fps.
func NewEncoder(w, h, bps, fps int) (*Encoder, error) {
	var e *C.ISVCEncoder
	if rv := C.parley_enc_new(&e, C.int(w), C.int(h), C.int(bps), C.float(fps)); rv != 0 {
		return nil, fmt.Errorf("h264: encoder init: %d", int(rv))
	}
	return &Encoder{e: e, w: w, h: h, bitrate: bps, applied: bps, start: time.Now(), out: make([]byte, w*h)}, nil
}

// Encode encodes one I420 frame and returns the Annex-B access unit and whether it is an IDR.
func (e *Encoder) Encode(img *image.YCbCr) ([]byte, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.e == nil {
		return nil, false, errors.New("h264: encoder closed")
	}
	if b := img.Bounds(); b.Dx() != e.w || b.Dy() != e.h {
		return nil, false, fmt.Errorf("h264: frame %dx%d, encoder %dx%d", b.Dx(), b.Dy(), e.w, e.h)
	}
	if e.bitrate != e.applied {
		C.parley_enc_bitrate(e.e, C.int(e.bitrate))
		e.applied = e.bitrate
	}
	force := 0
	if e.forceKey {
		force = 1
		e.forceKey = false
	}
	var key C.int
	n := C.parley_enc_frame(e.e, C.int(e.w), C.int(e.h),
		(*C.uchar)(&img.Y[0]), C.int(img.YStride), (*C.uchar)(&img.Cb[0]), (*C.uchar)(&img.Cr[0]), C.int(img.CStride),
		C.longlong(time.Since(e.start).Milliseconds()), C.int(force),
		(*C.uchar)(&e.out[0]), C.int(len(e.out)), &key)
	if n < 0 {
		return nil, false, fmt.Errorf("h264: encode: %d", int(n))
	}
	return append([]byte(nil), e.out[:n]...), key != 0, nil
}

// ForceKeyFrame makes the next frame an IDR (on PLI/FIR).
func (e *Encoder) ForceKeyFrame() error {
	e.mu.Lock()
	e.forceKey = true
	e.mu.Unlock()
	return nil
}

// SetBitRate sets the target in bit/s from the next frame on.
func (e *Encoder) SetBitRate(bps int) error {
	e.mu.Lock()
	e.bitrate = bps
	e.mu.Unlock()
	return nil
}

// Close frees the encoder.
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.e != nil {
		C.parley_enc_free(e.e)
		e.e = nil
	}
	return nil
}

// Decoder decodes H.264 access units (Annex B). Not safe for concurrent use.
type Decoder struct {
	d *C.ISVCDecoder
}

// NewDecoder returns a decoder.
func NewDecoder() (*Decoder, error) {
	var d *C.ISVCDecoder
	if C.parley_dec_new(&d) != 0 {
		return nil, errors.New("h264: decoder init failed")
	}
	return &Decoder{d: d}, nil
}

// Decode decodes one access unit into a new I420 image; (nil, nil) when no picture came out.
func (d *Decoder) Decode(au []byte) (*image.YCbCr, error) {
	if len(au) == 0 {
		return nil, nil
	}
	var planes [3]*C.uchar
	var strides [2]C.int
	var w, h C.int
	rv := C.parley_dec_frame(d.d, (*C.uchar)(&au[0]), C.int(len(au)), &planes[0], &strides[0], &w, &h)
	if rv < 0 {
		return nil, fmt.Errorf("h264: decode state %#x", int(-rv))
	}
	if rv == 0 {
		return nil, nil
	}
	W, H := int(w), int(h)
	dst := image.NewYCbCr(image.Rect(0, 0, W, H), image.YCbCrSubsampleRatio420)
	copyPlane := func(src *C.uchar, stride, rows, cols int, to []byte, toStride int) {
		s := unsafe.Slice((*byte)(unsafe.Pointer(src)), stride*(rows-1)+cols)
		for r := 0; r < rows; r++ {
			copy(to[r*toStride:r*toStride+cols], s[r*stride:r*stride+cols])
		}
	}
	copyPlane(planes[0], int(strides[0]), H, W, dst.Y, dst.YStride)
	copyPlane(planes[1], int(strides[1]), (H+1)/2, (W+1)/2, dst.Cb, dst.CStride)
	copyPlane(planes[2], int(strides[1]), (H+1)/2, (W+1)/2, dst.Cr, dst.CStride)
	return dst, nil
}

// Close frees the decoder.
func (d *Decoder) Close() error {
	if d.d != nil {
		C.parley_dec_free(d.d)
		d.d = nil
	}
	return nil
}

// IsKeyFrame reports whether an Annex-B access unit holds an IDR slice (NAL type 5).
func IsKeyFrame(au []byte) bool {
	for i := 0; i+3 < len(au); i++ {
		if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 && au[i+3]&0x1f == 5 {
			return true
		}
	}
	return false
}
