package media

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Recording: the call writes both sides' encoded media to files as it sends and receives it,
// without decoding or re-encoding anything: each side's Opus audio and VP8 or H.264 video go
// into one WebM file on the recording's clock (see webm.go), which a browser plays as it is. Each file is written as the packets come, so
// a recording survives the program being killed up to its last few packets. Pausing keeps the
// files open (the gap is not recorded); resuming waits for a key frame on each video track.

// Recorded file names, in the directory handed to Record. The Annex B, IVF and Ogg names are
// what earlier versions wrote; a spool they left is still uploaded.
const (
	RecLocalWebM   = "local.webm"
	RecRemoteWebM  = "remote.webm"
	RecLocalH264   = "local-video.h264"
	RecRemoteH264  = "remote-video.h264"
	RecLocalAudio  = "local-audio.ogg"
	RecRemoteAudio = "remote-audio.ogg"
	RecLocalVP8    = "local-video.ivf"
	RecRemoteVP8   = "remote-video.ivf"
)

// ErrNotRecording indicates FinishRecording on a call that never recorded.
var ErrNotRecording = errors.New("media: the call is not recording")

// recorder holds a call's recording files. Its methods run on the send and receive goroutines.
type recorder struct {
	dir   string
	start time.Time

	mu     sync.Mutex
	paused bool
	done   bool
	err    error // the first write error; the recording stops there
	sides  [2]recSide
	files  []string
}

// sides of a recording.
const (
	recLocal  = 0
	recRemote = 1
)

// videoWait is how long a side's file waits for a first video key frame before it is written
// with audio only (the side sends no video, or its camera is off).
const videoWait = 2 * time.Second

// recSide is one side's WebM file and the clocks of its tracks.
type recSide struct {
	w         *webmWriter
	first     time.Duration // when the side's first packet came; 0 before
	pending   []pendingAudio
	audioNext int64 // where the next audio packet goes if it follows on (ms)
	audioSeen bool
	videoLast int64
	wantKey   bool // after a resume: video waits for a key frame
}

// pendingAudio is an audio packet kept while the side's file waits for its first key frame.
type pendingAudio struct {
	ts, dur int64
	pkt     []byte
}

// Record starts writing the call's media into dir (created if missing), or resumes a paused
// recording. Video starts at each side's next key frame, which it asks for.
func (c *Call) Record(dir string) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	r := c.rec.Load()
	if r == nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		r = &recorder{dir: dir, start: time.Now()}
		c.rec.Store(r)
	}
	r.mu.Lock()
	r.paused = false
	for i := range r.sides {
		r.sides[i].wantKey = r.sides[i].w != nil
	}
	r.mu.Unlock()
	c.askKeyFrames()
	return nil
}

// PauseRecording stops writing until Record resumes.
func (c *Call) PauseRecording() {
	if r := c.rec.Load(); r != nil {
		r.mu.Lock()
		r.paused = true
		r.mu.Unlock()
	}
}

// Recording reports whether the call is writing its media now.
func (c *Call) Recording() bool {
	r := c.rec.Load()
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.paused && !r.done && r.err == nil
}

// FinishRecording closes the recording's files and returns their paths (the files that got
// media). The call goes on unrecorded; Close finishes a recording too.
func (c *Call) FinishRecording() ([]string, error) {
	r := c.rec.Load()
	if r == nil {
		return nil, ErrNotRecording
	}
	return r.finish()
}

// askKeyFrames has both sides start a new picture: our encoder at once, the other side by PLI.
func (c *Call) askKeyFrames() {
	c.mu.Lock()
	v := c.video
	c.mu.Unlock()
	if v != nil {
		v.mu.Lock()
		if v.enc != nil {
			_ = v.enc.ForceKeyFrame()
		}
		v.mu.Unlock()
	}
	for _, tr := range c.pc.GetTransceivers() {
		if rcv := tr.Receiver(); rcv != nil {
			if t := rcv.Track(); t != nil && t.Kind() == webrtc.RTPCodecTypeVideo {
				_ = c.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.SSRC())}})
			}
		}
	}
}

// sideName is the WebM file of side.
func sideName(side int) string {
	if side == recRemote {
		return RecRemoteWebM
	}
	return RecLocalWebM
}

// writeAudio records one Opus packet of side. Its timestamp follows on from the previous
// packet's end (a steady clock, whatever the network's jitter) unless the wall clock is well
// past it (a pause, a mute, lost packets), where it starts again from the wall clock.
func (r *recorder) writeAudio(side int, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused || r.done || r.err != nil || len(payload) == 0 {
		return
	}
	now := time.Since(r.start)
	s := &r.sides[side]
	wall := now.Milliseconds()
	ts := s.audioNext
	if !s.audioSeen || wall > s.audioNext+120 {
		ts = wall
	}
	s.audioSeen = true
	dur := opusDuration(payload)
	s.audioNext = ts + dur
	if s.first == 0 {
		s.first = max(now, 1)
	}
	if s.w == nil {
		if now-s.first < videoWait {
			s.pending = append(s.pending, pendingAudio{ts, dur, slices.Clone(payload)})
			return
		}
		if !r.open(side, false, 0, 0, nil) {
			return
		}
	}
	if err := s.w.write(webmAudioTrack, ts, dur, false, payload); err != nil {
		r.err = err
	}
}

// open creates side's WebM file and writes the audio kept for it.
func (r *recorder) open(side int, video bool, width, height int, avcC []byte) bool {
	s := &r.sides[side]
	path := filepath.Join(r.dir, sideName(side))
	w, err := newWebM(path, video, width, height, avcC)
	if err != nil {
		r.err = err
		return false
	}
	s.w = w
	r.files = append(r.files, path)
	for _, p := range s.pending {
		if err := w.write(webmAudioTrack, p.ts, p.dur, false, p.pkt); err != nil {
			r.err = err
			return false
		}
	}
	s.pending = nil
	return true
}

// writeVideo records one encoded frame of side; frames before the first key frame (after a
// start or a resume) are left out, since nothing could decode them.
func (r *recorder) writeVideo(side int, mime string, frame []byte, key bool) (wantKey bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused || r.done || r.err != nil || len(frame) == 0 {
		return false
	}
	now := time.Since(r.start)
	h264 := strings.EqualFold(mime, webrtc.MimeTypeH264)
	if !h264 && !strings.EqualFold(mime, webrtc.MimeTypeVP8) {
		r.err = fmt.Errorf("media: cannot record %s video", mime)
		return false
	}
	s := &r.sides[side]
	if s.first == 0 {
		s.first = max(now, 1)
	}
	if s.w == nil {
		if !key {
			return true
		}
		var avc []byte
		var w, h int
		var ok bool
		if h264 {
			// The track's avcC needs the key frame's parameter sets; one without waits for the next.
			if avc = avcConfig(frame); avc == nil {
				return true
			}
		} else {
			w, h, ok = vp8Size(frame)
		}
		if !ok {
			w, h = 640, 480 // informative only: the frames carry their size
		}
		if !r.open(side, true, w, h, avc) {
			return false
		}
	} else if !s.w.video || s.w.h264 != h264 {
		return false // the side's file started with audio only, or with the other codec
	}
	if s.wantKey {
		if !key {
			return true
		}
		s.wantKey = false
	}
	ts := max(now.Milliseconds(), s.videoLast)
	s.videoLast = ts
	if err := s.w.write(webmVideoTrack, ts, 0, key, frame); err != nil {
		r.err = err
	}
	return false
}

// finish closes every file (a side still waiting for video is written with its audio, and
// each WebM gets its duration) and returns the recorded files.
func (r *recorder) finish() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return r.files, r.err
	}
	r.done = true
	var errs []error
	for i := range r.sides {
		s := &r.sides[i]
		if s.w == nil && len(s.pending) > 0 && r.err == nil {
			r.open(i, false, 0, 0, nil)
		}
		if s.w != nil {
			errs = append(errs, s.w.finish())
		}
	}
	return r.files, errors.Join(append(errs, r.err)...)
}
