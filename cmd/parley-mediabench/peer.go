package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/parleyhq/parley/media"
)

// msg is one line between the benchmark and its peer process, which runs only the Go call so
// its CPU and memory are the call's alone (not chromedp's, not the benchmark's).
type msg struct {
	T       string           `json:"t"`
	SDP     string           `json:"sdp,omitempty"`
	Cand    *media.Candidate `json:"cand,omitempty"`
	Secs    int              `json:"secs,omitempty"`
	CPU     float64          `json:"cpu,omitempty"`
	RSS     float64          `json:"rss,omitempty"`
	SetupMs float64          `json:"setupMs,omitempty"`
	Frames  int64            `json:"frames,omitempty"`
	Err     string           `json:"err,omitempty"`
}

// runPeer is the peer process: it answers the benchmark's requests on stdin/stdout.
func runPeer() error {
	// PARLEY_PEER_CPUPROFILE names a file for a CPU profile of the whole peer process.
	if f := os.Getenv("PARLEY_PEER_CPUPROFILE"); f != "" {
		if w, err := os.Create(f); err == nil {
			_ = pprof.StartCPUProfile(w)
			defer pprof.StopCPUProfile()
		}
	}
	call, err := media.NewCall(goOptions(true))
	if err != nil {
		return err
	}
	defer call.Close()
	var wmu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	send := func(m msg) {
		wmu.Lock()
		_ = enc.Encode(m)
		wmu.Unlock()
	}
	var start time.Time
	call.OnLocalCandidate(func(c media.Candidate) { send(msg{T: "cand", Cand: &c}) })
	if os.Getenv("PARLEY_BENCH_DEBUG") != "" {
		call.OnStateChange(func(s media.State) { fmt.Fprintln(os.Stderr, time.Since(start), s) })
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m msg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return err
		}
		switch m.T {
		case "offer":
			start = time.Now()
			sdp, err := call.CreateOffer()
			send(msg{T: "offer", SDP: sdp, Err: errString(err)})
		case "answer":
			if err := call.HandleAnswer(m.SDP); err != nil {
				send(msg{T: "error", Err: err.Error()})
			}
		case "cand":
			_ = call.AddRemoteCandidate(*m.Cand)
		case "setup":
			_ = waitFor(20*time.Second, func() bool { return !call.Stats().FirstFrameAt.IsZero() })
			st := call.Stats()
			send(msg{T: "setup", SetupMs: float64(st.FirstFrameAt.Sub(start).Microseconds()) / 1000})
		case "measure":
			// The UI would watch the remote video: a viewer reads the bridge's MJPEG.
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); _ = readMJPEG(ctx, call.RemoteVideoURL(), func([]byte) {}) }()
			time.Sleep(time.Second)
			f0 := call.Stats().FramesDecoded
			c0 := selfCPU()
			time.Sleep(time.Duration(m.Secs) * time.Second)
			cpu := (selfCPU() - c0).Seconds() / float64(m.Secs) * 100
			rss := selfRSSMiB()
			frames := call.Stats().FramesDecoded - f0
			cancel()
			wg.Wait()
			send(msg{T: "result", CPU: cpu, RSS: rss, Frames: frames})
		case "quit":
			return nil
		}
	}
	return sc.Err()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// peerProc is the benchmark's handle on a peer process.
type peerProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	mu  sync.Mutex
	out chan msg
}

func startPeer() (*peerProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-peer")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &peerProc{cmd: cmd, in: in, out: make(chan msg, 256)}
	go func() {
		defer close(p.out)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m msg
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.out <- m
			}
		}
	}()
	return p, nil
}

func (p *peerProc) send(m msg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err = p.in.Write(append(b, '\n'))
	return err
}

// wait returns the next message of type t, handing candidates to onCand meanwhile.
func (p *peerProc) wait(t string, d time.Duration, onCand func(media.Candidate)) (msg, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case m, ok := <-p.out:
			if !ok {
				return msg{}, fmt.Errorf("peer process ended")
			}
			if m.T == "cand" && m.Cand != nil {
				onCand(*m.Cand)
				continue
			}
			if m.Err != "" {
				return m, fmt.Errorf("peer: %s", m.Err)
			}
			if m.T == t {
				return m, nil
			}
		case <-timer.C:
			return msg{}, fmt.Errorf("peer: no %q in %v", t, d)
		}
	}
}

func (p *peerProc) close() {
	_ = p.send(msg{T: "quit"})
	_ = p.in.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}
