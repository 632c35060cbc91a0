package resilience

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/media"
)

// peerEnv, when set, makes the test binary run as one peer of a call (see runPeer) instead of
// running tests: the call tests start it inside a network namespace.
const peerEnv = "PARLEY_RESILIENCE_PEER"

// peerMsg is one line between the test and a peer process: a command (Op) to the peer, or an
// event (Ev) from it.
type peerMsg struct {
	Op string `json:"op,omitempty"`
	Ev string `json:"ev,omitempty"`
	// SDP is an offer or answer; Type says which.
	SDP  string           `json:"sdp,omitempty"`
	Type string           `json:"type,omitempty"`
	Cand *media.Candidate `json:"cand,omitempty"`
	// At is when a frame was decoded (Unix ns), Captured when it was drawn (from its stamp, Unix
	// ms: both processes share the machine's clock).
	At       int64        `json:"at,omitempty"`
	Captured int64        `json:"captured,omitempty"`
	State    *media.State `json:"state,omitempty"`
	Stats    *media.Stats `json:"stats,omitempty"`
	Err      string       `json:"err,omitempty"`
}

// runPeer is one side of a call with the test-pattern camera and tone, driven over stdin and
// reporting on stdout (one JSON line each). It gathers candidates on every interface of its
// namespace: the veth the test gave it.
func runPeer() int {
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	emit := func(m peerMsg) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(m)
	}
	c, err := media.NewCall(media.Options{Audio: true, Video: true, Camera: media.TestPatternID, Microphone: media.TestPatternID,
		Speaker: "none", Width: 320, Height: 240, FPS: 30})
	if err != nil {
		emit(peerMsg{Ev: "error", Err: err.Error()})
		return 1
	}
	defer c.Close()
	c.OnLocalCandidate(func(cand media.Candidate) { emit(peerMsg{Ev: "cand", Cand: &cand}) })
	c.OnStateChange(func(s media.State) { emit(peerMsg{Ev: "state", State: &s}) })
	c.OnRemoteFrame(func(img *image.YCbCr) {
		m := peerMsg{Ev: "frame", At: time.Now().UnixNano()}
		if t, _, ok := media.ReadStamp(img); ok {
			m.Captured = t.UnixMilli()
		}
		emit(m)
	})
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m peerMsg
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		var sdp string
		var err error
		switch m.Op {
		case "offer":
			sdp, err = c.CreateOffer()
			if err == nil {
				emit(peerMsg{Ev: "sdp", Type: "offer", SDP: sdp})
			}
		case "restart":
			sdp, err = c.RestartICE()
			if err == nil {
				emit(peerMsg{Ev: "sdp", Type: "offer", SDP: sdp})
			}
		case "handle-offer":
			sdp, err = c.HandleOffer(m.SDP)
			if err == nil {
				emit(peerMsg{Ev: "sdp", Type: "answer", SDP: sdp})
			}
		case "handle-answer":
			err = c.HandleAnswer(m.SDP)
		case "cand":
			err = c.AddRemoteCandidate(*m.Cand)
		case "stats":
			st := c.Stats()
			emit(peerMsg{Ev: "stats", Stats: &st})
		case "quit":
			return 0
		}
		if err != nil {
			emit(peerMsg{Ev: "error", Err: fmt.Sprintf("%s: %v", m.Op, err)})
		}
	}
	return 0
}

// peer is a peer process as the test sees it.
type peer struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	in   io.WriteCloser
	inMu sync.Mutex
	// events receives everything but frames.
	events chan peerMsg

	mu sync.Mutex // guards the fields below
	// frames are the decode times of remote frames (Unix ns), captured their capture times
	// (Unix ms, 0 when unreadable), and g2g the glass-to-glass latencies.
	frames, captured []int64
	g2g              []time.Duration
	// state is the last connection state reported.
	state string
	// states logs every state change with its time.
	states []stateAt
	exited chan struct{}
}

type stateAt struct {
	at    time.Time
	state string
}

// startPeer runs the test binary as a peer in ns.
func startPeer(t *testing.T, name string, ns *netns) *peer {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append(ns.exec(), self)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), peerEnv+"=1")
	p := &peer{t: t, name: name, cmd: cmd, events: make(chan peerMsg, 1024), exited: make(chan struct{})}
	if p.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m peerMsg
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			switch m.Ev {
			case "frame":
				p.mu.Lock()
				p.frames = append(p.frames, m.At)
				p.captured = append(p.captured, m.Captured)
				if m.Captured > 0 {
					p.g2g = append(p.g2g, time.Unix(0, m.At).Sub(time.UnixMilli(m.Captured)))
				}
				p.mu.Unlock()
				continue
			case "state":
				p.mu.Lock()
				if string(m.State.Connection) != p.state {
					p.state = string(m.State.Connection)
					p.states = append(p.states, stateAt{time.Now(), p.state})
				}
				p.mu.Unlock()
			}
			select {
			case p.events <- m:
			default: // nobody is listening for state events now
			}
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		p.send(peerMsg{Op: "quit"})
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() && stderr.Len() > 0 {
			s := stderr.String()
			if len(s) > 2000 {
				s = s[len(s)-2000:]
			}
			t.Logf("%s stderr:\n%s", name, s)
		}
	})
	return p
}

func (p *peer) send(m peerMsg) {
	data, _ := json.Marshal(m)
	p.inMu.Lock()
	defer p.inMu.Unlock()
	_, _ = p.in.Write(append(data, '\n'))
}

// frameTimes returns the decode times of remote frames since since.
func (p *peer) frameTimes(since time.Time) []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []time.Time
	for _, ns := range p.frames {
		if at := time.Unix(0, ns); !at.Before(since) {
			out = append(out, at)
		}
	}
	return out
}

// framesMadeSince returns the decode times of remote frames captured at or after since.
func (p *peer) framesMadeSince(since time.Time) []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []time.Time
	for i, ms := range p.captured {
		if ms >= since.UnixMilli() {
			out = append(out, time.Unix(0, p.frames[i]))
		}
	}
	return out
}

// connState returns the last reported connection state.
func (p *peer) connState() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// stateSince returns when the peer first entered state after t (zero if it did not).
func (p *peer) stateSince(state string, t time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.states {
		if s.state == state && !s.at.Before(t) {
			return s.at
		}
	}
	return time.Time{}
}

// glassToGlass returns the capture → decode latencies recorded since the n-th frame.
func (p *peer) glassToGlass() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.g2g...)
}
