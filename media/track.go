package media

import (
	"slices"
	"strings"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// outTrack is a local track that binds to whichever of this build's codecs the remote peer
// accepted, and packetizes encoded frames itself. Its StreamID is the call's, so the remote
// side sees audio and video as one stream.
type outTrack struct {
	id, streamID string
	kind         webrtc.RTPCodecType
	onBind       func(webrtc.RTPCodecParameters)

	mu    sync.Mutex
	bound *binding // at most one peer connection per track
}

type binding struct {
	params     webrtc.RTPCodecParameters
	writer     webrtc.TrackLocalWriter
	packetizer rtp.Packetizer
}

func newOutTrack(id, streamID string, kind webrtc.RTPCodecType, onBind func(webrtc.RTPCodecParameters)) *outTrack {
	return &outTrack{id: id, streamID: streamID, kind: kind, onBind: onBind}
}

// Bind picks, among the negotiated codecs, the one this build prefers.
func (t *outTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	offered := slices.Clone(ctx.CodecParameters())
	slices.SortStableFunc(offered, func(a, b webrtc.RTPCodecParameters) int { return codecRank(a) - codecRank(b) })
	for _, p := range offered {
		var payloader rtp.Payloader
		var clock uint32
		if t.kind == webrtc.RTPCodecTypeAudio {
			if !strings.EqualFold(p.MimeType, webrtc.MimeTypeOpus) {
				continue
			}
			payloader, clock = opusPayloader{}, 48000
		} else {
			c, ok := findVideoCodec(p)
			if !ok {
				continue
			}
			payloader, clock = c.payloader(), 90000
		}
		b := &binding{
			params: p,
			writer: ctx.WriteStream(),
			packetizer: rtp.NewPacketizer(1200, uint8(p.PayloadType), uint32(ctx.SSRC()), payloader,
				rtp.NewRandomSequencer(), clock),
		}
		t.mu.Lock()
		t.bound = b
		t.mu.Unlock()
		if t.onBind != nil {
			t.onBind(p)
		}
		return p, nil
	}
	return webrtc.RTPCodecParameters{}, ErrNoCodec
}

// Unbind forgets the peer connection.
func (t *outTrack) Unbind(webrtc.TrackLocalContext) error {
	t.mu.Lock()
	t.bound = nil
	t.mu.Unlock()
	return nil
}

func (t *outTrack) ID() string                { return t.id }
func (t *outTrack) RID() string               { return "" }
func (t *outTrack) StreamID() string          { return t.streamID }
func (t *outTrack) Kind() webrtc.RTPCodecType { return t.kind }
func (t *outTrack) codec() (webrtc.RTPCodecParameters, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bound == nil {
		return webrtc.RTPCodecParameters{}, false
	}
	return t.bound.params, true
}

// write packetizes one encoded frame covering samples clock ticks and sends it.
func (t *outTrack) write(frame []byte, samples uint32) error {
	t.mu.Lock()
	b := t.bound
	t.mu.Unlock()
	if b == nil || len(frame) == 0 {
		return nil
	}
	for _, p := range b.packetizer.Packetize(frame, samples) {
		if _, err := b.writer.WriteRTP(&p.Header, p.Payload); err != nil {
			return err
		}
	}
	return nil
}

// opusPayloader puts one Opus packet in one RTP packet.
type opusPayloader struct{}

func (opusPayloader) Payload(_ uint16, payload []byte) [][]byte {
	if len(payload) == 0 {
		return nil
	}
	return [][]byte{append([]byte(nil), payload...)}
}

// codecRank orders negotiated codecs by this build's preference; unknown ones last.
func codecRank(p webrtc.RTPCodecParameters) int {
	if c, ok := findVideoCodec(p); ok {
		return c.rank
	}
	return 1 << 20
}
