package media

import (
	"image"
	"time"

	"github.com/parleyhq/parley/media/codec/opus"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Receiving: the other side's audio decoded to the speaker, its video decoded to the render bridge.

// RemoteVideoURL is the loopback URL of the remote video as MJPEG, for an <img src>.
func (c *Call) RemoteVideoURL() string { return c.remote.URL() }

// OnRemoteAudio sets a function that sees every decoded 20 ms of remote audio (tests).
// It runs on the receive goroutine and must not keep pcm.
func (c *Call) OnRemoteAudio(f func(pcm []int16)) { c.onAudio.Store(&f) }

// OnRemoteTrackAudio sets a function that sees every decoded 20 ms of remote audio with the id
// of the track it came on (a supervisor's leg brings two: MonitorCustomerTrack and
// MonitorAgentTrack). It runs on the receive goroutines and must not keep pcm.
func (c *Call) OnRemoteTrackAudio(f func(track string, pcm []int16)) { c.onTrackAudio.Store(&f) }

// OnRemoteFrame sets a function that sees every decoded remote frame (tests, recording).
// It runs on the receive goroutine and must not keep img.
func (c *Call) OnRemoteFrame(f func(img *image.YCbCr)) { c.remote.onFrame.Store(&f) }

func (c *Call) receive(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	c.log.Debug("remote track", "kind", tr.Kind().String(), "codec", tr.Codec().MimeType)
	if tr.Kind() == webrtc.RTPCodecTypeAudio {
		c.goSafe(func() { c.receiveAudio(tr) })
		return
	}
	c.goSafe(func() { c.receiveVideo(tr) })
}

func (c *Call) receiveAudio(tr *webrtc.TrackRemote) {
	dec, err := opus.NewDecoder()
	if err != nil {
		c.log.Warn("opus decoder", "err", err)
		return
	}
	defer dec.Close()
	var level float64
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		c.st.bytesRecvAudio.Add(int64(len(pkt.Payload)))
		if r := c.rec.Load(); r != nil {
			r.writeAudio(recRemote, pkt.Payload)
		}
		if m := c.mon.Load(); m != nil {
			m.forward(m.customer, pkt.Payload) // as it came, not decoded again
		}
		pcm, err := dec.Decode(pkt.Payload)
		if err != nil {
			continue
		}
		level = 0.8*level + 0.2*Energy(pcm)
		c.st.audioLevel.Store(mathFloat64bits(level))
		c.st.lastAudio.Store(time.Now().UnixNano())
		if f := c.onAudio.Load(); f != nil && *f != nil {
			(*f)(pcm)
		}
		if f := c.onTrackAudio.Load(); f != nil && *f != nil {
			(*f)(tr.ID(), pcm)
		}
		if p := c.player.Load(); p != nil {
			p.pushTo(tr.ID(), pcm)
		}
	}
}

func (c *Call) receiveVideo(tr *webrtc.TrackRemote) {
	vc, ok := findVideoCodec(tr.Codec())
	if !ok {
		c.log.Warn("remote video codec not supported", "codec", tr.Codec().MimeType)
		return
	}
	dec, err := vc.newDecoder()
	if err != nil {
		c.log.Warn("video decoder", "err", err)
		return
	}
	defer dec.Close()
	asm := newAssembler(vc.depacketizer())
	ssrc := uint32(tr.SSRC())
	needKey := true
	var lastPLI time.Time
	// What became of the frames, said when the track ends: frames lost on the way, frames
	// skipped while waiting for a key frame, key frames asked for.
	var lostN, skipped, asked int
	start := time.Now()
	defer func() {
		c.log.Info("remote video ended", "decoded", c.st.framesDecoded.Load(), "sent_to_view", c.remote.sent.Load(),
			"lost", lostN, "skipped", skipped, "key_requests", asked, "seconds", int(time.Since(start).Seconds()))
	}()
	askKey := func() {
		if time.Since(lastPLI) < 300*time.Millisecond {
			return
		}
		lastPLI = time.Now()
		asked++
		c.log.Debug("remote video: asking for a key frame")
		_ = c.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	}
	first := true
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		if first {
			c.log.Debug("remote video: first packet")
			first = false
		}
		c.st.bytesRecvVideo.Add(int64(len(pkt.Payload)))
		frames, lost := asm.push(clonePacket(pkt))
		if lost {
			lostN++
			needKey = true
		}
		for _, f := range frames {
			if r := c.rec.Load(); r != nil && r.writeVideo(recRemote, tr.Codec().MimeType, f, vc.isKeyFrame(f)) {
				askKey()
			}
			if c.remote.hidden() {
				// Nobody can see the picture (a minimised window): nothing is decoded. Shown
				// again, decoding starts from the key frame the next frame asks for.
				needKey = true
				continue
			}
			if needKey {
				if !vc.isKeyFrame(f) {
					skipped++
					askKey()
					continue
				}
				needKey = false
			}
			img, err := dec.Decode(f)
			if err != nil {
				needKey = true
				askKey()
				continue
			}
			if img == nil {
				continue
			}
			if c.st.framesDecoded.Add(1) == 1 {
				c.log.Debug("remote video: first frame decoded", "size", img.Rect.Size().String())
				c.st.firstFrame.Store(time.Now().UnixNano())
				c.update(func(s *State) { s.RemoteVideo = true })
			}
			c.remote.Publish(img)
		}
	}
}

// clonePacket copies what the assembler keeps: ReadRTP's buffer is reused.
func clonePacket(p *rtp.Packet) *rtp.Packet {
	q := &rtp.Packet{Header: p.Header, Payload: append([]byte(nil), p.Payload...)}
	return q
}
