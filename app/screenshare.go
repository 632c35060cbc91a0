package app

import (
	"errors"
	"image"
	"log/slog"
	"sync"

	"github.com/parleyhq/parley/internal/ops"
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
	// Connection is the peer connection's state.
	Connection media.ConnectionState `json:"connection"`
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
	// feed is the picture the UI shows. The share owns it (not the call) so that it can end the
	// stream the moment the share ends, before the UI is told and removes its <img>: a WebKitGTK
	// view whose multipart stream is torn down from under the element misbehaves.
	feed *media.Feed
	// bridge is the share's own render bridge when the options gave none; closed with the share.
	bridge *media.Bridge

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
	bridge, own := opts.Bridge, (*media.Bridge)(nil)
	if bridge == nil {
		b, err := media.NewBridge(log)
		if err != nil {
			return nil, err
		}
		bridge, own = b, b
	}
	mo.Bridge = bridge
	call, err := media.NewCall(mo)
	if err != nil {
		if own != nil {
			_ = own.Close()
		}
		return nil, err
	}
	s := &ScreenShare{id: id, call: call, send: send, log: log, feed: bridge.NewFeed(), bridge: own}
	s.view = ScreenShareView{Visual: id, URL: s.feed.URL(), Connection: "new"}
	call.OnLocalCandidate(func(c media.Candidate) {
		err := send(wire.VisualSignal{Visual: id, Candidate: wireCandidate(c)})
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
		s.feed.Publish(img)
		s.change(func(v *ScreenShareView) { v.Frames, v.Width, v.Height = true, b.Dx(), b.Dy() })
	})
	return s, nil
}

// change applies f to the view and tells onChange when it changed, under mu so that views
// are told in the order they changed (the connection and the first frame change on different
// goroutines).
func (s *ScreenShare) change(f func(*ScreenShareView)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.view.URL = s.feed.URL() // new after the bridge moved port (Bridge.EndStreams)
	before := s.view
	f(&s.view)
	if s.view != before && s.onChange != nil {
		s.onChange(s.view)
	}
}

// OnChange sets the function told of every change of the view. It runs with the share's lock
// held: it must not block nor call the share (the app queues an event).
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
	s.view.URL = s.feed.URL() // new after the bridge moved port (Bridge.EndStreams)
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

// EndPicture ends the picture's stream at once (every viewer's MJPEG response finishes); the call
// itself is closed by Close. It is quick and safe to call from any goroutine, more than once.
func (s *ScreenShare) EndPicture() { s.feed.Close() }

// Close ends the picture and the media call; the engagement's stop is the caller's to send.
func (s *ScreenShare) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.EndPicture()
	err := s.call.Close()
	if s.bridge != nil {
		_ = s.bridge.Close()
	}
	s.change(func(v *ScreenShareView) { v.Connection = media.ConnectionClosed })
	return err
}

// EventScreenShare carries a ScreenShareView whenever a built-in screen share's picture or
// connection changes.
const EventScreenShare = "visual.screenshare"

// screenShares runs the agent's side of every built-in screen share: it makes the receive-only
// call when an engagement becomes active, hands it the customer's signals, and closes it when the
// engagement ends. Hub frames come in on the goroutine that reads the hub (with the core
// locked), so the work is queued (ops.Queue).
type screenShares struct {
	// request sends a frame to the hub; emit tells the UI; opts are for each new call.
	request func(wire.Type, any) error
	emit    func(ScreenShareView)
	opts    ScreenShareOptions
	// bridge, if set, gives the render bridge the shares' pictures go through (the calls' one,
	// which knows whether the window can be seen).
	bridge func() (*media.Bridge, error)

	mu sync.Mutex
	// shares are the live screen shares by engagement.
	shares map[wire.VisualID]*ScreenShare
	// q runs the work hub frames bring, in arrival order, off the hub reader.
	q ops.Queue
}

func newScreenShares(request func(wire.Type, any) error, emit func(ScreenShareView), opts ScreenShareOptions) *screenShares {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &screenShares{request: request, emit: emit, opts: opts, shares: map[wire.VisualID]*ScreenShare{}}
}

// attachScreenShares hooks the built-in screen share to the visual service's hub frames; the
// service calls it once when it is made.
func (v *Visual) attachScreenShares() *screenShares {
	s := newScreenShares(func(t wire.Type, p any) error {
		_, err := v.c.request(t, p)
		return err
	}, func(view ScreenShareView) { v.c.events.emit(EventScreenShare, view) }, ScreenShareOptions{Logger: v.c.log})
	s.bridge = func() (*media.Bridge, error) { return v.c.calls.getBridge() }
	v.subscribe(s.onHub)
	return s
}

// do queues f.
func (s *screenShares) do(f func()) { s.q.Enqueue(f) }

// onHub takes one visual frame from the hub.
func (s *screenShares) onHub(ev wire.Envelope) {
	switch ev.Type {
	case wire.TypeVisualState:
		var v wire.Visual
		if ev.Unmarshal(&v) != nil || v.Kind != wire.VisualScreenShare || v.Provider != wire.ProviderBuiltinScreenShare {
			return
		}
		switch v.State {
		case wire.VisualActive:
			s.do(func() { s.start(v); s.renew(v) })
		case wire.VisualEnded:
			// The stream ends now, before the visual service tells the UI (it calls its
			// subscribers first), so the UI removes a picture whose stream is already over.
			s.mu.Lock()
			sh := s.shares[v.ID]
			s.mu.Unlock()
			if sh != nil {
				sh.EndPicture()
			}
			s.do(func() { s.end(v.ID) })
		}
	case wire.TypeVisualSignal:
		var m wire.VisualSignal
		if ev.Unmarshal(&m) != nil {
			return
		}
		s.do(func() {
			s.mu.Lock()
			sh := s.shares[m.Visual]
			s.mu.Unlock()
			if sh == nil {
				s.opts.Logger.Debug("screen-share signal for no share", "visual", m.Visual)
				return
			}
			if err := sh.HandleSignal(m); err != nil {
				s.opts.Logger.Info("screen-share signal refused", "visual", m.Visual, "code", wire.ErrorCode(err))
			}
		})
	}
}

func (s *screenShares) start(v wire.Visual) {
	s.mu.Lock()
	_, ok := s.shares[v.ID]
	s.mu.Unlock()
	if ok {
		return
	}
	opts := s.opts
	opts.ICE = v.ICE
	if s.bridge != nil && opts.Bridge == nil {
		br, err := s.bridge()
		if err != nil {
			s.opts.Logger.Warn("screen share: no render bridge", "visual", v.ID, "err", err)
			return
		}
		opts.Bridge = br
	}
	sh, err := NewScreenShare(v.ID, func(m wire.VisualSignal) error { return s.request(wire.TypeVisualSignal, m) }, opts)
	if err != nil {
		s.opts.Logger.Warn("screen share could not start", "visual", v.ID, "err", err)
		return
	}
	s.mu.Lock()
	s.shares[v.ID] = sh
	s.mu.Unlock()
	sh.mu.Lock()
	s.emit(sh.view)
	sh.onChange = s.emit
	sh.mu.Unlock()
}

// renew takes fresh TURN credentials the hub sent during a long screen share: the next ICE
// gathering uses them (the customer's browser, which offers, restarts ICE with its own).
func (s *screenShares) renew(v wire.Visual) {
	s.mu.Lock()
	sh := s.shares[v.ID]
	s.mu.Unlock()
	if sh == nil || v.ICE == nil {
		return
	}
	var servers []media.ICEServer
	for _, sv := range v.ICE.Servers {
		servers = append(servers, media.ICEServer{URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
	}
	if err := sh.call.SetICEServers(servers, v.ICE.Policy == "relay"); err != nil {
		s.opts.Logger.Warn("renewed ICE servers refused", "visual", v.ID, "err", err)
	}
}

func (s *screenShares) end(id wire.VisualID) {
	s.mu.Lock()
	sh := s.shares[id]
	delete(s.shares, id)
	s.mu.Unlock()
	if sh != nil {
		_ = sh.Close()
	}
}

// view returns the view of engagement id's screen share, if one is running.
func (s *screenShares) view(id wire.VisualID) (ScreenShareView, bool) {
	s.mu.Lock()
	sh := s.shares[id]
	s.mu.Unlock()
	if sh == nil {
		return ScreenShareView{}, false
	}
	return sh.View(), true
}

// closeAll ends every screen share (sign-out, app exit).
func (s *screenShares) closeAll() {
	s.mu.Lock()
	shares := s.shares
	s.shares = map[wire.VisualID]*ScreenShare{}
	s.mu.Unlock()
	for _, sh := range shares {
		_ = sh.Close()
	}
}

// ErrNoScreenShare indicates an engagement with no built-in screen share running.
var ErrNoScreenShare = &wire.Error{Code: wire.ENOTFOUND, Message: "no screen share is running"}

// ScreenShare returns the view of engagement id's built-in screen share: the MJPEG URL of the
// customer's screen for an <img>, and its state. The view also arrives as EventScreenShare.
func (v *Visual) ScreenShare(id wire.VisualID) (ScreenShareView, error) {
	if v.screens == nil {
		return ScreenShareView{}, ErrNoScreenShare
	}
	view, ok := v.screens.view(id)
	if !ok {
		return ScreenShareView{}, ErrNoScreenShare
	}
	return view, nil
}
