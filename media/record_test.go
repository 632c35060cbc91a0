package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/media/codec/opus"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// TestRecordBothSides records a real pion-to-pion call on one side, pauses and resumes it, and
// checks the files as a player would: both sides' video decodes from the first frame to moving
// test-pattern pictures, both sides' audio decodes to the test tone, and the pause left a gap.
func TestRecordBothSides(t *testing.T) {
	checkLeaks(t)
	opts := testOptions(true)
	opts.VideoCodecs = []string{webrtc.MimeTypeVP8}
	p := newPair(t, opts, testOptions(true))
	eventually(t, 15*time.Second, "frames both ways", func() bool { return p.frames[0].count() >= 10 && p.frames[1].count() >= 10 })

	dir := t.TempDir()
	if err := p.a.Record(dir); err != nil {
		t.Fatal(err)
	}
	if !p.a.Recording() {
		t.Fatal("Recording() = false after Record")
	}
	start := p.frames[0].count()
	eventually(t, 15*time.Second, "2 s of recorded frames", func() bool { return p.frames[0].count() >= start+60 })
	p.a.PauseRecording()
	time.Sleep(time.Second) // the gap: nothing of it may be written
	if err := p.a.Record(dir); err != nil {
		t.Fatal(err)
	}
	start = p.frames[0].count()
	eventually(t, 15*time.Second, "1 s more of recorded frames", func() bool { return p.frames[0].count() >= start+30 })
	files, err := p.a.FinishRecording()
	if err != nil {
		t.Fatalf("FinishRecording: %v", err)
	}
	slices.Sort(files)
	want := []string{filepath.Join(dir, RecLocalAudio), filepath.Join(dir, RecLocalVP8), filepath.Join(dir, RecRemoteAudio), filepath.Join(dir, RecRemoteVP8)}
	if !slices.Equal(files, want) {
		t.Fatalf("files = %v; want %v", files, want)
	}
	for _, side := range []string{RecLocalVP8, RecRemoteVP8} {
		n, moving, gap := checkIVF(t, filepath.Join(dir, side))
		if n < 60 || !moving {
			t.Errorf("%s: %d decoded frames, moving %v; want ≥ 60 moving test-pattern frames", side, n, moving)
		}
		if gap < 700*time.Millisecond {
			t.Errorf("%s: largest gap between frames %v; want the pause (≥ 0.7 s)", side, gap)
		}
	}
	for _, side := range []string{RecLocalAudio, RecRemoteAudio} {
		packets, loud := checkOgg(t, filepath.Join(dir, side))
		if packets < 100 || loud < packets/2 {
			t.Errorf("%s: %d Opus packets, %d with the tone; want ≥ 100, mostly tone", side, packets, loud)
		}
	}
	// The call goes on unrecorded.
	if p.a.Recording() {
		t.Error("Recording() = true after FinishRecording")
	}
}

// checkIVF decodes every frame of an IVF file and returns how many decoded, whether the
// test pattern's stamp moved, and the largest gap between presentation times.
func checkIVF(t *testing.T, path string) (n int, moving bool, gap time.Duration) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, hdr, err := ivfreader.NewWith(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if count := binary.LittleEndian.Uint32(raw[24:]); hdr.FourCC != "VP80" || count == 0 {
		t.Errorf("%s: header %q, %d frames; want VP80 with the frame count", path, hdr.FourCC, count)
	}
	vc, _ := findVideoCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}})
	dec, err := vc.newDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var first, last uint16
	var prev uint64
	for {
		frame, fh, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s frame %d: %v", path, n, err)
		}
		if n > 0 && time.Duration(fh.Timestamp-prev)*time.Millisecond > gap {
			gap = time.Duration(fh.Timestamp-prev) * time.Millisecond
		}
		prev = fh.Timestamp
		img, err := dec.Decode(frame)
		if err != nil {
			t.Fatalf("%s: frame %d does not decode: %v", path, n, err)
		}
		if img == nil {
			continue
		}
		if _, s, ok := ReadStamp(img); ok {
			if n == 0 {
				first = s
			}
			last = s
		}
		n++
	}
	return n, first != last, gap
}

// checkOgg decodes every Opus packet of an Ogg file and counts those with the test tone.
func checkOgg(t *testing.T, path string) (packets, loud int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, hdr, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if hdr.SampleRate != 48000 {
		t.Errorf("%s: sample rate %d", path, hdr.SampleRate)
	}
	dec, err := opus.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(page) == 0 || bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		pcm, err := dec.Decode(page)
		if err != nil {
			t.Fatalf("%s packet %d: %v", path, packets, err)
		}
		packets++
		if Energy(pcm) > 0.05 {
			loud++
		}
	}
	return packets, loud
}
