package media

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/parleyhq/parley/media/codec/opus"
	"github.com/pion/webrtc/v4"
)

// Sending audio: the microphone through Opus, mute, switching microphone and speaker mid-call.

// SetMuted stops (or resumes) sending microphone audio; while muted no audio packets are sent.
func (c *Call) SetMuted(muted bool) {
	c.mu.Lock()
	a := c.audio
	c.mu.Unlock()
	if a != nil {
		a.muted.Store(muted)
	}
	c.update(func(s *State) { s.Muted = muted })
}

// SetMicrophone switches the microphone mid-call. When the new one cannot open, the call keeps
// the old one and the error says why. A call that sends no audio has nothing to switch.
func (c *Call) SetMicrophone(id string) error {
	c.mu.Lock()
	a, closed := c.audio, c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if a == nil {
		return nil
	}
	src, err := OpenAudio(id)
	if err != nil {
		return err
	}
	if err := a.swap(src); err != nil && errors.Is(err, ErrClosed) {
		return err
	}
	c.update(func(s *State) { s.MicrophoneError = "" })
	return nil
}

// SetSpeaker switches the audio output mid-call ("none" plays nothing). When the new output
// cannot open, the call keeps the old one and the error says why.
func (c *Call) SetSpeaker(id string) error {
	if c.isClosed() {
		return ErrClosed
	}
	var p *player
	if id != "none" {
		var err error
		if p, err = newPlayer(id); err != nil {
			return err
		}
	}
	if old := c.player.Swap(p); old != nil {
		old.close()
	}
	if c.isClosed() { // closed meanwhile: Close may have missed p
		if p := c.player.Swap(nil); p != nil {
			p.close()
		}
		return ErrClosed
	}
	c.update(func(s *State) { s.SpeakerError = "" })
	return nil
}

type audioSend struct {
	track *outTrack
	enc   *opus.Encoder
	muted atomic.Bool
	// monEnc encodes the agent's own voice for a supervisor who barged in (what enc encodes then
	// holds the supervisor's voice too); made on first use, used on the send goroutine only.
	monEnc *opus.Encoder
	mix    []int16

	mu     sync.Mutex
	src    AudioSource // replaced by SetMicrophone
	closed bool
}

// source returns the microphone being read, nil once the call closed.
func (a *audioSend) source() AudioSource {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	return a.src
}

// swap makes src the microphone and closes the previous one.
func (a *audioSend) swap(src AudioSource) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		_ = src.Close()
		return ErrClosed
	}
	old := a.src
	a.src = src
	a.mu.Unlock()
	return old.Close()
}

func (a *audioSend) close() error {
	a.mu.Lock()
	a.closed = true
	src := a.src
	a.mu.Unlock()
	return src.Close()
}

func (c *Call) addAudio() error {
	src, err := OpenAudio(c.opts.Microphone)
	if err != nil {
		return err
	}
	enc, err := opus.NewEncoder(32000)
	if err != nil {
		_ = src.Close()
		return err
	}
	a := &audioSend{track: newOutTrack("audio", c.stream, webrtc.RTPCodecTypeAudio, nil), src: src, enc: enc}
	s, err := c.pc.AddTrack(a.track)
	if err != nil {
		_ = src.Close()
		_ = enc.Close()
		return err
	}
	c.mu.Lock()
	c.audio = a
	c.mu.Unlock()
	c.readRTCP(s, nil)
	c.goSafe(func() {
		pcm := make([]int16, opus.FrameSamples)
		var meter LevelMeter
		defer c.st.micLevel.Store(0) // no microphone read: the meter falls to nothing
		for {
			src := a.source()
			if src == nil {
				return
			}
			if err := src.Read(pcm); err != nil {
				if cur := a.source(); cur != nil && cur != src {
					continue // SetMicrophone replaced it
				}
				if !errors.Is(err, io.EOF) {
					c.log.Warn("microphone stopped", "err", err)
					c.update(func(s *State) { s.MicrophoneError = err.Error() })
				}
				return
			}
			// The device menu's meter moves while muted too: the agent sees the microphone works.
			if peak, ok := meter.Add(pcm); ok {
				c.st.micLevel.Store(mathFloat64bits(MeterLevel(peak)))
			}
			muted := a.muted.Load()
			mon := c.mon.Load()
			// A supervisor who barged in gets the agent's voice from an encoder of its own for as
			// long as they are on the call (the customer's packets hold the supervisor too): one
			// encoder per stream, or the supervisor's decoder would meet two encoders' packets.
			barging := mon != nil && mon.Mode() == MonitorBarge
			if barging && !muted {
				a.forwardAlone(c, mon, pcm)
			}
			out := pcm
			if voice := bargeVoice(mon); voice != nil {
				// The customer gets the agent and the supervisor mixed.
				a.mix = append(a.mix[:0], voice...)
				if !muted {
					mixInto(a.mix, pcm)
				}
				out = a.mix
			} else if muted {
				continue // muted: nothing leaves this machine
			}
			pkt, err := a.enc.Encode(out)
			if err != nil {
				c.log.Warn("opus encode", "err", err)
				continue
			}
			if mon != nil && !barging {
				mon.forward(mon.agent, pkt) // the packet the customer gets, as it is
			}
			if err := a.track.write(pkt, opus.FrameSamples); err != nil && !errors.Is(err, io.ErrClosedPipe) {
				c.log.Debug("audio write", "err", err)
			} else {
				c.st.bytesSentAudio.Add(int64(len(pkt)))
			}
			if r := c.rec.Load(); r != nil {
				r.writeAudio(recLocal, pkt)
			}
		}
	})
	return nil
}

// bargeVoice is the supervisor's next frame for the customer's mix; nil without a barging leg.
func bargeVoice(m *Monitor) []int16 {
	if m == nil {
		return nil
	}
	return m.bargeVoice()
}

// forwardAlone encodes the agent's voice without the supervisor's for the supervisor's leg.
func (a *audioSend) forwardAlone(c *Call, m *Monitor, pcm []int16) {
	if a.monEnc == nil {
		enc, err := opus.NewEncoder(32000)
		if err != nil {
			c.log.Warn("opus encoder (monitor)", "err", err)
			return
		}
		a.monEnc = enc
	}
	pkt, err := a.monEnc.Encode(pcm)
	if err != nil {
		return
	}
	m.forward(m.agent, pkt)
}
