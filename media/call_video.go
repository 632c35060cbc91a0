package media

import (
	"errors"
	"image"
	"io"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Sending video: the camera through the negotiated encoder at the rate congestion control allows,
// video on and off, switching camera mid-call, and the self-view.

// AddVideo adds our camera to a voice call and returns the offer that renegotiates it.
func (c *Call) AddVideo() (string, error) {
	c.mu.Lock()
	has := c.video != nil
	c.mu.Unlock()
	if !has {
		if err := c.addVideo(); err != nil {
			return "", err
		}
	}
	return c.CreateOffer()
}

// SetVideoEnabled turns our video off (camera closed, nothing sent) or back on.
func (c *Call) SetVideoEnabled(on bool) error {
	c.mu.Lock()
	v := c.video
	c.mu.Unlock()
	if v == nil {
		return ErrNoVideo
	}
	if err := v.setEnabled(on); err != nil {
		return err
	}
	c.update(func(s *State) {
		s.VideoEnabled = on
		if on {
			s.CameraError = ""
		}
	})
	return nil
}

// SetCamera switches the camera mid-call (or chooses the one video will use when it goes
// on). When the new camera cannot open, the call keeps the old one and the error says why.
func (c *Call) SetCamera(id string) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.camera = id
	v := c.video
	c.mu.Unlock()
	if v == nil {
		return nil
	}
	if err := v.setCamera(id); err != nil {
		return err
	}
	c.update(func(s *State) { s.CameraError = "" })
	return nil
}

// SelfVideoURL is the loopback URL of our own camera preview as MJPEG.
func (c *Call) SelfVideoURL() string { return c.self.URL() }

type videoSend struct {
	c       *Call
	track   *outTrack
	mu      sync.Mutex
	src     VideoSource // nil while video is off
	camera  string      // the device src comes from
	enc     videoEncoder
	codec   string      // mime type the encoder was built for
	size    image.Point // frame size the encoder was built for
	enabled bool
	wake    chan struct{}
	bitrate int
	closed  bool
}

func (c *Call) addVideo() error {
	c.mu.Lock()
	camera := c.camera
	c.mu.Unlock()
	src, err := OpenVideo(camera, c.opts.Width, c.opts.Height, c.opts.FPS)
	if err != nil {
		return err
	}
	v := &videoSend{c: c, src: src, camera: camera, enabled: true, wake: make(chan struct{}, 1), bitrate: 1_000_000}
	if t := c.target.Load(); t > 0 {
		v.bitrate = int(t)
	}
	v.track = newOutTrack("video", c.stream, webrtc.RTPCodecTypeVideo, nil)
	s, err := c.pc.AddTrack(v.track)
	if err != nil {
		_ = src.Close()
		return err
	}
	c.mu.Lock()
	c.video = v
	c.mu.Unlock()
	c.update(func(st *State) { st.HasVideo, st.VideoEnabled = true, true })
	c.readRTCP(s, func() {
		v.mu.Lock()
		if v.enc != nil {
			_ = v.enc.ForceKeyFrame()
		}
		v.mu.Unlock()
	})
	c.goSafe(v.run)
	return nil
}

func (v *videoSend) run() {
	last := time.Now()
	for {
		v.mu.Lock()
		src, closed := v.src, v.closed
		v.mu.Unlock()
		if closed {
			return
		}
		if src == nil { // video off: wait to be woken
			<-v.wake
			continue
		}
		img, err := src.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				// The camera went away (unplugged, or another program took it): video is off
				// until SetVideoEnabled(true) opens a camera again.
				v.mu.Lock()
				current := v.src == src
				if current {
					_ = src.Close()
					v.src, v.enabled = nil, false
				}
				v.mu.Unlock()
				if current { // not one SetCamera replaced
					v.c.log.Warn("camera stopped", "err", err)
					v.c.update(func(s *State) { s.VideoEnabled, s.CameraError = false, err.Error() })
				}
			}
			continue
		}
		v.c.self.Publish(img)
		p, ok := v.track.codec()
		if !ok {
			continue // not negotiated yet
		}
		enc, err := v.encoder(p, img)
		if err != nil {
			v.c.log.Warn("video encoder", "err", err)
			continue
		}
		frame, key, err := enc.Encode(img)
		if err != nil {
			v.c.log.Warn("video encode", "err", err)
			continue
		}
		now := time.Now()
		ticks := uint32(now.Sub(last) * 90000 / time.Second)
		last = now
		if err := v.track.write(frame, ticks); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			v.c.log.Debug("video write", "err", err)
		}
		if r := v.c.rec.Load(); r != nil && r.writeVideo(recLocal, p.MimeType, frame, key) {
			_ = enc.ForceKeyFrame()
		}
		v.c.st.framesSent.Add(1)
		if key {
			v.c.st.keyFramesSent.Add(1)
		}
		v.c.st.bytesSentVideo.Add(int64(len(frame)))
	}
}

// encoder returns the encoder for the negotiated codec and frame size, building it when
// either changed.
func (v *videoSend) encoder(p webrtc.RTPCodecParameters, img *image.YCbCr) (videoEncoder, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	size := img.Bounds().Size()
	if v.enc != nil && v.codec == p.MimeType && v.size == size { // another camera may give another size
		return v.enc, nil
	}
	if v.enc != nil {
		_ = v.enc.Close()
		v.enc = nil
	}
	vc, ok := findVideoCodec(p)
	if !ok {
		return nil, ErrNoCodec
	}
	b := img.Bounds()
	enc, err := vc.newEncoder(b.Dx(), b.Dy(), v.bitrate)
	if err != nil {
		return nil, err
	}
	v.enc, v.codec, v.size = enc, p.MimeType, size
	return enc, nil
}

func (v *videoSend) setBitRate(bps int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.bitrate = bps
	if v.enc != nil {
		_ = v.enc.SetBitRate(bps)
	}
}

func (v *videoSend) setEnabled(on bool) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return ErrClosed
	}
	if on == v.enabled {
		return nil
	}
	v.enabled = on
	if !on {
		// Closing the camera turns its light off; the send loop then waits.
		if v.src != nil {
			_ = v.src.Close()
			v.src = nil
		}
		return nil
	}
	src, err := OpenVideo(v.camera, v.c.opts.Width, v.c.opts.Height, v.c.opts.FPS)
	if err != nil {
		v.enabled = false
		return err
	}
	v.src = src
	if v.enc != nil {
		_ = v.enc.ForceKeyFrame() // the receiver's picture restarts cleanly
	}
	select {
	case v.wake <- struct{}{}:
	default:
	}
	return nil
}

// setCamera switches to another camera. With video on, the new camera opens before the old
// one closes, so a camera that fails to open leaves the picture as it was.
func (v *videoSend) setCamera(id string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return ErrClosed
	}
	if v.src == nil { // video off: the camera opens when it goes on
		v.camera = id
		return nil
	}
	src, err := OpenVideo(id, v.c.opts.Width, v.c.opts.Height, v.c.opts.FPS)
	if err != nil {
		return err
	}
	old := v.src
	v.src, v.camera = src, id
	_ = old.Close() // the send loop's Read on it returns; the loop takes the new one
	if v.enc != nil {
		_ = v.enc.ForceKeyFrame()
	}
	return nil
}

func (v *videoSend) close() {
	v.mu.Lock()
	v.closed = true
	if v.src != nil {
		_ = v.src.Close()
	}
	v.mu.Unlock()
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

func (v *videoSend) closeEncoder() {
	v.mu.Lock()
	if v.enc != nil {
		_ = v.enc.Close()
		v.enc = nil
	}
	v.mu.Unlock()
}
