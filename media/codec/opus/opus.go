// Package opus is a small libopus encoder and decoder for 48 kHz mono voice.
package opus

// #cgo linux darwin pkg-config: opus
// #include <opus.h>
// static int parley_set_int(OpusEncoder *e, int req, int v) { return opus_encoder_ctl(e, req, v); }
// static int parley_set_bitrate(OpusEncoder *e, int v) { return opus_encoder_ctl(e, OPUS_SET_BITRATE(v)); }
// static int parley_set_fec(OpusEncoder *e, int v) { return opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(v)); }
// static int parley_set_loss(OpusEncoder *e, int v) { return opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(v)); }
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// SampleRate is the rate both ends use, in Hz.
const SampleRate = 48000

// FrameSamples is the number of samples in one 20 ms frame at SampleRate.
const FrameSamples = SampleRate / 50

// Encoder encodes 20 ms frames of mono 16-bit PCM. It is safe for concurrent use.
type Encoder struct {
	mu  sync.Mutex
	enc *C.OpusEncoder
	buf []byte
}

// NewEncoder returns a VoIP encoder at bitrate bit/s with in-band FEC.
func NewEncoder(bitrate int) (*Encoder, error) {
	var cerr C.int
	e := C.opus_encoder_create(SampleRate, 1, C.OPUS_APPLICATION_VOIP, &cerr)
	if cerr != C.OPUS_OK {
		return nil, fmt.Errorf("opus: encoder_create: %d", int(cerr))
	}
	C.parley_set_bitrate(e, C.int(bitrate))
	C.parley_set_fec(e, 1)
	C.parley_set_loss(e, 5)
	return &Encoder{enc: e, buf: make([]byte, 1500)}, nil
}

// Encode encodes one frame of FrameSamples samples and returns a new slice.
func (e *Encoder) Encode(pcm []int16) ([]byte, error) {
	if len(pcm) != FrameSamples {
		return nil, fmt.Errorf("opus: frame of %d samples, want %d", len(pcm), FrameSamples)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.enc == nil {
		return nil, errors.New("opus: encoder closed")
	}
	n := C.opus_encode(e.enc, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)),
		(*C.uchar)(&e.buf[0]), C.opus_int32(len(e.buf)))
	if n < 0 {
		return nil, fmt.Errorf("opus: encode: %d", int(n))
	}
	return append([]byte(nil), e.buf[:n]...), nil
}

// SetBitRate sets the target bitrate in bit/s.
func (e *Encoder) SetBitRate(bps int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.enc == nil {
		return errors.New("opus: encoder closed")
	}
	if r := C.parley_set_bitrate(e.enc, C.int(bps)); r != C.OPUS_OK {
		return fmt.Errorf("opus: set bitrate: %d", int(r))
	}
	return nil
}

// Close frees the encoder.
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.enc != nil {
		C.opus_encoder_destroy(e.enc)
		e.enc = nil
	}
	return nil
}

// Decoder decodes Opus packets to mono 16-bit PCM at SampleRate. It is not safe for concurrent use.
type Decoder struct {
	dec *C.OpusDecoder
	pcm []int16
}

// NewDecoder returns a mono 48 kHz decoder.
func NewDecoder() (*Decoder, error) {
	var cerr C.int
	d := C.opus_decoder_create(SampleRate, 1, &cerr)
	if cerr != C.OPUS_OK {
		return nil, fmt.Errorf("opus: decoder_create: %d", int(cerr))
	}
	return &Decoder{dec: d, pcm: make([]int16, SampleRate*120/1000)}, nil
}

// Decode decodes one packet; a nil packet asks for loss concealment of one 20 ms frame. The
// returned slice is reused by the next call.
func (d *Decoder) Decode(pkt []byte) ([]int16, error) {
	var p *C.uchar
	var n C.opus_int32
	frame := C.int(len(d.pcm))
	if len(pkt) > 0 {
		p, n = (*C.uchar)(&pkt[0]), C.opus_int32(len(pkt))
	} else {
		frame = FrameSamples
	}
	got := C.opus_decode(d.dec, p, n, (*C.opus_int16)(unsafe.Pointer(&d.pcm[0])), frame, 0)
	if got < 0 {
		return nil, fmt.Errorf("opus: decode: %d", int(got))
	}
	return d.pcm[:got], nil
}

// Close frees the decoder.
func (d *Decoder) Close() error {
	if d.dec != nil {
		C.opus_decoder_destroy(d.dec)
		d.dec = nil
	}
	return nil
}
