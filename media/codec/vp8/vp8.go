//go:build !novpx

// Package vp8 is a small libvpx VP8 encoder and decoder tuned for real-time calls; its encoder
// implements pion/mediadevices' codec interfaces so it can stand in for mediadevices' vpx encoder.
package vp8

// #cgo pkg-config: vpx
// #include <stdlib.h>
// #include <string.h>
// #include <vpx/vpx_encoder.h>
// #include <vpx/vpx_decoder.h>
// #include <vpx/vp8cx.h>
// #include <vpx/vp8dx.h>
//
// static vpx_codec_iface_t *parley_vp8_cx(void) { return vpx_codec_vp8_cx(); }
// static vpx_codec_iface_t *parley_vp8_dx(void) { return vpx_codec_vp8_dx(); }
// static vpx_codec_err_t parley_enc_init(vpx_codec_ctx_t *c, vpx_codec_enc_cfg_t *cfg) {
//   return vpx_codec_enc_init(c, vpx_codec_vp8_cx(), cfg, 0);
// }
// static vpx_codec_err_t parley_dec_init(vpx_codec_ctx_t *c) {
//   vpx_codec_dec_cfg_t cfg = {0};
//   cfg.threads = 1;
//   return vpx_codec_dec_init(c, vpx_codec_vp8_dx(), &cfg, 0);
// }
// static vpx_codec_err_t parley_ctl_int(vpx_codec_ctx_t *c, int id, int v) {
//   return vpx_codec_control_(c, id, v);
// }
// // parley_encode wraps the caller's planes in an image and encodes it; the planes are only read
// // during the call, so Go memory can be passed (pinned by cgo for the call's duration).
// static vpx_codec_err_t parley_encode(vpx_codec_ctx_t *c, int w, int h,
//     unsigned char *y, int ys, unsigned char *u, unsigned char *v, int cs,
//     long pts, unsigned long dur, long flags) {
//   vpx_image_t img;
//   memset(&img, 0, sizeof(img));
//   vpx_img_wrap(&img, VPX_IMG_FMT_I420, w, h, 1, y);
//   img.planes[0] = y; img.planes[1] = u; img.planes[2] = v;
//   img.stride[0] = ys; img.stride[1] = cs; img.stride[2] = cs;
//   return vpx_codec_encode(c, &img, pts, dur, flags, VPX_DL_REALTIME);
// }
// static const vpx_codec_cx_pkt_t *parley_next_pkt(vpx_codec_ctx_t *c, vpx_codec_iter_t *it) {
//   return vpx_codec_get_cx_data(c, it);
// }
// static int parley_pkt_is_frame(const vpx_codec_cx_pkt_t *p) { return p->kind == VPX_CODEC_CX_FRAME_PKT; }
// static void *parley_pkt_buf(const vpx_codec_cx_pkt_t *p) { return p->data.frame.buf; }
// static size_t parley_pkt_sz(const vpx_codec_cx_pkt_t *p) { return p->data.frame.sz; }
// static int parley_pkt_key(const vpx_codec_cx_pkt_t *p) { return (p->data.frame.flags & VPX_FRAME_IS_KEY) != 0; }
// static vpx_codec_err_t parley_decode(vpx_codec_ctx_t *c, const unsigned char *b, unsigned int n) {
//   return vpx_codec_decode(c, b, n, NULL, 0);
// }
import "C"

import (
	"errors"
	"fmt"
	"image"
	"io"
	"sync"
	"time"
	"unsafe"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
)

// DefaultCPUUsed is the speed setting encoders get unless told otherwise (Params.CPUUsed):
// WebRTC's. `parley-mediabench -only speed` measured -10 within 0.3 dB (PSNR) of it for
// 0.78-0.88x the encoder's CPU on a camera-like sequence at 1 Mbit/s and 400 kbit/s, but -10
// missed a 150 kbit/s target at 320x240 by up to 2x (TestRoundTripKeyFramesAndBitRate: 200-300
// kbit/s, against 170-250 at -6): a congested call asks for such rates, so -6 stays.
const DefaultCPUUsed = -6

// Params configures the encoder. Zero values take real-time defaults.
type Params struct {
	// BitRate is the initial target in bits per second (default 1 Mbit/s).
	BitRate int
	// CPUUsed trades quality for speed (libvpx VP8E_SET_CPUUSED); real-time callers use -6..-12
	// (default DefaultCPUUsed; WebRTC uses -6 on desktop). 1<<30 leaves libvpx's default (0).
	CPUUsed int
	// Threads is the number of encoder threads (default 1).
	Threads int
	// KeyFrameInterval is the maximum distance between key frames in frames (default 3000:
	// key frames come on PLI/FIR).
	KeyFrameInterval int
	// ConfigSetEveryFrame reproduces mediadevices v0.9.4's behaviour (vpx_codec_enc_config_set
	// before every frame). Only the encoder benchmark sets it, to show what the fix saves.
	ConfigSetEveryFrame bool
}

// RTPCodec implements codec.VideoEncoderBuilder.
func (p *Params) RTPCodec() *codec.RTPCodec { return codec.NewRTPVP8Codec(90000) }

// BuildVideoEncoder implements codec.VideoEncoderBuilder.
func (p *Params) BuildVideoEncoder(r video.Reader, m prop.Media) (codec.ReadCloser, error) {
	e, err := NewEncoder(m.Width, m.Height, *p)
	if err != nil {
		return nil, err
	}
	e.r = video.ToI420(r)
	return e, nil
}

// Encoder is a real-time VP8 encoder. Its methods are safe for concurrent use.
type Encoder struct {
	mu       sync.Mutex
	ctx      *C.vpx_codec_ctx_t
	cfg      *C.vpx_codec_enc_cfg_t
	p        Params
	w, h     int
	start    time.Time
	last     time.Time
	now      func() time.Time // the frames' clock: time.Now (tests give their own)
	forceKey bool
	bitrate  int // wanted target in bit/s, applied before the next frame
	applied  int // target the encoder runs with
	closed   bool
	r        video.Reader // set when built through BuildVideoEncoder
	// configSets counts vpx_codec_enc_config_set calls after NewEncoder (tests check that a
	// bitrate change costs one, not one per frame).
	configSets int
}

// NewEncoder returns an encoder for w x h I420 frames.
func NewEncoder(w, h int, p Params) (*Encoder, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("vp8: bad size %dx%d", w, h)
	}
	if p.BitRate == 0 {
		p.BitRate = 1_000_000
	}
	if p.CPUUsed == 0 {
		p.CPUUsed = DefaultCPUUsed
	}
	if p.Threads == 0 {
		p.Threads = 1
	}
	if p.KeyFrameInterval == 0 {
		p.KeyFrameInterval = 3000
	}
	cfg := (*C.vpx_codec_enc_cfg_t)(C.calloc(1, C.sizeof_vpx_codec_enc_cfg_t))
	if ec := C.vpx_codec_enc_config_default(C.parley_vp8_cx(), cfg, 0); ec != 0 {
		C.free(unsafe.Pointer(cfg))
		return nil, fmt.Errorf("vp8: config_default: %d", int(ec))
	}
	cfg.g_w, cfg.g_h = C.uint(w), C.uint(h)
	cfg.g_timebase.num, cfg.g_timebase.den = 1, 1000000 // microseconds
	cfg.g_threads = C.uint(p.Threads)
	cfg.g_lag_in_frames = 0
	cfg.g_error_resilient = C.VPX_ERROR_RESILIENT_DEFAULT
	cfg.g_pass = C.VPX_RC_ONE_PASS
	cfg.rc_end_usage = C.VPX_CBR
	cfg.rc_target_bitrate = C.uint(p.BitRate / 1000)
	cfg.rc_min_quantizer = 2
	cfg.rc_max_quantizer = 56
	cfg.rc_undershoot_pct = 100
	cfg.rc_overshoot_pct = 15
	cfg.rc_buf_initial_sz = 500
	cfg.rc_buf_optimal_sz = 600
	cfg.rc_buf_sz = 1000
	cfg.rc_resize_allowed = 0
	cfg.rc_dropframe_thresh = 0
	cfg.kf_mode = C.VPX_KF_AUTO
	cfg.kf_max_dist = C.uint(p.KeyFrameInterval)

	ctx := (*C.vpx_codec_ctx_t)(C.calloc(1, C.sizeof_vpx_codec_ctx_t))
	if ec := C.parley_enc_init(ctx, cfg); ec != 0 {
		C.free(unsafe.Pointer(ctx))
		C.free(unsafe.Pointer(cfg))
		return nil, fmt.Errorf("vp8: enc_init: %d", int(ec))
	}
	if p.CPUUsed != 1<<30 {
		C.parley_ctl_int(ctx, C.VP8E_SET_CPUUSED, C.int(p.CPUUsed))
	}
	C.parley_ctl_int(ctx, C.VP8E_SET_STATIC_THRESHOLD, 1)
	C.parley_ctl_int(ctx, C.VP8E_SET_NOISE_SENSITIVITY, 0)
	C.parley_ctl_int(ctx, C.VP8E_SET_MAX_INTRA_BITRATE_PCT, 900)
	now := time.Now()
	return &Encoder{ctx: ctx, cfg: cfg, p: p, w: w, h: h, start: now, last: now, now: time.Now,
		bitrate: p.BitRate, applied: p.BitRate, forceKey: true}, nil
}

// Encode encodes one frame and returns the VP8 frame and whether it is a key frame. The image
// must be w x h I420 (the size given to NewEncoder).
func (e *Encoder) Encode(img *image.YCbCr) ([]byte, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, false, io.EOF
	}
	b := img.Bounds()
	if b.Dx() != e.w || b.Dy() != e.h {
		return nil, false, fmt.Errorf("vp8: frame %dx%d, encoder %dx%d", b.Dx(), b.Dy(), e.w, e.h)
	}
	if img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return nil, false, errors.New("vp8: frame is not I420")
	}
	// The fix: the configuration is re-applied only when something in it changed (here, the
	// target bitrate), not before every frame as mediadevices v0.9.4 does.
	if e.bitrate != e.applied || e.p.ConfigSetEveryFrame {
		e.cfg.rc_target_bitrate = C.uint(max(e.bitrate/1000, 30))
		if ec := C.vpx_codec_enc_config_set(e.ctx, e.cfg); ec != 0 {
			return nil, false, fmt.Errorf("vp8: config_set: %d", int(ec))
		}
		e.applied = e.bitrate
		e.configSets++
	}
	t := e.now()
	dur := t.Sub(e.last).Microseconds()
	if dur <= 0 {
		dur = 1
	}
	var flags C.long
	if e.forceKey {
		flags |= C.VPX_EFLAG_FORCE_KF
	}
	ec := C.parley_encode(e.ctx, C.int(e.w), C.int(e.h),
		(*C.uchar)(&img.Y[0]), C.int(img.YStride), (*C.uchar)(&img.Cb[0]), (*C.uchar)(&img.Cr[0]), C.int(img.CStride),
		C.long(t.Sub(e.start).Microseconds()), C.ulong(dur), flags)
	if ec != 0 {
		return nil, false, fmt.Errorf("vp8: encode: %d", int(ec))
	}
	e.forceKey = false
	e.last = t
	var out []byte
	key := false
	var it C.vpx_codec_iter_t
	for {
		pkt := C.parley_next_pkt(e.ctx, &it)
		if pkt == nil {
			break
		}
		if C.parley_pkt_is_frame(pkt) != 0 {
			out = append(out, unsafe.Slice((*byte)(C.parley_pkt_buf(pkt)), int(C.parley_pkt_sz(pkt)))...)
			key = key || C.parley_pkt_key(pkt) != 0
		}
	}
	return out, key, nil
}

// Read implements codec.ReadCloser for encoders built through BuildVideoEncoder.
func (e *Encoder) Read() ([]byte, func(), error) {
	if e.r == nil {
		return nil, func() {}, errors.New("vp8: encoder has no reader")
	}
	img, release, err := e.r.Read()
	if err != nil {
		return nil, func() {}, err
	}
	defer release()
	y, ok := img.(*image.YCbCr)
	if !ok {
		return nil, func() {}, errors.New("vp8: reader did not give I420")
	}
	b, _, err := e.Encode(y)
	return b, func() {}, err
}

// ForceKeyFrame makes the next frame a key frame (on PLI/FIR).
func (e *Encoder) ForceKeyFrame() error {
	e.mu.Lock()
	e.forceKey = true
	e.mu.Unlock()
	return nil
}

// SetBitRate sets the target bitrate in bit/s; it takes effect at the next frame.
func (e *Encoder) SetBitRate(bps int) error {
	e.mu.Lock()
	e.bitrate = bps
	e.mu.Unlock()
	return nil
}

// Controller implements codec.Controllable.
func (e *Encoder) Controller() codec.EncoderController { return e }

// Close frees the encoder.
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	C.vpx_codec_destroy(e.ctx)
	C.free(unsafe.Pointer(e.ctx))
	C.free(unsafe.Pointer(e.cfg))
	return nil
}

// Decoder decodes VP8 frames. It is not safe for concurrent use.
type Decoder struct {
	ctx *C.vpx_codec_ctx_t
}

// NewDecoder returns a VP8 decoder.
func NewDecoder() (*Decoder, error) {
	ctx := (*C.vpx_codec_ctx_t)(C.calloc(1, C.sizeof_vpx_codec_ctx_t))
	if ec := C.parley_dec_init(ctx); ec != 0 {
		C.free(unsafe.Pointer(ctx))
		return nil, fmt.Errorf("vp8: dec_init: %d", int(ec))
	}
	return &Decoder{ctx: ctx}, nil
}

// Decode decodes one VP8 frame into a new I420 image. It returns (nil, nil) when the frame
// produced no picture.
func (d *Decoder) Decode(frame []byte) (*image.YCbCr, error) {
	if len(frame) == 0 {
		return nil, nil
	}
	if ec := C.parley_decode(d.ctx, (*C.uchar)(&frame[0]), C.uint(len(frame))); ec != 0 {
		return nil, fmt.Errorf("vp8: decode: %d", int(ec))
	}
	var it C.vpx_codec_iter_t
	var out *image.YCbCr
	for {
		img := C.vpx_codec_get_frame(d.ctx, &it)
		if img == nil {
			break
		}
		out = copyI420(img)
	}
	return out, nil
}

func copyI420(img *C.vpx_image_t) *image.YCbCr {
	w, h := int(img.d_w), int(img.d_h)
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	plane := func(i, rows, cols int, to []byte, toStride int) {
		stride := int(img.stride[i])
		src := unsafe.Slice((*byte)(unsafe.Pointer(img.planes[i])), stride*(rows-1)+cols)
		for r := 0; r < rows; r++ {
			copy(to[r*toStride:r*toStride+cols], src[r*stride:r*stride+cols])
		}
	}
	cw, ch := (w+1)/2, (h+1)/2
	plane(0, h, w, dst.Y, dst.YStride)
	plane(1, ch, cw, dst.Cb, dst.CStride)
	plane(2, ch, cw, dst.Cr, dst.CStride)
	return dst
}

// Close frees the decoder.
func (d *Decoder) Close() error {
	if d.ctx == nil {
		return nil
	}
	C.vpx_codec_destroy(d.ctx)
	C.free(unsafe.Pointer(d.ctx))
	d.ctx = nil
	return nil
}
