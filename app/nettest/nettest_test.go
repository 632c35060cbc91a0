package nettest_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/nettest"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/internal/hubtest"
	"github.com/parleyhq/parley/wire"
)

// rig is a real hub with the demo organisation and its embedded relay on loopback, and agent1
// signed in over a real WebSocket.
type rig struct {
	s   *hub.Server
	api nettest.HubAPI
}

func newRig(t *testing.T, tweak func(*hub.Config)) *rig {
	t.Helper()
	cfg := hub.Config{Demo: true, TURNUDP: "127.0.0.1:0", TURNTCP: "127.0.0.1:0", TURNRegion: "na"}
	if tweak != nil {
		tweak(&cfg)
	}
	s := hubtest.Start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	login, err := client.Login(ctx, s.URL(), hub.DemoOrg, "agent1", hub.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Dial(ctx, s.URL(), login.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &rig{s: s, api: nettest.HubAPI{URL: s.URL(), Token: login.Token, Org: hub.DemoOrg,
		PingFunc: func(ctx context.Context) error { _, err := conn.Request(ctx, wire.TypePing, nil); return err }}}
}

// line returns the report's line for a check.
func line(t *testing.T, r nettest.Report, c nettest.Check) nettest.Line {
	t.Helper()
	for _, l := range r.Lines {
		if l.Check == c {
			return l
		}
	}
	t.Fatalf("report has no %s line: %v", c, r.Lines)
	return nettest.Line{}
}

// want checks a line's status and code.
func want(t *testing.T, r nettest.Report, c nettest.Check, status nettest.Status, code string) nettest.Line {
	t.Helper()
	l := line(t, r, c)
	if l.Status != status || l.Code != code {
		t.Errorf("%s line = %v; want %s %s", c, l, status, code)
	}
	return l
}

// noAllocations waits until the embedded relay holds no allocation.
func noAllocations(t *testing.T, s *hub.Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		allocs := s.TURN().Allocations()
		if len(allocs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d allocations left on the relay after the test: %+v", len(allocs), allocs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func run(t *testing.T, rg *rig, opt nettest.Options) nettest.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if opt.Flow == 0 {
		opt.Flow = time.Second
	}
	r := nettest.NewTester(rg.api, opt).Run(ctx)
	t.Logf("report: %v", r.Lines)
	return r
}

// TestAllPass: on loopback every line passes; the flow goes through UDP, and the test leaves
// nothing on the relay.
func TestAllPass(t *testing.T) {
	rg := newRig(t, nil)
	r := run(t, rg, nettest.Options{})
	want(t, r, nettest.CheckHub, nettest.Pass, nettest.CodeHubOK)
	want(t, r, nettest.CheckRelayUDP, nettest.Pass, nettest.CodeUDPOK)
	want(t, r, nettest.CheckRelayTCP, nettest.Pass, nettest.CodeTCPOK)
	m := want(t, r, nettest.CheckMedia, nettest.Pass, nettest.CodeMediaOK)
	if m.Transport != "udp" || m.Relay != "embedded" || m.Kbps < 600 || m.LossPct > 5 {
		t.Errorf("media line = %v; want ~1500 kbit/s over UDP through the embedded relay", m)
	}
	if r.Worst() != nettest.Pass {
		t.Errorf("Worst() = %s; want pass", r.Worst())
	}
	noAllocations(t, rg.s)
	if st := rg.s.TURN().Stats(); st.AllocationsTotal < 2 || st.BytesToPeers < 100_000 {
		t.Errorf("relay stats %+v; want both allocations and the flow through it", st)
	}
}

// TestGovernmentRelay: a gcc organisation's test reaches the North-American relay and says so;
// with only a European relay it fails, as its calls would.
func TestGovernmentRelay(t *testing.T) {
	for _, tt := range []struct {
		relayRegion string
		check       nettest.Check
		status      nettest.Status
		code        string
	}{
		{"na", nettest.CheckRegion, nettest.Pass, nettest.CodeRegionNA},
		{"eu", nettest.CheckRelayUDP, nettest.Fail, nettest.CodeGovNoRelay},
	} {
		t.Run(tt.relayRegion, func(t *testing.T) {
			rg := newRig(t, func(c *hub.Config) { c.TURNRegion = tt.relayRegion })
			if err := rg.s.SetOrgCalls(context.Background(), hub.DemoOrg, wire.CallsVoiceVideo, "gcc"); err != nil {
				t.Fatal(err)
			}
			r := run(t, rg, nettest.Options{Flow: 300 * time.Millisecond})
			l := want(t, r, tt.check, tt.status, tt.code)
			if tt.status == nettest.Pass && (l.Region != "na" || l.Relay != "embedded") {
				t.Errorf("region line = %v; want the embedded relay in na", l)
			}
			noAllocations(t, rg.s)
		})
	}
}

// TestRelayDown: a relay that answers neither over UDP nor TCP fails the relay and media lines
// with their code (the UI's sentence), and the hub line still passes.
func TestRelayDown(t *testing.T) {
	rg := newRig(t, nil)
	if err := rg.s.TURN().Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := run(t, rg, nettest.Options{StepTimeout: 2 * time.Second})
	want(t, r, nettest.CheckHub, nettest.Pass, nettest.CodeHubOK)
	want(t, r, nettest.CheckRelayUDP, nettest.Fail, nettest.CodeRelayDown)
	want(t, r, nettest.CheckRelayTCP, nettest.Fail, nettest.CodeRelayDown)
	want(t, r, nettest.CheckMedia, nettest.Fail, nettest.CodeMediaFailed)
	if r.Worst() != nettest.Fail {
		t.Errorf("Worst() = %s; want fail", r.Worst())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the test took %v against a relay that is down; want it bounded by the step timeout", d)
	}
}

// TestStartedTwice: a second test started while one runs cancels it; both return, the second
// passes, and no allocation is left.
func TestStartedTwice(t *testing.T) {
	rg := newRig(t, nil)
	tester := nettest.NewTester(rg.api, nettest.Options{Flow: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var first nettest.Report
	var wg sync.WaitGroup
	wg.Go(func() { first = tester.Run(ctx) })
	// Start the second once the first holds its allocations.
	deadline := time.Now().Add(10 * time.Second)
	for len(rg.s.TURN().Allocations()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	second := tester.Run(ctx)
	wg.Wait()
	t.Logf("first: %v\nsecond: %v", first.Lines, second.Lines)
	want(t, first, nettest.CheckHub, nettest.Fail, nettest.CodeCancelled)
	want(t, second, nettest.CheckMedia, nettest.Pass, nettest.CodeMediaOK)
	noAllocations(t, rg.s)
}

// TestUDPBlocked runs in a network namespace of its own whose packet filter drops UDP to the
// relay's port: the test reports UDP blocked, TCP working, and the flow through TCP.
func TestUDPBlocked(t *testing.T) {
	const port = "3478"
	if os.Getenv("PARLEY_NETTEST_NETNS") == "" {
		inNetns(t, "TestUDPBlocked")
		return
	}
	nft(t, "add table inet prl",
		"add chain inet prl out { type filter hook output priority 0; policy accept; }",
		"add rule inet prl out udp dport "+port+" drop")
	rg := newRig(t, func(c *hub.Config) { c.TURNUDP, c.TURNTCP = "127.0.0.1:"+port, "127.0.0.1:"+port })
	r := run(t, rg, nettest.Options{StepTimeout: 2 * time.Second})
	want(t, r, nettest.CheckHub, nettest.Pass, nettest.CodeHubOK)
	want(t, r, nettest.CheckRelayUDP, nettest.Warn, nettest.CodeUDPBlocked)
	want(t, r, nettest.CheckRelayTCP, nettest.Pass, nettest.CodeTCPOK)
	m := want(t, r, nettest.CheckMedia, nettest.Pass, nettest.CodeMediaOK)
	if m.Transport != "tcp" {
		t.Errorf("media line = %v; want the flow over TCP", m)
	}
	if r.Worst() != nettest.Warn {
		t.Errorf("Worst() = %s; want warn", r.Worst())
	}
	noAllocations(t, rg.s)
}

// inNetns runs the named test again in a new user and network namespace (like `unshare -rn`),
// where it may set a packet filter of its own.
func inNetns(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft (apt nftables)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (apt iproute2)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "PARLEY_NETTEST_NETNS=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(err.Error(), "operation not permitted") {
		t.Skipf("no user namespaces here: %v", err)
	}
	t.Logf("in a network namespace:\n%s", out)
	if err != nil || strings.Contains(string(out), "--- SKIP") {
		t.Fatalf("%s in its network namespace: %v", name, err)
	}
}

// nft brings loopback up and applies nftables commands in this (the test's own) namespace.
func nft(t *testing.T, cmds ...string) {
	t.Helper()
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	for _, c := range cmds {
		if out, err := exec.Command("nft", strings.Fields(c)...).CombinedOutput(); err != nil {
			t.Fatalf("nft %s: %v\n%s", c, err, out)
		}
	}
}

// TestEveryRelay: each relay of the plan is tested, not only the first: with the embedded relay
// working and a second North-American relay that answers nothing, the report has both relays'
// lines; the second one's only warn, since calls fall back on the first.
func TestEveryRelay(t *testing.T) {
	dead, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := dead.LocalAddr().String()
	_ = dead.Close() // nobody answers there now, over UDP or TCP
	second := relay.Relay{ID: "na-2", Region: "na", Secret: "second-secret",
		URLs: []string{"turn:" + addr + "?transport=udp", "turn:" + addr + "?transport=tcp"}}
	rg := newRig(t, func(c *hub.Config) { c.Relays = []relay.Relay{second} })
	r := run(t, rg, nettest.Options{StepTimeout: 2 * time.Second})
	byRelay := map[string][]nettest.Line{}
	for _, l := range r.Lines {
		if l.Relay != "" {
			byRelay[l.Relay] = append(byRelay[l.Relay], l)
		}
	}
	for _, l := range byRelay["embedded"] {
		if l.Status != nettest.Pass {
			t.Errorf("embedded relay line %v; want pass", l)
		}
	}
	if got := len(byRelay["na-2"]); got != 3 {
		t.Fatalf("na-2 has %d lines; want udp, tcp and media: %v", got, r.Lines)
	}
	for _, l := range byRelay["na-2"] {
		if l.Status != nettest.Warn || (l.Code != nettest.CodeRelayDown && l.Code != nettest.CodeMediaFailed) {
			t.Errorf("na-2 line %v; want a warning that it is down", l)
		}
	}
	if r.Worst() != nettest.Warn {
		t.Errorf("Worst() = %s; want warn (calls still have the embedded relay)", r.Worst())
	}
	noAllocations(t, rg.s)
}
