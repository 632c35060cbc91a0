package nettest

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/wire"
	"github.com/pion/turn/v5"
)

// turnURL is a parsed turn: or turns: URL.
type turnURL struct {
	secure    bool   // turns:
	addr      string // host:port
	host      string
	transport string // "udp" or "tcp"
}

// errNotTURN indicates a URL that is not turn: or turns: (a stun: URL, say).
var errNotTURN = errors.New("nettest: not a TURN URL")

// parseTURN parses "turn:host:port?transport=udp" and its kin; turn: without a transport is UDP
// (RFC 7065), turns: is TLS over TCP.
func parseTURN(raw string) (turnURL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "turn" && u.Scheme != "turns") || u.Opaque == "" {
		return turnURL{}, errNotTURN
	}
	hostport, query, _ := strings.Cut(u.Opaque, "?")
	if query == "" {
		query = u.RawQuery
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return turnURL{}, errNotTURN
	}
	q, _ := url.ParseQuery(query)
	t := turnURL{secure: u.Scheme == "turns", addr: hostport, host: host, transport: q.Get("transport")}
	switch {
	case t.secure:
		t.transport = "tcp"
	case t.transport == "":
		t.transport = "udp"
	case t.transport != "udp" && t.transport != "tcp":
		return turnURL{}, errNotTURN
	}
	return t, nil
}

// urlsOf returns the relay's first UDP and first TCP (plain, else TLS) TURN URLs.
func urlsOf(rl wire.NetworkTestRelay) (udp, tcp *turnURL) {
	var tlsURL *turnURL
	for _, raw := range rl.URLs {
		t, err := parseTURN(raw)
		if err != nil {
			continue
		}
		switch {
		case t.transport == "udp" && udp == nil:
			udp = &t
		case t.transport == "tcp" && !t.secure && tcp == nil:
			tcp = &t
		case t.secure && tlsURL == nil:
			tlsURL = &t
		}
	}
	if tcp == nil {
		tcp = tlsURL
	}
	return udp, tcp
}

// allocation is one TURN allocation of the test, with what it took to make.
type allocation struct {
	client  *turn.Client
	conn    net.PacketConn // the socket or the STUN framing over TCP
	relayed net.PacketConn
	rtt     time.Duration // a STUN binding round trip to the relay
}

// close releases the allocation on the relay (a refresh with lifetime 0), then the client.
func (a *allocation) close() {
	if a == nil {
		return
	}
	if a.relayed != nil {
		_ = a.relayed.Close()
	}
	a.client.Close()
	_ = a.conn.Close()
}

// allocate reaches the relay at u with the test's credentials and allocates.
func allocate(ctx context.Context, u turnURL, rl wire.NetworkTestRelay, timeout time.Duration) (*allocation, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var conn net.PacketConn
	switch u.transport {
	case "udp":
		network := "udp4"
		if ip := net.ParseIP(u.host); ip != nil && ip.To4() == nil {
			network = "udp6"
		}
		c, err := (&net.ListenConfig{}).ListenPacket(ctx, network, ":0")
		if err != nil {
			return nil, err
		}
		conn = c
	default:
		d := &net.Dialer{}
		c, err := d.DialContext(ctx, "tcp", u.addr)
		if err != nil {
			return nil, err
		}
		if u.secure {
			tc := tls.Client(c, &tls.Config{ServerName: u.host, MinVersion: tls.VersionTLS12})
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = c.Close()
				return nil, err
			}
			c = tc
		}
		conn = turn.NewSTUNConn(c)
	}
	cl, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: u.addr, TURNServerAddr: u.addr, Conn: conn,
		Username: rl.Username, Password: rl.Credential, RTO: 200 * time.Millisecond,
	})
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	a := &allocation{client: cl, conn: conn}
	if err := cl.Listen(); err != nil {
		a.close()
		return nil, err
	}
	// Close on cancel: pion's binding request has no context.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	start := time.Now()
	_, err = cl.SendBindingRequest()
	a.rtt = time.Since(start)
	if err == nil {
		a.relayed, err = cl.AllocateWithContext(ctx)
	}
	if !stop() || err != nil {
		if err == nil {
			err = ctx.Err()
		}
		a.close()
		return nil, err
	}
	return a, nil
}

// relayLines reaches the relay over UDP and TCP at once, then sends the media-like flow through
// the best allocation; it closes every allocation before it returns.
func relayLines(ctx context.Context, rl wire.NetworkTestRelay, opt Options) []Line {
	udpURL, tcpURL := urlsOf(rl)
	var udp, tcp *allocation
	var udpErr, tcpErr error
	var wg sync.WaitGroup
	if udpURL != nil {
		wg.Go(func() { udp, udpErr = allocate(ctx, *udpURL, rl, opt.StepTimeout) })
	}
	if tcpURL != nil {
		wg.Go(func() { tcp, tcpErr = allocate(ctx, *tcpURL, rl, opt.StepTimeout) })
	}
	wg.Wait()
	defer udp.close()
	defer tcp.close()
	if udpErr != nil {
		opt.Log.Info("network test: relay over UDP", "relay", rl.ID, "err", udpErr)
	}
	if tcpErr != nil {
		opt.Log.Info("network test: relay over TCP", "relay", rl.ID, "err", tcpErr)
	}

	u := Line{Check: CheckRelayUDP, Relay: rl.ID, Region: rl.Region}
	t := Line{Check: CheckRelayTCP, Relay: rl.ID, Region: rl.Region}
	switch {
	case udp == nil && tcp == nil:
		u.Status, u.Code = Fail, CodeRelayDown
		t.Status, t.Code = Fail, CodeRelayDown
		return []Line{u, t, {Check: CheckMedia, Status: Fail, Code: CodeMediaFailed, Relay: rl.ID, Region: rl.Region}}
	case udp != nil:
		u.Status, u.Code, u.RTTMS = Pass, CodeUDPOK, ms(udp.rtt)
	default:
		u.Status, u.Code = Warn, CodeUDPBlocked
	}
	switch {
	case tcp != nil:
		t.Status, t.Code, t.RTTMS = Pass, CodeTCPOK, ms(tcp.rtt)
	case tcpURL == nil:
		t.Status, t.Code = Warn, CodeTCPNotOffered
	default:
		t.Status, t.Code = Warn, CodeTCPBlocked
	}
	// Calls prefer UDP; the flow takes the path a call would.
	a, transport := udp, "udp"
	if a == nil {
		a, transport = tcp, "tcp"
	}
	m := flow(ctx, a.relayed, opt)
	m.Transport, m.Relay, m.Region = transport, rl.ID, rl.Region
	return []Line{u, t, m}
}

// Flow packets: a header (magic, sequence number, send time) padded to flowPacket bytes, sent
// every flowTick as a video encoder sends a frame's packets.
const (
	flowPacket = 1000
	flowTick   = 20 * time.Millisecond
	flowGrace  = time.Second // how long late packets are waited for after the last one
)

var flowMagic = [4]byte{'P', 'R', 'L', 'Y'}

// flow sends a paced, media-like flow from the relayed address to itself: up to the relay and
// back down the same path. It measures the round trip, the loss and the bitrate that made it
// both ways.
func flow(ctx context.Context, pc net.PacketConn, opt Options) Line {
	fail := Line{Check: CheckMedia, Status: Fail, Code: CodeMediaFailed}
	self := pc.LocalAddr()
	base := time.Now()
	packet := func(seq uint32) []byte {
		b := make([]byte, flowPacket)
		copy(b, flowMagic[:])
		binary.BigEndian.PutUint32(b[4:], seq)
		binary.BigEndian.PutUint64(b[8:], uint64(time.Since(base))) //nolint:gosec // positive
		return b
	}

	type arrival struct {
		seq uint32
		rtt time.Duration
	}
	arrivals := make(chan arrival, 4096)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer close(arrivals)
		buf := make([]byte, 1500)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 16 || [4]byte(buf[:4]) != flowMagic {
				continue
			}
			sent := time.Duration(binary.BigEndian.Uint64(buf[8:])) //nolint:gosec // ours
			select {
			case arrivals <- arrival{seq: binary.BigEndian.Uint32(buf[4:]), rtt: time.Since(base) - sent}:
			default:
			}
		}
	}()
	stopReader := func() {
		_ = pc.SetReadDeadline(time.Now())
		<-readerDone
	}

	// A first packet installs the relay's permission for our own relayed address; the timed
	// flow starts once it is back.
	_ = pc.SetReadDeadline(time.Now().Add(opt.StepTimeout))
	if _, err := pc.WriteTo(packet(0), self); err != nil {
		stopReader()
		opt.Log.Info("network test: flow", "err", err)
		return fail
	}
	select {
	case _, ok := <-arrivals:
		if !ok {
			stopReader()
			return fail
		}
	case <-ctx.Done():
		stopReader()
		return fail
	}

	// The flow: bytes per tick for opt.Kbps.
	perTick := opt.Kbps * 1000 / 8 * int(flowTick) / int(time.Second)
	start := time.Now()
	_ = pc.SetReadDeadline(start.Add(opt.Flow + flowGrace))
	tick := time.NewTicker(flowTick)
	var sent uint32
	credit := 0
send:
	for time.Since(start) < opt.Flow {
		credit += perTick
		for ; credit >= flowPacket; credit -= flowPacket {
			sent++
			if _, err := pc.WriteTo(packet(sent), self); err != nil {
				opt.Log.Info("network test: flow write", "err", err)
				break send
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			break send
		}
	}
	tick.Stop()
	elapsed := time.Since(start)

	var rtts []time.Duration
	seen := map[uint32]bool{}
	for a := range arrivals {
		if a.seq == 0 || a.seq > sent || seen[a.seq] {
			continue
		}
		seen[a.seq] = true
		rtts = append(rtts, a.rtt)
		if len(seen) == int(sent) {
			stopReader()
		}
	}
	if ctx.Err() != nil || sent == 0 || len(seen) == 0 {
		return fail
	}
	got := len(seen)
	l := Line{Check: CheckMedia, Status: Pass, Code: CodeMediaOK,
		RTTMS:   ms(median(rtts)),
		LossPct: float64(int(sent)-got) * 100 / float64(sent),
		Kbps:    int(float64(got*flowPacket*8) / elapsed.Seconds() / 1000),
	}
	if l.LossPct > lossyPct || median(rtts) > slowMedia || l.Kbps < lowKbps {
		l.Status, l.Code = Warn, CodeMediaPoor
	}
	opt.Log.Info("network test: flow", "sent", sent, "back", got, "rtt", median(rtts), "kbps", l.Kbps)
	return l
}

// String describes a line for logs and test failures.
func (l Line) String() string {
	return fmt.Sprintf("%s %s %s rtt=%dms loss=%.1f%% kbps=%d via=%s relay=%s/%s", l.Check, l.Status, l.Code, l.RTTMS, l.LossPct, l.Kbps, l.Transport, l.Relay, l.Region)
}
