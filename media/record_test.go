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

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
	"github.com/parleyhq/parley/media/codec/opus"
	"github.com/pion/webrtc/v4"
)

// TestRecordBothSides records a real pion-to-pion call on one side, pauses and resumes it, and
// checks the files as a player would: both sides' video decodes from the first frame to moving
// test-pattern pictures, both sides' audio decodes to the test tone, and the pause left a gap.
func TestRecordBothSides(t *testing.T) {
	for _, codec := range []string{webrtc.MimeTypeVP8, webrtc.MimeTypeH264} {
		t.Run(codec, func(t *testing.T) { testRecordBothSides(t, codec) })
	}
}

func testRecordBothSides(t *testing.T, codec string) {
	checkLeaks(t)
	opts := testOptions(true)
	opts.VideoCodecs = []string{codec}
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
	want := []string{filepath.Join(dir, RecLocalWebM), filepath.Join(dir, RecRemoteWebM)}
	if !slices.Equal(files, want) {
		t.Fatalf("files = %v; want %v", files, want)
	}
	var starts [2]int64
	for i, side := range []string{RecLocalWebM, RecRemoteWebM} {
		m := checkWebM(t, filepath.Join(dir, side))
		if m.frames < 60 || !m.moving {
			t.Errorf("%s: %d decoded frames, moving %v; want ≥ 60 moving test-pattern frames", side, m.frames, m.moving)
		}
		if m.videoGap < 700 || m.audioGap < 700 {
			t.Errorf("%s: largest gaps video %d ms, audio %d ms; want the pause (≥ 700 ms) in both", side, m.videoGap, m.audioGap)
		}
		if m.packets < 100 || m.loud < m.packets/2 {
			t.Errorf("%s: %d Opus packets, %d with the tone; want ≥ 100, mostly tone", side, m.packets, m.loud)
		}
		if m.duration < 2500 || m.duration < float64(m.last) {
			t.Errorf("%s: duration %.0f ms, last block at %d ms; want ≥ 2.5 s, covering every block", side, m.duration, m.last)
		}
		t.Logf("%s: %+v", side, m)
		starts[i] = m.first
	}
	// Both files run on the recording's clock: they start together.
	if d := starts[0] - starts[1]; d < -300 || d > 300 {
		t.Errorf("first blocks at %d and %d ms; want both sides to start within 300 ms", starts[0], starts[1])
	}
	// The call goes on unrecorded.
	if p.a.Recording() {
		t.Error("Recording() = true after FinishRecording")
	}

	// A file cut short (the app killed) still holds the blocks written before the cut.
	raw, _ := os.ReadFile(filepath.Join(dir, RecRemoteWebM))
	cut := filepath.Join(t.TempDir(), "cut.webm")
	if err := os.WriteFile(cut, raw[:len(raw)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	if m := checkWebM(t, cut); m.frames < 30 || m.packets < 50 {
		t.Errorf("a file cut at two thirds: %d frames and %d audio packets decode; want most of them", m.frames, m.packets)
	}
}

// webmCheck is what checkWebM found in a recording's WebM file.
type webmCheck struct {
	frames        int     // VP8 frames decoded
	moving        bool    // the test pattern's stamp changed
	packets, loud int     // Opus packets, and those with the test tone
	videoGap      int64   // largest gap between video frames (ms)
	audioGap      int64   // largest gap between the end of one audio packet and the next
	first, last   int64   // the first and last block's time (ms)
	duration      float64 // the header's Duration (ms)
}

// checkWebM parses a WebM file with an independent reader (ebml-go), checks its tracks, and
// decodes every VP8 frame and Opus packet as a player would.
func checkWebM(t *testing.T, path string) (m webmCheck) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var doc struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment webm.Segment    `ebml:"Segment"`
	}
	if err := ebml.Unmarshal(f, &doc); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		t.Fatalf("%s: %v", path, err)
	}
	if doc.Header.DocType != "webm" || doc.Segment.Info.TimecodeScale != 1_000_000 || len(doc.Segment.Tracks.TrackEntry) != 2 {
		t.Fatalf("%s: doctype %q, timecode scale %d, %d tracks; want webm, 1 ms, 2", path, doc.Header.DocType, doc.Segment.Info.TimecodeScale, len(doc.Segment.Tracks.TrackEntry))
	}
	mime := webrtc.MimeTypeVP8
	for _, tr := range doc.Segment.Tracks.TrackEntry {
		want := map[uint64]string{webmAudioTrack: "A_OPUS", webmVideoTrack: "V_VP8"}[tr.TrackNumber]
		if tr.CodecID == "V_MPEG4/ISO/AVC" && len(tr.CodecPrivate) > 8 && tr.CodecPrivate[0] == 1 {
			want, mime = tr.CodecID, webrtc.MimeTypeH264 // with its avcC
		}
		if tr.CodecID != want {
			t.Errorf("%s: track %d codec %q; want %q", path, tr.TrackNumber, tr.CodecID, want)
		}
	}
	m.duration = doc.Segment.Info.Duration
	vc, _ := findVideoCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, SDPFmtpLine: "packetization-mode=1"}})
	vdec, err := vc.newDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer vdec.Close()
	adec, err := opus.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer adec.Close()
	var firstStamp, lastStamp uint16
	prevVideo, audioEnd := int64(-1), int64(-1)
	m.first = -1
	for _, c := range doc.Segment.Cluster {
		for _, b := range c.SimpleBlock {
			ts := int64(c.Timecode) + int64(b.Timecode)
			if m.first < 0 {
				m.first = ts
			}
			m.last = max(m.last, ts)
			switch b.TrackNumber {
			case webmVideoTrack:
				if m.frames == 0 && !b.Keyframe {
					t.Fatalf("%s: the first video frame is not a key frame", path)
				}
				if prevVideo >= 0 {
					m.videoGap = max(m.videoGap, ts-prevVideo)
				}
				prevVideo = ts
				frame := b.Data[0]
				if mime == webrtc.MimeTypeH264 {
					frame = annexB(t, frame)
				}
				img, err := vdec.Decode(frame)
				if err != nil {
					t.Fatalf("%s: frame %d does not decode: %v", path, m.frames, err)
				}
				if img == nil {
					continue
				}
				if _, s, ok := ReadStamp(img); ok {
					if m.frames == 0 {
						firstStamp = s
					}
					lastStamp = s
				}
				m.frames++
			case webmAudioTrack:
				if audioEnd >= 0 {
					m.audioGap = max(m.audioGap, ts-audioEnd)
				}
				audioEnd = ts + opusDuration(b.Data[0])
				pcm, err := adec.Decode(b.Data[0])
				if err != nil {
					t.Fatalf("%s packet %d: %v", path, m.packets, err)
				}
				m.packets++
				if Energy(pcm) > 0.05 {
					m.loud++
				}
			}
		}
	}
	m.moving = firstStamp != lastStamp
	return m
}

// TestRepairWebM: a file cut while a block was being written (the app killed) loses that block
// and gets the Duration of what it holds; a finished file is left alone.
func TestRepairWebM(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cut.webm")
	w, err := newWebM(path, true, 320, 240, nil)
	if err != nil {
		t.Fatal(err)
	}
	opus20 := []byte{0x78, 1, 2, 3} // config 15 (hybrid FB 20 ms), one frame
	for ts := int64(0); ts < 7000; ts += 20 {
		if err := w.write(webmAudioTrack, ts, 20, false, opus20); err != nil {
			t.Fatal(err)
		}
		if ts%1000 == 0 {
			if err := w.write(webmVideoTrack, ts, 0, true, bytes.Repeat([]byte{9}, 300)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The kill: half a block, and no Duration.
	if err := w.write(webmVideoTrack, 7000, 0, true, bytes.Repeat([]byte{9}, 3000)); err != nil {
		t.Fatal(err)
	}
	st, _ := w.f.Stat()
	if err := w.f.Truncate(st.Size() - 1500); err != nil {
		t.Fatal(err)
	}
	w.f.Close()
	before, _ := os.Stat(path)

	changed, err := RepairWebM(path)
	if err != nil || !changed {
		t.Fatalf("RepairWebM(cut) = %v, %v; want repaired", changed, err)
	}
	after, _ := os.Stat(path)
	if after.Size() >= before.Size() || before.Size()-after.Size() > 3000 {
		t.Errorf("size %d → %d; want the partial block (≤ 3 KB) dropped", before.Size(), after.Size())
	}
	f, _ := os.Open(path)
	var doc struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment webm.Segment    `ebml:"Segment"`
	}
	if err := ebml.Unmarshal(f, &doc); err != nil {
		t.Fatalf("the repaired file does not parse whole: %v", err)
	}
	f.Close()
	if d := doc.Segment.Info.Duration; d != 7000 {
		t.Errorf("Duration = %v; want 7000 (the last audio packet's end)", d)
	}
	blocks := 0
	for _, c := range doc.Segment.Cluster {
		blocks += len(c.SimpleBlock)
	}
	if blocks != 350+7 {
		t.Errorf("%d blocks; want the 357 written whole", blocks)
	}
	if changed, err := RepairWebM(path); err != nil || changed {
		t.Errorf("RepairWebM(repaired) = %v, %v; want it left alone", changed, err)
	}
}

// annexB turns a Matroska H.264 frame (NAL units behind 4-byte lengths) back into Annex B.
func annexB(t *testing.T, frame []byte) []byte {
	t.Helper()
	var out []byte
	for len(frame) > 0 {
		if len(frame) < 4 {
			t.Fatalf("H.264 frame with %d stray bytes", len(frame))
		}
		n := int(binary.BigEndian.Uint32(frame))
		if n == 0 || n > len(frame)-4 {
			t.Fatalf("H.264 NAL unit of %d bytes in %d", n, len(frame)-4)
		}
		out = append(append(out, 0, 0, 0, 1), frame[4:4+n]...)
		frame = frame[4+n:]
	}
	return out
}

// BenchmarkWebMWrite is what recording costs the agent's machine per packet: one block written
// to the file (a 20 ms Opus packet, or a 4 KB video frame), no encoding.
func BenchmarkWebMWrite(b *testing.B) {
	w, err := newWebM(filepath.Join(b.TempDir(), "b.webm"), true, 640, 480, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer w.finish()
	audio, video := make([]byte, 120), make([]byte, 4000)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ts := int64(i) * 20
		if i%3 == 0 {
			_ = w.write(webmVideoTrack, ts, 0, i%90 == 0, video)
		} else {
			_ = w.write(webmAudioTrack, ts, 20, false, audio)
		}
	}
}
