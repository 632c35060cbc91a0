package media

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"

	"github.com/parleyhq/parley/media/codec/opus"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// A supervisor's leg: a second peer connection from the agent's call to a supervisor. The call
// forwards the customer's audio as it arrives and the agent's as it leaves, still encoded (Opus
// packets are copied into new RTP packets; nothing is decoded or encoded for listening), and
// takes the supervisor's voice back. What the supervisor says reaches the agent's speaker when
// whispering or barging, and goes into the audio the customer receives only when barging: in
// listen and whisper modes the supervisor's audio never meets the customer's encoder, so the
// customer cannot hear it whatever the supervisor's side does. The leg runs beside the call:
// packets go to it through a bounded queue that drops when full, so a slow or lost supervisor
// never holds up the call's audio, and closing it leaves the call as it was.

// MonitorMode is what the supervisor does on the leg.
type MonitorMode int32

// Monitor modes.
const (
	// MonitorListen: the supervisor hears both sides; nobody hears them.
	MonitorListen MonitorMode = iota
	// MonitorWhisper: the agent hears the supervisor too; the customer does not.
	MonitorWhisper
	// MonitorBarge: the customer hears the supervisor as well (mixed into the agent's audio).
	MonitorBarge
)

// Track ids (and stream ids) of the leg's two forwarded tracks, as the supervisor receives them.
const (
	MonitorCustomerTrack = "customer"
	MonitorAgentTrack    = "agent"
)

// MonitorOptions configures a supervisor's leg.
type MonitorOptions struct {
	Mode         MonitorMode
	ICEServers   []ICEServer
	RelayOnly    bool // only TURN candidates (a GCC organisation)
	LoopbackOnly bool // tests
}

// ErrMonitored indicates a second leg on a call that already has one.
var ErrMonitored = errors.New("media: the call already has a supervisor's leg")

// Monitor is the agent's end of a supervisor's leg. Its methods are safe for concurrent use.
type Monitor struct {
	c    *Call
	pc   *webrtc.PeerConnection
	mode atomic.Int32
	// customer and agent are the forwarded tracks.
	customer, agent *outTrack
	// fwd carries packets to the sending goroutine; full, packets are dropped.
	fwd chan fwdPacket
	// voice holds the supervisor's decoded 20 ms frames for the customer's mix (barge only).
	voice   chan []int16
	onVoice atomic.Pointer[func(pcm []int16)]
	// level is the EWMA RMS of the supervisor's decoded voice (float64 bits).
	level atomic.Uint64

	mu     sync.Mutex
	closed bool
	cands  remoteCandidates
	onCand func(Candidate)
	onConn func(ConnectionState)
	done   chan struct{}
	wg     sync.WaitGroup
}

type fwdPacket struct {
	t   *outTrack
	pkt []byte
}

// StartMonitor opens a supervisor's leg on the call. The agent's side offers (CreateOffer).
func (c *Call) StartMonitor(opts MonitorOptions) (*Monitor, error) {
	if c.isClosed() {
		return nil, ErrClosed
	}
	m := &Monitor{c: c, fwd: make(chan fwdPacket, 64), voice: make(chan []int16, 8), done: make(chan struct{})}
	m.mode.Store(int32(opts.Mode))
	me := &webrtc.MediaEngine{}
	if err := registerCodecs(me, nil); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
		return nil, err
	}
	pc, err := newPeerConnection(me, reg, c.log.With("leg", "monitor"), peerOptions{ICEServers: opts.ICEServers, RelayOnly: opts.RelayOnly, LoopbackOnly: opts.LoopbackOnly})
	if err != nil {
		return nil, err
	}
	m.pc = pc
	m.customer = newOutTrack(MonitorCustomerTrack, MonitorCustomerTrack, webrtc.RTPCodecTypeAudio, nil)
	m.agent = newOutTrack(MonitorAgentTrack, MonitorAgentTrack, webrtc.RTPCodecTypeAudio, nil)
	// The customer's track also brings the supervisor's voice back; the agent's only sends.
	for i, t := range []*outTrack{m.customer, m.agent} {
		dir := webrtc.RTPTransceiverDirectionSendrecv
		if i == 1 {
			dir = webrtc.RTPTransceiverDirectionSendonly
		}
		tr, err := pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: dir})
		if err != nil {
			_ = pc.Close()
			return nil, err
		}
		m.drainRTCP(tr.Sender())
	}
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		ci := cand.ToJSON()
		m.mu.Lock()
		f := m.onCand
		m.mu.Unlock()
		if f != nil {
			f(Candidate{Candidate: ci.Candidate, SDPMid: ci.SDPMid, SDPMLineIndex: ci.SDPMLineIndex})
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		c.log.Debug("monitor connection state", "state", s.String())
		m.mu.Lock()
		f := m.onConn
		m.mu.Unlock()
		if f != nil {
			f(ConnectionState(s.String()))
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() == webrtc.RTPCodecTypeAudio {
			m.goSafe(func() { m.receiveVoice(tr) })
		}
	})
	if !c.mon.CompareAndSwap(nil, m) {
		_ = pc.Close()
		return nil, ErrMonitored
	}
	if c.isClosed() { // closed meanwhile: Close may have missed m
		_ = m.Close()
		return nil, ErrClosed
	}
	m.goSafe(m.send)
	return m, nil
}

func (m *Monitor) goSafe(f func()) {
	m.wg.Add(1)
	go func() { defer m.wg.Done(); f() }()
}

// drainRTCP reads a sender's RTCP, which the interceptors need read.
func (m *Monitor) drainRTCP(s *webrtc.RTPSender) {
	m.goSafe(func() {
		for {
			if _, _, err := s.ReadRTCP(); err != nil {
				return
			}
		}
	})
}

// SetMode changes what the supervisor does; leaving barge, no more of their voice goes into
// the customer's audio from the next packet on.
func (m *Monitor) SetMode(mode MonitorMode) {
	m.mode.Store(int32(mode))
	for mode != MonitorBarge && len(m.voice) > 0 {
		select {
		case <-m.voice:
		default:
		}
	}
}

// Mode returns the leg's mode.
func (m *Monitor) Mode() MonitorMode { return MonitorMode(m.mode.Load()) }

// OnLocalCandidate sets the function that carries each local candidate to the supervisor.
func (m *Monitor) OnLocalCandidate(f func(Candidate)) {
	m.mu.Lock()
	m.onCand = f
	m.mu.Unlock()
}

// OnConnectionState sets the function told of the leg's connection state (logs).
func (m *Monitor) OnConnectionState(f func(ConnectionState)) {
	m.mu.Lock()
	m.onConn = f
	m.mu.Unlock()
}

// OnVoice sets a function that sees each decoded 20 ms of the supervisor's voice the agent
// hears (whisper and barge). It runs on the receive goroutine and must not keep pcm.
func (m *Monitor) OnVoice(f func(pcm []int16)) { m.onVoice.Store(&f) }

// VoiceLevel is the RMS (0..1, smoothed) of the supervisor's voice the agent hears.
func (m *Monitor) VoiceLevel() float64 { return math.Float64frombits(m.level.Load()) }

// CreateOffer returns the offer SDP for the supervisor.
func (m *Monitor) CreateOffer() (string, error) {
	if m.isClosed() {
		return "", ErrClosed
	}
	off, err := m.pc.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	if err := m.pc.SetLocalDescription(off); err != nil {
		return "", err
	}
	return off.SDP, nil
}

// HandleAnswer applies the supervisor's answer.
func (m *Monitor) HandleAnswer(sdp string) error {
	if m.isClosed() {
		return ErrClosed
	}
	if err := m.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return errors.Join(ErrBadState, err)
	}
	return m.cands.release(m.pc)
}

// AddRemoteCandidate adds a candidate from the supervisor, kept until the answer is applied.
func (m *Monitor) AddRemoteCandidate(cand Candidate) error {
	if m.isClosed() {
		return ErrClosed
	}
	return m.cands.add(m.pc, cand)
}

// Close ends the leg; the call goes on as it was.
func (m *Monitor) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.done)
	m.mu.Unlock()
	m.c.mon.CompareAndSwap(m, nil)
	err := m.pc.Close()
	m.wg.Wait()
	if p := m.c.player.Load(); p != nil {
		p.drop(monitorVoiceSource)
	}
	return err
}

func (m *Monitor) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// forward queues one encoded packet for track t; a full queue drops it.
func (m *Monitor) forward(t *outTrack, pkt []byte) {
	if len(pkt) == 0 {
		return
	}
	select {
	case m.fwd <- fwdPacket{t: t, pkt: append([]byte(nil), pkt...)}:
	default:
	}
}

// send writes forwarded packets onto the leg.
func (m *Monitor) send() {
	for {
		select {
		case <-m.done:
			return
		case p := <-m.fwd:
			_ = p.t.write(p.pkt, opus.FrameSamples)
		}
	}
}

// monitorVoiceSource is the player's source for the supervisor's voice.
const monitorVoiceSource = "supervisor"

// receiveVoice reads the supervisor's audio: in listen mode it is dropped unread; whispering
// the agent hears it; barging it also waits for the customer's mix.
func (m *Monitor) receiveVoice(tr *webrtc.TrackRemote) {
	dec, err := opus.NewDecoder()
	if err != nil {
		m.c.log.Warn("opus decoder (monitor)", "err", err)
		return
	}
	defer dec.Close()
	var level float64
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		mode := m.Mode()
		if mode == MonitorListen {
			continue
		}
		pcm, err := dec.Decode(pkt.Payload)
		if err != nil || len(pcm) != opus.FrameSamples {
			continue
		}
		level = 0.8*level + 0.2*Energy(pcm)
		m.level.Store(math.Float64bits(level))
		if f := m.onVoice.Load(); f != nil && *f != nil {
			(*f)(pcm)
		}
		if p := m.c.player.Load(); p != nil {
			p.pushTo(monitorVoiceSource, pcm)
		}
		if mode == MonitorBarge {
			frame := append([]int16(nil), pcm...)
			select {
			case m.voice <- frame:
			default: // the mix lags: drop the oldest, keep the newest
				select {
				case <-m.voice:
				default:
				}
				select {
				case m.voice <- frame:
				default:
				}
			}
		}
	}
}

// bargeVoice returns the supervisor's next frame for the customer's mix, nil when not barging
// or none waits.
func (m *Monitor) bargeVoice() []int16 {
	if m.Mode() != MonitorBarge {
		return nil
	}
	select {
	case f := <-m.voice:
		return f
	default:
		return nil
	}
}

// mixInto adds voice into pcm, clipping at full scale.
func mixInto(pcm, voice []int16) {
	for i := range pcm {
		if i >= len(voice) {
			return
		}
		v := int32(pcm[i]) + int32(voice[i])
		pcm[i] = int16(max(math.MinInt16, min(math.MaxInt16, v)))
	}
}

// BytesSent is what the leg has sent so far, RTP and RTCP with their headers (its upstream cost).
func (m *Monitor) BytesSent() int64 { return transportBytesSent(m.pc) }

// BytesSent is what the call's peer connection has sent so far, headers included.
func (c *Call) BytesSent() int64 { return transportBytesSent(c.pc) }

func transportBytesSent(pc *webrtc.PeerConnection) int64 {
	var n int64
	for _, st := range pc.GetStats() {
		if ts, ok := st.(webrtc.TransportStats); ok {
			n += int64(ts.BytesSent)
		}
	}
	return n
}
