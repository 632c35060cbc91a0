package app

import (
	"errors"
	"image"
	"log/slog"
	"sync"

	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// Built-in screen share: the customer's browser captures a screen, window or tab
// (getDisplayMedia) and sends it over WebRTC to the agent's Go media engine, since the agent's
// webview (WebKitGTK) has no WebRTC. The agent only receives: the call is made with no audio or
// video of its own, and the customer's frames reach the UI as a loopback MJPEG URL for an <img>.
// The customer's browser is the offerer (it has the track); the agent answers. SDP and trickled
// candidates travel as visual.signal frames through the hub.

// ErrScreenShareClosed indicates a signal for a screen share that has already ended.
var ErrScreenShareClosed = &wire.Error{Code: wire.ECONFLICT, Message: "screen share ended"}

// ErrBadSignal indicates a visual.signal the agent cannot use: an answer (the agent never
// offers), an empty SDP, or a signal of another engagement.
var ErrBadSignal = &wire.Error{Code: wire.EINVALID, Message: "unusable screen-share signal"}

// SignalSender sends one visual.signal to the hub (the customer's side).
type SignalSender func(wire.VisualSignal) error

// ScreenShareOptions configures a screen share's receive-only media call.
type ScreenShareOptions struct {
	// ICE is what the hub handed out in the engagement's visual.state; nil means no servers.
	ICE *wire.ICEConfig
	// LoopbackOnly gathers loopback candidates only (tests).
	LoopbackOnly bool
	// Bridge is where frames go to the UI; nil makes one owned by the share.
	Bridge *media.Bridge
	Logger *slog.Logger
}

// ScreenShareView is what the UI shows of a screen share.
type ScreenShareView struct {
	Visual wire.VisualID `json:"visual"`
	// URL is the loopback MJPEG stream of the customer's screen, for an <img src>.
	URL string `json:"url"`
	// Connection is the peer connection's state: new, connecting, connected, failed, closed.
	Connection string `json:"connection"`
	// Frames is true once the first frame arrived.
	Frames bool `json:"frames"`
	// Width and Height are the size of the last frame, in pixels.
	Width  int `json:"width"`
	Height int `json:"height"`
}

// ScreenShare is the agent's receive-only side of one built-in screen share. Its methods are
// safe for concurrent use.
type ScreenShare struct {
	id   wire.VisualID
	call *media.Call
	send SignalSender
	log  *slog.Logger

	mu sync.Mutex
	// view is the current state for the UI.
	view ScreenShareView
	// onChange is told of every view change (first frame, size, connection).
	onChange func(ScreenShareView)
	// onFrame, if set, sees every decoded frame (tests).
	onFrame func(*image.YCbCr)
	closed  bool
}

// NewScreenShare makes the receive-only call of engagement id; send carries our answer and
// candidates to the customer.
func NewScreenShare(id wire.VisualID, send SignalSender, opts ScreenShareOptions) (*ScreenShare, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	log := opts.Logger.With("visual", id)
	mo := media.Options{Speaker: "none", LoopbackOnly: opts.LoopbackOnly, Bridge: opts.Bridge, Logger: log,
		Width: 1280, Height: 720}
	if opts.ICE != nil {
		for _, s := range opts.ICE.Servers {
			mo.ICEServers = append(mo.ICEServers, media.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
		}
		mo.RelayOnly = opts.ICE.Policy == "relay"
	}
	call, err := media.NewCall(mo)
	if err != nil {
		return nil, err
	}
	s := &ScreenShare{id: id, call: call, send: send, log: log}
	s.view = ScreenShareView{Visual: id, URL: call.RemoteVideoURL(), Connection: "new"}
	call.OnLocalCandidate(func(c media.Candidate) {
		err := send(wire.VisualSignal{Visual: id, Candidate: &wire.ICECandidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: toInt(c.SDPMLineIndex)}})
		if err != nil {
			log.Debug("candidate not sent", "code", wire.ErrorCode(err))
		}
	})
	call.OnStateChange(func(st media.State) {
		s.change(func(v *ScreenShareView) { v.Connection = st.Connection })
	})
	call.OnRemoteFrame(func(img *image.YCbCr) {
		b := img.Bounds()
		s.mu.Lock()
		f := s.onFrame
		s.mu.Unlock()
		if f != nil {
			f(img)
		}
		s.change(func(v *ScreenShareView) { v.Frames, v.Width, v.Height = true, b.Dx(), b.Dy() })
	})
	return s, nil
}

// toInt converts pion's *uint16 line index to the wire's *int.
func toInt(p *uint16) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}

// change applies f to the view and tells onChange when it changed.
func (s *ScreenShare) change(f func(*ScreenShareView)) {
	s.mu.Lock()
	before := s.view
	f(&s.view)
	v, cb := s.view, s.onChange
	s.mu.Unlock()
	if v != before && cb != nil {
		cb(v)
	}
}

// OnChange sets the function told of every change of the view.
func (s *ScreenShare) OnChange(f func(ScreenShareView)) {
	s.mu.Lock()
	s.onChange = f
	s.mu.Unlock()
}

// OnFrame sets a function that sees every decoded frame; it must not keep img.
func (s *ScreenShare) OnFrame(f func(img *image.YCbCr)) {
	s.mu.Lock()
	s.onFrame = f
	s.mu.Unlock()
}

// View returns what the UI shows.
func (s *ScreenShare) View() ScreenShareView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.view
}

// HandleSignal applies the customer's offer (answering it) or candidate.
func (s *ScreenShare) HandleSignal(m wire.VisualSignal) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrScreenShareClosed
	}
	if m.Visual != s.id {
		return ErrBadSignal
	}
	switch {
	case m.Candidate != nil:
		var idx *uint16
		if m.Candidate.SDPMLineIndex != nil {
			if *m.Candidate.SDPMLineIndex < 0 || *m.Candidate.SDPMLineIndex > 64 {
				return ErrBadSignal
			}
			v := uint16(*m.Candidate.SDPMLineIndex)
			idx = &v
		}
		if m.Candidate.Candidate == "" {
			return nil // end of gathering
		}
		if err := s.call.AddRemoteCandidate(media.Candidate{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid, SDPMLineIndex: idx}); err != nil {
			return &wire.Error{Code: wire.EINVALID, Message: "bad candidate"}
		}
		return nil
	case m.SDP != nil && m.SDP.Type == "offer" && m.SDP.SDP != "":
		// The customer offers its captured track (first time, or again after picking another
		// surface); we answer receive-only.
		answer, err := s.call.HandleOffer(m.SDP.SDP)
		if err != nil {
			if errors.Is(err, media.ErrClosed) {
				return ErrScreenShareClosed
			}
			s.log.Warn("screen-share offer refused", "err", err)
			return &wire.Error{Code: wire.EINVALID, Message: "offer refused"}
		}
		return s.send(wire.VisualSignal{Visual: s.id, SDP: &wire.SDP{Type: "answer", SDP: answer}})
	default:
		return ErrBadSignal
	}
}

// Close ends the media call; the engagement's stop is the caller's to send.
func (s *ScreenShare) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.call.Close()
	s.change(func(v *ScreenShareView) { v.Connection = "closed" })
	return err
}
