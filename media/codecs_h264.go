//go:build !noh264

package media

import (
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/media/codec/h264"
)

func init() {
	addVideoCodec(videoCodec{
		rank: 1,
		params: webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
				SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
			},
			PayloadType: 102,
		},
		newEncoder: func(w, h, bps int) (videoEncoder, error) {
			return h264.NewEncoder(w, h, bps, 30)
		},
		newDecoder:   func() (videoDecoder, error) { return h264.NewDecoder() },
		payloader:    func() rtp.Payloader { return &codecs.H264Payloader{} },
		depacketizer: func() rtp.Depacketizer { return &codecs.H264Packet{} },
		isKeyFrame:   h264.IsKeyFrame,
	})
}
