package media

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// vp8Packets splits frames into RTP packets as the sender does.
func vp8Packets(t *testing.T, frames [][]byte) []*rtp.Packet {
	t.Helper()
	p := rtp.NewPacketizer(100, 96, 1, &codecs.VP8Payloader{}, rtp.NewFixedSequencer(1000), 90000)
	var out []*rtp.Packet
	for _, f := range frames {
		out = append(out, p.Packetize(f, 3000)...)
	}
	return out
}

func TestAssembler(t *testing.T) {
	frame := func(b byte, n int) []byte {
		f := make([]byte, n)
		for i := range f {
			f[i] = b
		}
		return f
	}
	frames := [][]byte{frame(1, 250), frame(2, 90), frame(3, 300)}
	tests := []struct {
		name     string
		order    func([]*rtp.Packet) []*rtp.Packet
		want     int // frames out
		wantLost bool
	}{
		{"frame tail missing, later frames wait for a retransmission", func(p []*rtp.Packet) []*rtp.Packet {
			return append(append([]*rtp.Packet(nil), p[:3]...), p[4:]...)
		}, 1, false},
		{"in order", func(p []*rtp.Packet) []*rtp.Packet { return p }, 3, false},
		{"reordered", func(p []*rtp.Packet) []*rtp.Packet {
			q := append([]*rtp.Packet(nil), p...)
			q[0], q[1] = q[1], q[0]
			q[4], q[5] = q[5], q[4]
			return q
		}, 3, false},
		{"padding-only packets between frames (a bandwidth probe)", func(p []*rtp.Packet) []*rtp.Packet {
			// Frame 1 is packets 0-2; three probes follow it, numbered in the stream as a
			// sender numbers them, and one comes late, after frame 2's first packet.
			var q []*rtp.Packet
			pad := func() *rtp.Packet {
				return &rtp.Packet{Header: rtp.Header{Version: 2, Padding: true, PayloadType: 96, Timestamp: p[2].Timestamp, SSRC: p[2].SSRC}, PaddingSize: 200}
			}
			q = append(q, p[:3]...)
			q = append(q, pad(), pad(), p[3], pad())
			q = append(q, p[4:]...)
			seq := uint16(1000)
			for _, x := range q {
				if x.PaddingSize == 0 || x.Padding {
					x.SequenceNumber = seq
					seq++
				}
			}
			// The late probe was sent before frame 2: swap the sequence numbers back.
			q[5].SequenceNumber, q[6].SequenceNumber = q[6].SequenceNumber, q[5].SequenceNumber
			return q
		}, 3, false},
		{"middle frame lost", func(p []*rtp.Packet) []*rtp.Packet {
			// 100-byte packets: frame 1 is packets 0-2, frame 2 is 3-4.
			return append(append([]*rtp.Packet(nil), p[:3]...), p[5:]...)
		}, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAssembler(&codecs.VP8Packet{})
			var got [][]byte
			lost := false
			for _, p := range tt.order(vp8Packets(t, frames)) {
				f, l := a.push(p)
				got = append(got, f...)
				lost = lost || l
			}
			if len(got) != tt.want || lost != tt.wantLost {
				t.Fatalf("push gave %d frames, lost=%v; want %d, lost=%v", len(got), lost, tt.want, tt.wantLost)
			}
			for _, f := range got {
				var src []byte
				for _, s := range frames {
					if s[0] == f[0] {
						src = s
					}
				}
				if len(f) != len(src) {
					t.Errorf("frame %d: %d bytes; want %d", f[0], len(f), len(src))
				}
			}
		})
	}
}
