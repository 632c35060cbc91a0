package media

import (
	"errors"
	"image"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pion/mediadevices"
	"github.com/pion/mediadevices/pkg/io/audio"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/mediadevices/pkg/wave"
	"github.com/pion/mediadevices/pkg/wave/mixer"

	"github.com/parleyhq/parley/media/codec/opus"
)

// TestPatternID is the device id of the built-in test sources: a moving, stamped picture for
// video and a 440 Hz tone for audio. CI and the demo use it; so can a user with no hardware.
const TestPatternID = "test-pattern"

// TestPattern2ID is the second pair of test sources: the pattern with a blue cast and an
// 880 Hz tone, so switching devices mid-call can be seen and heard without hardware.
const TestPattern2ID = "test-pattern-2"

// TestPattern3ID is a third test tone (660 Hz, with the first pattern), not listed among the
// devices: tests of a supervised call tell the customer, the agent and the supervisor apart.
const TestPattern3ID = "test-pattern-3"

// VideoSource gives raw I420 frames at its capture rate; Read blocks until the next frame.
type VideoSource interface {
	Read() (*image.YCbCr, error)
	Close() error
}

// AudioSource fills 20 ms of mono 48 kHz PCM (opus.FrameSamples samples) per Read, blocking
// at the capture rate.
type AudioSource interface {
	Read(pcm []int16) error
	Close() error
}

// OpenVideo opens the camera with the given id (TestPatternID for the pattern, "" for the
// default camera) at w x h and fps.
func OpenVideo(id string, w, h, fps int) (VideoSource, error) {
	if id == TestPatternID || id == TestPattern2ID || id == TestPattern3ID {
		src := newPatternSource(w, h, fps, time.Now)
		src.p.Tint = id == TestPattern2ID
		return src, nil
	}
	c := mediadevices.MediaStreamConstraints{Video: func(m *mediadevices.MediaTrackConstraints) {
		if id != "" {
			m.DeviceID = prop.StringExact(id)
		}
		m.Width = prop.Int(w)
		m.Height = prop.Int(h)
		m.FrameRate = prop.Float(float32(fps))
	}}
	s, err := mediadevices.GetUserMedia(c)
	if err != nil {
		return nil, deviceError(err, ErrNoCamera)
	}
	tracks := s.GetVideoTracks()
	if len(tracks) == 0 {
		return nil, ErrNoCamera
	}
	vt, ok := tracks[0].(*mediadevices.VideoTrack)
	if !ok {
		_ = tracks[0].Close()
		return nil, ErrNoCamera
	}
	return &trackVideo{t: vt, r: video.ToI420(vt.NewReader(false))}, nil
}

// OpenAudio opens the microphone with the given id (TestPatternID for the tone, "" for the
// default microphone).
func OpenAudio(id string) (AudioSource, error) {
	if id == TestPatternID || id == TestPattern2ID || id == TestPattern3ID {
		src := newToneSource()
		switch id {
		case TestPattern2ID:
			src.t.Hz = 880
		case TestPattern3ID:
			src.t.Hz = 660
		}
		return src, nil
	}
	c := mediadevices.MediaStreamConstraints{Audio: func(m *mediadevices.MediaTrackConstraints) {
		if id != "" {
			m.DeviceID = prop.StringExact(id)
		}
	}}
	s, err := mediadevices.GetUserMedia(c)
	if err != nil {
		return nil, deviceError(err, ErrNoMicrophone)
	}
	tracks := s.GetAudioTracks()
	if len(tracks) == 0 {
		return nil, ErrNoMicrophone
	}
	at, ok := tracks[0].(*mediadevices.AudioTrack)
	if !ok {
		_ = tracks[0].Close()
		return nil, ErrNoMicrophone
	}
	// Whatever the device gives is mixed to mono and cut into 20 ms chunks; the device is
	// asked for 48 kHz (the constraint below), which malgo resamples to when needed.
	r := audio.NewBuffer(opus.FrameSamples)(audio.NewChannelMixer(1, &mixer.MonoMixer{})(at.NewReader(false)))
	return &trackAudio{t: at, r: r}, nil
}

// deviceError maps a driver error to the package's sentinels.
func deviceError(err error, missing error) error {
	switch {
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return errors.Join(ErrPermissionDenied, err)
	case errors.Is(err, syscall.EBUSY):
		return errors.Join(ErrDeviceBusy, err)
	}
	s := strings.ToLower(err.Error())
	switch {
	case strings.Contains(s, "permission"), strings.Contains(s, "denied"):
		return errors.Join(ErrPermissionDenied, err)
	case strings.Contains(s, "busy"):
		return errors.Join(ErrDeviceBusy, err)
	}
	return errors.Join(missing, err)
}

type trackVideo struct {
	t *mediadevices.VideoTrack
	r video.Reader
}

func (v *trackVideo) Read() (*image.YCbCr, error) {
	img, release, err := v.r.Read()
	if err != nil {
		// A camera unplugged mid-call ends its reader: report it as gone.
		return nil, errors.Join(ErrNoCamera, err)
	}
	defer release()
	y, ok := img.(*image.YCbCr)
	if !ok {
		return nil, errors.New("media: camera gave no I420 frame")
	}
	// The driver reuses its buffer: copy before handing the frame on.
	c := *y
	c.Y, c.Cb, c.Cr = append([]byte(nil), y.Y...), append([]byte(nil), y.Cb...), append([]byte(nil), y.Cr...)
	return &c, nil
}

func (v *trackVideo) Close() error { return v.t.Close() }

type trackAudio struct {
	t *mediadevices.AudioTrack
	r audio.Reader
}

func (a *trackAudio) Read(pcm []int16) error {
	chunk, release, err := a.r.Read()
	if err != nil {
		return errors.Join(ErrNoMicrophone, err)
	}
	defer release()
	n := min(chunk.ChunkInfo().Len, len(pcm))
	for i := 0; i < n; i++ {
		pcm[i] = int16(wave.Int16SampleFormat.Convert(chunk.At(i, 0)).(wave.Int16Sample))
	}
	return nil
}

func (a *trackAudio) Close() error { return a.t.Close() }

// patternSource paces Pattern frames with a ticker.
type patternSource struct {
	p      *Pattern
	now    func() time.Time
	tick   *time.Ticker
	done   chan struct{}
	closer sync.Once
}

func newPatternSource(w, h, fps int, now func() time.Time) *patternSource {
	return &patternSource{p: NewPattern(w, h), now: now, tick: time.NewTicker(time.Second / time.Duration(fps)), done: make(chan struct{})}
}

func (s *patternSource) Read() (*image.YCbCr, error) {
	select {
	case <-s.done:
		return nil, io.EOF
	case <-s.tick.C:
		return s.p.Draw(s.now()), nil
	}
}

func (s *patternSource) Close() error {
	s.closer.Do(func() { s.tick.Stop(); close(s.done) })
	return nil
}

// toneSource paces a Tone at 20 ms.
type toneSource struct {
	t      Tone
	tick   *time.Ticker
	done   chan struct{}
	closer sync.Once
}

func newToneSource() *toneSource {
	return &toneSource{tick: time.NewTicker(20 * time.Millisecond), done: make(chan struct{})}
}

func (s *toneSource) Read(pcm []int16) error {
	select {
	case <-s.done:
		return io.EOF
	case <-s.tick.C:
		s.t.Next(pcm)
		return nil
	}
}

func (s *toneSource) Close() error {
	s.closer.Do(func() { s.tick.Stop(); close(s.done) })
	return nil
}
