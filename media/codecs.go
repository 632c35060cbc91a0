package media

import (
	"image"
	"slices"
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// videoEncoder is what the send loop needs from a video encoder.
type videoEncoder interface {
	Encode(img *image.YCbCr) (frame []byte, key bool, err error)
	ForceKeyFrame() error
	SetBitRate(bps int) error
	Close() error
}

// videoDecoder is what the receive loop needs from a video decoder.
type videoDecoder interface {
	Decode(frame []byte) (*image.YCbCr, error)
	Close() error
}

// videoCodec is one video codec this build can send and receive. Files with build tags add
// theirs to videoCodecs in init, in order of preference (see README.md for each OS's set).
type videoCodec struct {
	rank         int // preference: lower first
	params       webrtc.RTPCodecParameters
	newEncoder   func(w, h, bps int) (videoEncoder, error)
	newDecoder   func() (videoDecoder, error)
	payloader    func() rtp.Payloader
	depacketizer func() rtp.Depacketizer
	isKeyFrame   func(frame []byte) bool
}

var videoCodecs []videoCodec

// addVideoCodec registers a codec in preference order (init order follows file names).
func addVideoCodec(c videoCodec) {
	videoCodecs = append(videoCodecs, c)
	slices.SortStableFunc(videoCodecs, func(a, b videoCodec) int { return a.rank - b.rank })
}

// videoFeedback is the RTCP feedback every video codec offers.
var videoFeedback = []webrtc.RTCPFeedback{
	{Type: "goog-remb"}, {Type: "transport-cc"}, {Type: "ccm", Parameter: "fir"},
	{Type: "nack"}, {Type: "nack", Parameter: "pli"},
}

// findVideoCodec returns this build's codec for a negotiated codec, if any.
func findVideoCodec(p webrtc.RTPCodecParameters) (videoCodec, bool) {
	for _, c := range videoCodecs {
		if !strings.EqualFold(c.params.MimeType, p.MimeType) {
			continue
		}
		if strings.EqualFold(p.MimeType, webrtc.MimeTypeH264) && !strings.Contains(p.SDPFmtpLine, "packetization-mode=1") {
			continue
		}
		return c, true
	}
	return videoCodec{}, false
}

// registerCodecs puts Opus and this build's video codecs into m; only, when not empty,
// limits video to those mime types.
func registerCodecs(m *webrtc.MediaEngine, only []string) error {
	opusParams := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1", RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}},
		},
		PayloadType: 111,
	}
	if err := m.RegisterCodec(opusParams, webrtc.RTPCodecTypeAudio); err != nil {
		return err
	}
	for _, c := range videoCodecs {
		if len(only) > 0 && !slices.ContainsFunc(only, func(s string) bool { return strings.EqualFold(s, c.params.MimeType) }) {
			continue
		}
		p := c.params
		p.RTCPFeedback = videoFeedback
		if err := m.RegisterCodec(p, webrtc.RTPCodecTypeVideo); err != nil {
			return err
		}
	}
	return nil
}

// VideoCodecs lists the video codecs this build supports, most preferred first (mime types
// such as "video/VP8", "video/H264").
func VideoCodecs() []string {
	out := make([]string, 0, len(videoCodecs))
	for _, c := range videoCodecs {
		out = append(out, c.params.MimeType)
	}
	return out
}
