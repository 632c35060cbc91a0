package opus

import (
	"math"
	"testing"
)

// tone returns frame n of a 440 Hz sine at about -12 dBFS, with a bit of hiss so the encoder
// has detail to spend bits on.
func tone(n int) []int16 {
	pcm := make([]int16, FrameSamples)
	seed := uint32(n*7919 + 1)
	for i := range pcm {
		seed = seed*1664525 + 1013904223
		t := float64(n*FrameSamples+i) / SampleRate
		pcm[i] = int16(8000*math.Sin(2*math.Pi*440*t)) + int16(seed>>24) - 128
	}
	return pcm
}

func rms(pcm []int16) float64 {
	var s float64
	for _, v := range pcm {
		f := float64(v) / 32768
		s += f * f
	}
	return math.Sqrt(s / float64(len(pcm)))
}

// crossings counts sign changes: twice the pitch per second of audio.
func crossings(pcm []int16) int {
	n := 0
	for i := 1; i < len(pcm); i++ {
		if (pcm[i-1] < 0) != (pcm[i] < 0) {
			n++
		}
	}
	return n
}

// TestRoundTripAndBitRate: a tone comes back as the same tone at the same level; lowering the
// bitrate mid-stream makes the packets smaller at once (one encoder ctl, no new encoder); a
// lost packet is concealed with a frame of the right length.
func TestRoundTripAndBitRate(t *testing.T) {
	enc, err := NewEncoder(64_000)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()

	var out []int16
	high, low := 0, 0
	for n := 0; n < 100; n++ {
		if n == 50 {
			if err := enc.SetBitRate(12_000); err != nil {
				t.Fatal(err)
			}
		}
		pkt, err := enc.Encode(tone(n))
		if err != nil {
			t.Fatal(err)
		}
		if n >= 10 && n < 50 {
			high += len(pkt)
		}
		if n >= 60 {
			low += len(pkt)
		}
		pcm, err := dec.Decode(pkt)
		if err != nil {
			t.Fatal(err)
		}
		if len(pcm) != FrameSamples {
			t.Fatalf("frame %d decoded to %d samples; want %d", n, len(pcm), FrameSamples)
		}
		if n >= 10 && n < 50 {
			out = append(out, pcm...)
		}
	}
	in := tone(0)
	if got, want := rms(out), rms(in); math.Abs(got-want) > 0.25*want {
		t.Errorf("decoded level %.3f; want about the input's %.3f", got, want)
	}
	if pitch := float64(crossings(out)) / 2 / (float64(len(out)) / SampleRate); math.Abs(pitch-440) > 15 {
		t.Errorf("decoded pitch %.0f Hz; want 440", pitch)
	}
	// 40 frames at each rate: 64 kbit/s is 160 bytes a frame, 12 kbit/s 30.
	if float64(low)/40 > 0.4*float64(high)/40 {
		t.Errorf("packets average %d bytes at 64 kbit/s and %d at 12 kbit/s; want the second far smaller", high/40, low/40)
	}
	t.Logf("packets average %d bytes at 64 kbit/s, %d at 12 kbit/s", high/40, low/40)

	pcm, err := dec.Decode(nil)
	if err != nil || len(pcm) != FrameSamples {
		t.Errorf("concealing a lost packet: %d samples, %v; want %d", len(pcm), err, FrameSamples)
	}
}

func TestRefusals(t *testing.T) {
	enc, err := NewEncoder(32_000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Encode(make([]int16, 100)); err == nil {
		t.Error("a 100-sample frame was accepted")
	}
	enc.Close()
	if _, err := enc.Encode(tone(0)); err == nil {
		t.Error("Encode after Close succeeded")
	}
	if err := enc.SetBitRate(16_000); err == nil {
		t.Error("SetBitRate after Close succeeded")
	}
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	if _, err := dec.Decode([]byte{0xff, 0xff, 0xff}); err == nil {
		t.Error("a malformed packet decoded")
	}
}
