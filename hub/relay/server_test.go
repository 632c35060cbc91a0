package relay

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

const testSecret = "test-secret"

// clock is a settable test clock.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.t.Store(t.UnixNano()); return c }
func (c *clock) now() time.Time   { return time.Unix(0, c.t.Load()) }
func (c *clock) set(t time.Time)  { c.t.Store(t.UnixNano()) }

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: LevelTrace}))
	}
	return nil
}

// startServer starts an embedded TURN server on loopback with UDP and TCP listeners.
func startServer(t testing.TB, edit func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		Secret:    testSecret,
		UDP:       "127.0.0.1:0",
		TCP:       "127.0.0.1:0",
		RelayIP:   net.IPv4(127, 0, 0, 1),
		RelayBind: "127.0.0.1",
		Log:       testLog(t), // listening on loopback only: loopback peers are allowed

	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// dialTURN returns a pion TURN client over UDP, TCP or TLS, closed at cleanup.
func dialTURN(t *testing.T, network string, server net.Addr, user, pass string) *turn.Client {
	t.Helper()
	var conn net.PacketConn
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conn = c
	case "tcp":
		c, err := net.DialTimeout("tcp", server.String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn = turn.NewSTUNConn(c)
	case "tls":
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", server.String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // self-signed test certificate
		if err != nil {
			t.Fatal(err)
		}
		conn = turn.NewSTUNConn(c)
	}
	cl, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server.String(),
		TURNServerAddr: server.String(),
		Conn:           conn,
		Username:       user,
		Password:       pass,
		LoggerFactory:  LoggerFactory{Log: testLog(t)},
		RTO:            100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close(); _ = conn.Close() })
	return cl
}

// echoThrough sends a datagram from the relayed address to a loopback peer and back, as a
// media peer would see it. The messages are longer than 4 bytes: pion's TCP framing (v5.1.3)
// stalls on a ChannelData frame under 9 bytes until more bytes arrive, which media never sends.
func echoThrough(t *testing.T, relayed net.PacketConn) {
	t.Helper()
	const ping, pong = "ping from the client", "pong from the peer"
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	_ = peer.SetDeadline(time.Now().Add(5 * time.Second))
	_ = relayed.SetDeadline(time.Now().Add(5 * time.Second))

	// Writing to the peer makes the client install a permission for it first.
	if _, err := relayed.WriteTo([]byte(ping), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, from, err := peer.ReadFrom(buf)
	if err != nil || string(buf[:n]) != ping {
		t.Fatalf("peer read %q, %v; want ping", buf[:n], err)
	}
	if from.String() != relayed.LocalAddr().String() {
		t.Errorf("peer got it from %v; want the relayed address %v", from, relayed.LocalAddr())
	}
	if _, err := peer.WriteTo([]byte(pong), from); err != nil {
		t.Fatal(err)
	}
	n, _, err = relayed.ReadFrom(buf)
	if err != nil || string(buf[:n]) != pong {
		t.Fatalf("client read %q, %v; want pong", buf[:n], err)
	}
}

func TestAllocateAndRelay(t *testing.T) {
	cert := selfSigned(t)
	clk := newClock(time.Now())
	s := startServer(t, func(c *Config) {
		c.TLS = "127.0.0.1:0"
		c.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		c.MinPort, c.MaxPort = 40000, 40999
		c.Now = clk.now
	})
	addrs := map[string]net.Addr{"udp": s.UDPAddr(), "tcp": s.TCPAddr(), "tls": s.TLSAddr()}
	for _, network := range []string{"udp", "tcp", "tls"} {
		t.Run(network, func(t *testing.T) {
			ice := Issue(testSecret, nil, clk.now(), time.Minute, "call-1/"+network)
			cl := dialTURN(t, network, addrs[network], ice.Username, ice.Credential)
			relayed, err := cl.Allocate()
			if err != nil {
				t.Fatalf("Allocate over %s: %v", network, err)
			}
			defer relayed.Close()
			ra := relayed.LocalAddr().(*net.UDPAddr)
			if !ra.IP.Equal(net.IPv4(127, 0, 0, 1)) || ra.Port < 40000 || ra.Port > 40999 {
				t.Errorf("relayed address %v; want 127.0.0.1 in 40000-40999", ra)
			}
			echoThrough(t, relayed)

			found := false
			for _, a := range s.Allocations() {
				if a.ID == "call-1/"+network && a.Relayed.String() == ra.String() && a.Transport == network {
					found = true
				}
			}
			if !found {
				t.Errorf("Allocations() = %+v; want one for call-1/%s at %v", s.Allocations(), network, ra)
			}
		})
	}
	// The relay counts a datagram just after sending it, so the peer may answer first.
	if !eventually(func() bool {
		st := s.Stats()
		return st.AllocationsTotal == 3 && st.BytesToPeers == 60 && st.BytesFromPeers == 54 && st.AuthRefused == 0
	}) {
		t.Errorf("Stats() = %+v; want 3 allocations, 60 bytes to peers and 54 from them, nothing refused", s.Stats())
	}
}

func TestCredentialsRefused(t *testing.T) {
	clk := newClock(time.Unix(1_700_000_000, 0))
	s := startServer(t, func(c *Config) { c.Now = clk.now })
	good := Issue(testSecret, nil, clk.now(), time.Minute, "call-1/agent")
	tests := []struct {
		name       string
		user, pass string
	}{
		{"expired", good.Username, good.Credential},
		{"wrong secret", Issue("other-secret", nil, clk.now(), time.Hour, "x").Username, Issue("other-secret", nil, clk.now(), time.Hour, "x").Credential},
		{"long-term user", "alice", "alice"},
		{"forged expiry", Username(clk.now().Add(24*time.Hour), "call-1/agent"), good.Credential},
	}
	// The good credential has expired by the time it is used.
	clk.set(clk.now().Add(time.Minute))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Stats().AuthRefused
			cl := dialTURN(t, "udp", s.UDPAddr(), tt.user, tt.pass)
			if relayed, err := cl.Allocate(); err == nil {
				relayed.Close()
				t.Fatalf("Allocate(%q) succeeded; want it refused", tt.user)
			}
			if after := s.Stats().AuthRefused; after <= before {
				t.Errorf("AuthRefused %d -> %d; want it counted", before, after)
			}
		})
	}
	if n := s.Stats().Allocations; n != 0 {
		t.Errorf("%d allocations open; want 0", n)
	}

	// The same id with fresh credentials works.
	fresh := Issue(testSecret, nil, clk.now(), time.Minute, "call-1/agent")
	relayed, err := dialTURN(t, "udp", s.UDPAddr(), fresh.Username, fresh.Credential).Allocate()
	if err != nil {
		t.Fatalf("Allocate with fresh credentials: %v", err)
	}
	relayed.Close()
}

func TestServerConfig(t *testing.T) {
	lo := net.IPv4(127, 0, 0, 1)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no secret", Config{UDP: ":0", RelayIP: lo}},
		{"no listener", Config{Secret: "s", RelayIP: lo}},
		{"tls without certificate", Config{Secret: "s", TLS: ":0", RelayIP: lo}},
		{"no relay ip", Config{Secret: "s", UDP: ":0"}},
		{"unspecified relay ip", Config{Secret: "s", UDP: ":0", RelayIP: net.IPv4zero}},
		{"half a port range", Config{Secret: "s", UDP: ":0", RelayIP: lo, MinPort: 5000}},
		{"inverted port range", Config{Secret: "s", UDP: ":0", RelayIP: lo, MinPort: 6000, MaxPort: 5000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewServer(tt.cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("NewServer(%+v) = %v; want ErrInvalidConfig", tt.cfg, err)
			}
		})
	}
}

func TestServerLifecycle(t *testing.T) {
	// A port already taken: Start fails and leaves nothing open.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	s, err := NewServer(Config{Secret: "s", UDP: "127.0.0.1:0", TCP: taken.Addr().String(), RelayIP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Fatal("Start on a taken port succeeded")
	}
	if s.UDPAddr() != nil {
		t.Error("UDP socket left open after a failed Start")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Start(); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close = %v; want ErrClosed", err)
	}

	s = startServer(t, nil)
	if err := s.Start(); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start = %v; want ErrStarted", err)
	}
	// Close ends allocations held by connected TCP clients (goleak checks their goroutines).
	ice := Issue(testSecret, nil, time.Now(), time.Minute, "call-9/agent")
	relayed, err := dialTURN(t, "tcp", s.TCPAddr(), ice.Username, ice.Credential).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relayed.Close() // stops the client's refresh timers
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	r := s.Relay("na-1", "na", "turn.example.com")
	if len(r.URLs) != 2 || !bytes.Contains([]byte(r.URLs[0]), []byte("turn:turn.example.com:")) {
		t.Errorf("Relay().URLs = %q", r.URLs)
	}
}

// eventually reports whether cond becomes true within 5 seconds.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// selfSigned returns a throwaway certificate for 127.0.0.1.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "parley test relay"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in       string
		min, max uint16
		ok       bool
	}{
		{"", 0, 0, true},
		{"49152-65535", 49152, 65535, true},
		{"3478-3478", 3478, 3478, true},
		{"6000-5000", 0, 0, false},
		{"0-100", 0, 0, false},
		{"5000", 0, 0, false},
		{"5000-70000", 0, 0, false},
		{"a-b", 0, 0, false},
	}
	for _, tt := range tests {
		lo, hi, err := ParsePortRange(tt.in)
		if lo != tt.min || hi != tt.max || (err == nil) != tt.ok {
			t.Errorf("ParsePortRange(%q) = %d, %d, %v; want %d, %d, ok=%v", tt.in, lo, hi, err, tt.min, tt.max, tt.ok)
		}
	}
}
