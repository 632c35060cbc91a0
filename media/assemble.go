package media

import (
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// assembler rebuilds video frames from RTP packets as soon as a frame's last packet (the
// marker) and all before it are in, without waiting for the next frame as pion's samplebuilder
// does (that would add a frame of latency). Packets that NACK brings back late still complete
// their frame. Frames are handed on in order; a frame that can no longer complete is skipped
// and the caller is told so it can ask for a key frame. Padding-only packets (a sender's
// bandwidth probes: Chromium sends them on the video's own stream when RTX is not negotiated)
// carry no media and fill no gap: a frame after them is not taken for lost.
type assembler struct {
	dep     rtp.Depacketizer
	buf     [512]*rtp.Packet // by sequence number modulo 512
	markers []uint16         // marker packets of frames not yet handed on, oldest first
	lastOut uint16           // marker sequence number of the last frame handed on
	started bool
}

func newAssembler(dep rtp.Depacketizer) *assembler { return &assembler{dep: dep} }

// push adds a packet and returns the frames that completed (in order), and whether frames were
// lost on the way.
func (a *assembler) push(p *rtp.Packet) (frames [][]byte, lost bool) {
	if a.started && seqLess(p.SequenceNumber, a.lastOut+1) {
		return nil, false // older than what was handed on
	}
	a.buf[p.SequenceNumber%512] = p
	if p.Marker {
		a.markers = append(a.markers, p.SequenceNumber)
	}
	for len(a.markers) > 0 {
		m := a.markers[0]
		frame, first, ok := a.collect(m)
		if !ok {
			// Give a frame up once two newer frames are complete, or when the buffer is long.
			if len(a.markers) >= 3 || len(a.markers) > 0 && uint16(p.SequenceNumber-m) > 400 {
				a.markers = a.markers[1:]
				lost = true
				continue
			}
			break
		}
		if a.started && first != a.lastOut+1 && !a.padding(a.lastOut+1, first) {
			lost = true
		}
		a.started = true
		a.lastOut = m
		a.markers = a.markers[1:]
		frames = append(frames, frame)
	}
	return frames, lost
}

// collect returns the frame ending at marker m if all its packets are present.
func (a *assembler) collect(m uint16) ([]byte, uint16, bool) {
	end := a.buf[m%512]
	if end == nil || end.SequenceNumber != m {
		return nil, 0, false
	}
	ts := end.Timestamp
	first := m
	for n := 0; n < 500; n++ {
		if a.started && first-1 == a.lastOut {
			break // the previous packet ended the frame handed on last
		}
		prev := a.buf[(first-1)%512]
		if prev == nil || prev.SequenceNumber != first-1 {
			// Missing packet: complete only if first starts the frame (a VP8 partition head).
			// (H.264 frames may hold several NAL units, so there a head proves nothing, except
			// for the very first frame.)
			_, vp8 := a.dep.(*codecs.VP8Packet)
			if !(vp8 || !a.started) || !a.dep.IsPartitionHead(a.buf[first%512].Payload) {
				return nil, 0, false
			}
			break
		}
		if prev.Timestamp != ts || len(prev.Payload) == 0 {
			break
		}
		first--
	}
	var frame []byte
	for s := first; ; s++ {
		pkt := a.buf[s%512]
		part, err := a.dep.Unmarshal(pkt.Payload)
		if err == nil {
			frame = append(frame, part...)
		}
		a.buf[s%512] = nil
		if s == m {
			break
		}
	}
	return frame, first, true
}

// padding reports whether the packets from up to (not including) to are all in and all
// padding only, and forgets them if so.
func (a *assembler) padding(from, to uint16) bool {
	if uint16(to-from) > 400 {
		return false
	}
	for s := from; s != to; s++ {
		if p := a.buf[s%512]; p == nil || p.SequenceNumber != s || len(p.Payload) != 0 {
			return false
		}
	}
	for s := from; s != to; s++ {
		a.buf[s%512] = nil
	}
	return true
}

// seqLess reports whether a comes before b in sequence-number order.
func seqLess(a, b uint16) bool { return a != b && b-a < 0x8000 }
