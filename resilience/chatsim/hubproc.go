package chatsim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// HubProc is a parley-hub binary running as its own process.
type HubProc struct {
	// URL is the base URL the hub printed.
	URL string
	cmd *exec.Cmd
	// stderr keeps the hub's logs for a failing test to show.
	stderr *lockedBuffer
	exited chan struct{}
}

// StartHub runs bin on the database db listening on addr, prefixed by prefix (e.g. "ip netns
// exec NS": it execs, so the hub keeps the process id), and returns once the hub listens.
func StartHub(ctx context.Context, bin, db, addr string, prefix ...string) (*HubProc, error) {
	return startHub(ctx, bin, db, addr, nil, prefix)
}

// StartHubFlags is StartHub with more of the hub's flags (e.g. -db-synchronous normal).
func StartHubFlags(ctx context.Context, bin, db, addr string, flags ...string) (*HubProc, error) {
	return startHub(ctx, bin, db, addr, flags, nil)
}

// StartNode runs bin as cluster node name on the PostgreSQL database dsn (see docs/cluster.md),
// listening on addr, and returns once it listens.
func StartNode(ctx context.Context, bin, dsn, addr, name string) (*HubProc, error) {
	return startHub(ctx, bin, dsn, addr, []string{"-node", name}, nil)
}

func startHub(ctx context.Context, bin, db, addr string, extra, prefix []string) (*HubProc, error) {
	args := append(append([]string(nil), prefix...), bin, "-addr", addr, "-db", db, "-log-format", "json", "-offer-timeout", "20s",
		"-rate-limits=false") // a simulation runs many customers from one address, faster than people
	args = append(args, extra...)
	cmd := exec.Command(args[0], args[1:]...)
	h := &HubProc{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = h.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() { _ = cmd.Wait(); close(h.exited) }()
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-lines:
		url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
		if !ok {
			h.Kill()
			return nil, fmt.Errorf("hub printed %q; logs:\n%s", line, h.Logs())
		}
		h.URL = url
		return h, nil
	case <-ctx.Done():
		h.Kill()
		return nil, fmt.Errorf("hub did not start: %w; logs:\n%s", ctx.Err(), h.Logs())
	}
}

// PID returns the hub's process id.
func (h *HubProc) PID() int { return h.cmd.Process.Pid }

// Kill SIGKILLs the hub and waits for it to die.
func (h *HubProc) Kill() {
	_ = h.cmd.Process.Signal(syscall.SIGKILL)
	<-h.exited
}

// Stop asks the hub to shut down gracefully (SIGTERM), and kills it after 15 s.
func (h *HubProc) Stop() {
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
	case <-time.After(15 * time.Second):
		h.Kill()
	}
}

// Logs returns what the hub logged.
func (h *HubProc) Logs() string { return h.stderr.String() }

// Usage is a process's CPU time and memory, from /proc.
type Usage struct {
	// CPU is user plus system time.
	CPU time.Duration
	// RSS is the resident set now; PeakRSS its high-water mark.
	RSS, PeakRSS int64
}

// ReadUsage reads the hub's CPU time and memory.
func (h *HubProc) ReadUsage() (Usage, error) { return ReadUsage(h.PID()) }

// ReadUsage reads a process's CPU time and memory from /proc.
func ReadUsage(pid int) (Usage, error) {
	var u Usage
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return u, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return u, errors.New("short /proc stat")
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	u.CPU = time.Duration(utime+stime) * time.Second / ticks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			u.RSS = kb << 10
		case "VmHWM":
			u.PeakRSS = kb << 10
		}
	}
	return u, nil
}

// lockedBuffer is a bytes.Buffer safe for a writer and readers in different goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 8<<20 { // keep memory bounded under load
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
