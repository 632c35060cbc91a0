package resilience

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// relay is the only path between the two call namespaces: a UDP relay in the root namespace that
// holds each packet for a fixed delay (the kernel here has no netem). The test rewrites every ICE
// candidate to a relay port, so each peer only ever talks to the relay:
//
//	peer A (nsA) ⇄ veth ⇄ relay (root) ⇄ veth ⇄ peer B (nsB)
//
// For each real endpoint E the relay has a proxy socket P(E) on the other side's veth. A packet
// from F arriving at P(E) leaves, delay later, from P(F) (on E's side) to E, so each peer sees its
// packets come from the candidate it was given for the other.
type relay struct {
	t     *testing.T
	delay time.Duration

	mu sync.Mutex // guards the fields below
	// rootIPs are the relay's addresses, one per veth (a path change adds one).
	rootIPs []string
	// proxies are keyed by real endpoint and relay address, "ip:port@ip".
	proxies map[string]*proxy
	closed  bool
}

// proxy stands for one real endpoint on the other side.
type proxy struct {
	conn *net.UDPConn
	real *net.UDPAddr
	// out queues packets to send from this socket, in order (the delay is constant).
	out chan packet
}

type packet struct {
	due  time.Time
	data []byte
	to   *net.UDPAddr
}

func newRelay(t *testing.T, delay time.Duration, rootIPs ...string) *relay {
	r := &relay{t: t, delay: delay, rootIPs: rootIPs, proxies: map[string]*proxy{}}
	t.Cleanup(r.close)
	return r
}

func (r *relay) addRootIP(ip string) {
	r.mu.Lock()
	r.rootIPs = append(r.rootIPs, ip)
	r.mu.Unlock()
}

func (r *relay) close() {
	r.mu.Lock()
	r.closed = true
	ps := r.proxies
	r.proxies = map[string]*proxy{}
	r.mu.Unlock()
	for _, p := range ps {
		_ = p.conn.Close()
		close(p.out)
	}
}

// facing returns the relay address on addr's /24, or "".
func (r *relay) facing(ip string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	prefix := ip[:strings.LastIndexByte(ip, '.')+1]
	for i := len(r.rootIPs) - 1; i >= 0; i-- {
		if strings.HasPrefix(r.rootIPs[i], prefix) {
			return r.rootIPs[i]
		}
	}
	return ""
}

// proxyFor returns the proxy of real endpoint e bound on relay address bind, making it if needed.
func (r *relay) proxyFor(e *net.UDPAddr, bind string) (*proxy, error) {
	key := e.String() + "@" + bind
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.New("relay closed")
	}
	if p := r.proxies[key]; p != nil {
		return p, nil
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(bind)})
	if err != nil {
		return nil, err
	}
	p := &proxy{conn: conn, real: e, out: make(chan packet, 4096)}
	r.proxies[key] = p
	go p.send()
	go r.receive(p)
	return p, nil
}

// receive forwards what arrives at P(E) from F to E, through P(F) on E's side.
func (r *relay) receive(p *proxy) {
	buf := make([]byte, 1600)
	for {
		n, from, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		bind := r.facing(p.real.IP.String())
		if bind == "" {
			continue // E's path is gone
		}
		back, err := r.proxyFor(from, bind)
		if err != nil {
			return
		}
		pkt := packet{due: time.Now().Add(r.delay), data: append([]byte(nil), buf[:n]...), to: p.real}
		select {
		case back.out <- pkt:
		default: // queue full: the link drops it, as a full router queue would
		}
	}
}

func (p *proxy) send() {
	for pkt := range p.out {
		time.Sleep(time.Until(pkt.due))
		_, _ = p.conn.WriteToUDP(pkt.data, pkt.to)
	}
}

// rewrite turns a candidate line of one peer into the relay's stand-in for it, as seen from the
// other peer's address toward, or returns "" for candidates the relay does not carry (not UDP
// IPv4 host candidates on a test veth).
func (r *relay) rewrite(cand, toward string) string {
	f := strings.Fields(cand)
	if len(f) < 8 || !strings.EqualFold(f[2], "udp") {
		return ""
	}
	ip := net.ParseIP(f[4]).To4()
	port, err := strconv.Atoi(f[5])
	if ip == nil || err != nil || r.facing(ip.String()) == "" {
		return ""
	}
	bind := r.facing(toward)
	if bind == "" {
		return ""
	}
	p, err := r.proxyFor(&net.UDPAddr{IP: ip, Port: port}, bind)
	if err != nil {
		return ""
	}
	at := p.conn.LocalAddr().(*net.UDPAddr)
	f[4], f[5] = at.IP.String(), strconv.Itoa(at.Port)
	return strings.Join(f, " ")
}

// stripCandidates removes candidates from an SDP: they travel by trickle, through rewrite.
func stripCandidates(sdp string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(sdp, "\r\n") {
		if line == "" || strings.HasPrefix(line, "a=candidate:") || line == "a=end-of-candidates" {
			continue
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	return b.String()
}
