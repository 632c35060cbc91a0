package chatsim

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Balancer is a TCP load balancer on loopback in front of hub nodes, as HAProxy in TCP mode
// would be: each new connection goes to the next node in turn (one that refuses goes to the
// next).
type Balancer struct {
	ln    net.Listener
	mu    sync.Mutex
	addrs []string
	next  int
	wg    sync.WaitGroup
}

// NewBalancer listens on a free loopback port and spreads connections over the nodes' base URLs.
func NewBalancer(urls []string) (*Balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Balancer{ln: ln}
	for _, u := range urls {
		b.addrs = append(b.addrs, strings.TrimPrefix(u, "http://"))
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.serve(c)
		}
	}()
	return b, nil
}

// URL is the balancer's base URL.
func (b *Balancer) URL() string { return "http://" + b.ln.Addr().String() }

// Close stops accepting connections (those open stay until either end closes them).
func (b *Balancer) Close() error {
	err := b.ln.Close()
	b.wg.Wait()
	return err
}

func (b *Balancer) serve(c net.Conn) {
	defer c.Close()
	for range len(b.addrs) {
		b.mu.Lock()
		addr := b.addrs[b.next%len(b.addrs)]
		b.next++
		b.mu.Unlock()
		up, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			continue
		}
		defer up.Close()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		_, _ = io.Copy(c, up)
		return
	}
}

// TreeUsage reads the CPU time of process pid and its children (a PostgreSQL server: the
// postmaster and its backends, which each start their own session), with what its exited
// children used. Its RSS fields stay 0: summing the processes' resident sets would count the
// memory they share (PostgreSQL's shared buffers) once per process.
func TreeUsage(pid int) (Usage, error) {
	var total Usage
	dirs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return total, err
	}
	found := false
	for _, p := range dirs {
		stat, err := os.ReadFile(p)
		if err != nil {
			continue // it exited meanwhile
		}
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		id, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if len(f) < 22 || (id != pid && f[1] != strconv.Itoa(pid)) {
			continue
		}
		u, err := ReadUsage(id)
		if err != nil {
			continue
		}
		if id == pid {
			cutime, _ := strconv.ParseInt(f[13], 10, 64)
			cstime, _ := strconv.ParseInt(f[14], 10, 64)
			u.CPU += time.Duration(cutime+cstime) * time.Second / 100
			found = true
		}
		total.CPU += u.CPU
	}
	if !found {
		return total, errors.New("chatsim: no such process")
	}
	return total, nil
}
