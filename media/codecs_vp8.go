//go:build !novpx

package media

import (
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/media/codec/vp8"
)

func init() {
	addVideoCodec(videoCodec{
		rank: 0,
		params: webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			PayloadType:        96,
		},
		newEncoder: func(w, h, bps int) (videoEncoder, error) {
			return vp8.NewEncoder(w, h, vp8.Params{BitRate: bps})
		},
		newDecoder:   func() (videoDecoder, error) { return vp8.NewDecoder() },
		payloader:    func() rtp.Payloader { return &codecs.VP8Payloader{EnablePictureID: true} },
		depacketizer: func() rtp.Depacketizer { return &codecs.VP8Packet{} },
		// A VP8 frame tag's lowest bit is 0 for a key frame.
		isKeyFrame: func(f []byte) bool { return len(f) > 0 && f[0]&1 == 0 },
	})
}
