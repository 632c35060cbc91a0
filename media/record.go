package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// Recording: the call writes both sides' encoded media to files as it sends and receives it,
// without decoding or re-encoding anything: Opus packets into Ogg (pion's oggwriter), VP8 frames
// into IVF, H.264 frames as an Annex B stream. Each file is written as the packets come, so a
// recording survives the program being killed up to its last few packets. Pausing keeps the
// files open (the gap is not recorded); resuming waits for a key frame on each video track.

// Recorded file names, in the directory handed to Record.
const (
	RecLocalAudio  = "local-audio.ogg"
	RecRemoteAudio = "remote-audio.ogg"
	RecLocalVP8    = "local-video.ivf"
	RecRemoteVP8   = "remote-video.ivf"
	RecLocalH264   = "local-video.h264"
	RecRemoteH264  = "remote-video.h264"
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
	audio  [2]*oggwriter.OggWriter
	video  [2]*frameFile
	files  []string
}

// sides of a recording.
const (
	recLocal  = 0
	recRemote = 1
)

// frameFile is one video track's file: IVF for VP8, a bare Annex B stream for H.264.
type frameFile struct {
	f       *os.File
	ivf     bool
	frames  uint32
	wantKey bool
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
	for _, v := range r.video {
		if v != nil {
			v.wantKey = true
		}
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

// writeAudio records one Opus packet of side.
func (r *recorder) writeAudio(side int, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused || r.done || r.err != nil || len(payload) == 0 {
		return
	}
	w := r.audio[side]
	if w == nil {
		name := RecLocalAudio
		if side == recRemote {
			name = RecRemoteAudio
		}
		path := filepath.Join(r.dir, name)
		var err error
		if w, err = oggwriter.New(path, 48000, 2); err != nil {
			r.err = err
			return
		}
		r.audio[side] = w
		r.files = append(r.files, path)
	}
	// The Ogg granule comes from the Opus packet's own sample count, not the RTP timestamp.
	if err := w.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2}, Payload: payload}); err != nil {
		r.err = err
	}
}

// writeVideo records one encoded frame of side; frames before the first key frame (after a
// start or a resume) are left out, since nothing could decode them.
func (r *recorder) writeVideo(side int, mime string, frame []byte, key bool) (wantKey bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused || r.done || r.err != nil || len(frame) == 0 {
		return false
	}
	v := r.video[side]
	if v == nil {
		if !key {
			return true
		}
		ivf := strings.EqualFold(mime, webrtc.MimeTypeVP8)
		if !ivf && !strings.EqualFold(mime, webrtc.MimeTypeH264) {
			r.err = fmt.Errorf("media: cannot record %s video", mime)
			return false
		}
		name := map[[2]bool]string{{true, false}: RecLocalVP8, {true, true}: RecRemoteVP8, {false, false}: RecLocalH264, {false, true}: RecRemoteH264}[[2]bool{ivf, side == recRemote}]
		path := filepath.Join(r.dir, name)
		f, err := os.Create(path)
		if err != nil {
			r.err = err
			return false
		}
		v = &frameFile{f: f, ivf: ivf}
		if ivf {
			if _, err := f.Write(ivfHeader(0)); err != nil {
				r.err = err
				return false
			}
		}
		r.video[side] = v
		r.files = append(r.files, path)
	}
	if v.wantKey {
		if !key {
			return true
		}
		v.wantKey = false
	}
	var err error
	if v.ivf {
		// Presentation time in milliseconds since the recording started (the IVF timebase is
		// 1/1000), so both sides' files share one clock.
		var hdr [12]byte
		binary.LittleEndian.PutUint32(hdr[0:], uint32(len(frame)))
		binary.LittleEndian.PutUint64(hdr[4:], uint64(time.Since(r.start).Milliseconds()))
		if _, err = v.f.Write(hdr[:]); err == nil {
			_, err = v.f.Write(frame)
		}
	} else {
		_, err = v.f.Write(frame)
	}
	if err != nil {
		r.err = err
		return false
	}
	v.frames++
	return false
}

// ivfHeader is an IVF file header for VP8 with a millisecond timebase.
func ivfHeader(frames uint32) []byte {
	h := make([]byte, 32)
	copy(h[0:], "DKIF")
	binary.LittleEndian.PutUint16(h[4:], 0)  // version
	binary.LittleEndian.PutUint16(h[6:], 32) // header size
	copy(h[8:], "VP80")
	binary.LittleEndian.PutUint16(h[12:], 640) // width and height: informative; the frames carry theirs
	binary.LittleEndian.PutUint16(h[14:], 480)
	binary.LittleEndian.PutUint32(h[16:], 1000) // timebase denominator
	binary.LittleEndian.PutUint32(h[20:], 1)    // numerator
	binary.LittleEndian.PutUint32(h[24:], frames)
	return h
}

// finish closes every file (writing the IVF frame counts) and returns the recorded files.
func (r *recorder) finish() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return r.files, r.err
	}
	r.done = true
	var errs []error
	for _, w := range r.audio {
		if w != nil {
			errs = append(errs, w.Close())
		}
	}
	for _, v := range r.video {
		if v == nil {
			continue
		}
		if v.ivf {
			if _, err := v.f.Seek(0, io.SeekStart); err == nil {
				_, err = v.f.Write(ivfHeader(v.frames))
				errs = append(errs, err)
			}
		}
		errs = append(errs, v.f.Sync(), v.f.Close())
	}
	return r.files, errors.Join(append(errs, r.err)...)
}
