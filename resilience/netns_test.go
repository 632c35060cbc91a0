package resilience

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Network namespaces are named prlr<pid>n<k>, so a later run can delete the ones a killed run
// left behind (their process is gone), and interfaces prlr<pid>v<k><a|b>.
const nsPrefix = "prlr"

// needNetns skips unless PARLEY_NETNS=1 and we are root.
func needNetns(t *testing.T) {
	t.Helper()
	if os.Getenv("PARLEY_NETNS") != "1" {
		t.Skip("network-namespace test: set PARLEY_NETNS=1 (as root), or run `make test-resilience`")
	}
	if os.Geteuid() != 0 {
		t.Skip("network-namespace test needs root (ip netns, nftables)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("network-namespace test needs %s (apt iproute2 nftables)", tool)
		}
	}
	sweepOnce.Do(sweepStale)
}

var sweepOnce sync.Once

// sweepStale deletes namespaces left by runs whose process is gone.
func sweepStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, nsPrefix)
		if !ok {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "n")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // still running
		}
		_ = exec.Command("ip", "netns", "del", name).Run()
	}
}

var nsCount struct {
	sync.Mutex
	n int
}

func nextID() int {
	nsCount.Lock()
	defer nsCount.Unlock()
	nsCount.n++
	return nsCount.n
}

// run runs a command and fails the test with its output when it fails.
func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// netns is a network namespace the test created; it is deleted when the test ends.
type netns struct {
	t    *testing.T
	name string
}

// newNetns creates a namespace with loopback up.
func newNetns(t *testing.T) *netns {
	t.Helper()
	n := &netns{t: t, name: fmt.Sprintf("%s%dn%d", nsPrefix, os.Getpid(), nextID())}
	run(t, "ip", "netns", "add", n.name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.name).Run() })
	run(t, "ip", "-n", n.name, "link", "set", "lo", "up")
	// IPv6 off: candidates and routes are IPv4 only, one path to reason about.
	run(t, "ip", "netns", "exec", n.name, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
	return n
}

// exec returns the prefix that runs a command inside the namespace.
func (n *netns) exec() []string { return []string{"ip", "netns", "exec", n.name} }

// link is one veth pair: end a in the root namespace (or another namespace), end b in ns.
type link struct {
	// ipA and ipB are the two ends' addresses (a /24 of their own).
	ipA, ipB string
	devA     string
	devB     string
	nsA      *netns // nil: root namespace
	nsB      *netns
}

// subnet picks a 10.x.y.0/24 nobody on this machine uses.
func subnet(t *testing.T) string {
	t.Helper()
	used := run(t, "ip", "-4", "-o", "addr")
	for range 100 {
		s := fmt.Sprintf("10.%d.%d", 100+rand.IntN(150), rand.IntN(250))
		if !strings.Contains(used, s+".") {
			return s
		}
	}
	t.Fatal("no free 10.x.y.0/24")
	return ""
}

// connect joins a (nil for the root namespace) and b with a veth pair on a fresh /24: a gets .1
// and b .2. There is no route beyond the /24 and no forwarding, so this is the only path.
func connect(t *testing.T, a, b *netns) *link {
	t.Helper()
	id := nextID()
	sn := subnet(t)
	l := &link{ipA: sn + ".1", ipB: sn + ".2", nsA: a, nsB: b,
		devA: fmt.Sprintf("%s%dv%da", nsPrefix, os.Getpid()%100000, id), devB: fmt.Sprintf("%s%dv%db", nsPrefix, os.Getpid()%100000, id)}
	inA := func(args ...string) []string {
		if a == nil {
			return args
		}
		return append([]string{args[0], "-n", a.name}, args[1:]...)
	}
	run(t, inA("ip", "link", "add", l.devA, "type", "veth", "peer", "name", l.devB, "netns", b.name)...)
	if a == nil {
		t.Cleanup(func() { _ = exec.Command("ip", "link", "del", l.devA).Run() })
	}
	run(t, inA("ip", "addr", "add", l.ipA+"/24", "dev", l.devA)...)
	run(t, inA("ip", "link", "set", l.devA, "up")...)
	run(t, "ip", "-n", b.name, "addr", "add", l.ipB+"/24", "dev", l.devB)
	run(t, "ip", "-n", b.name, "link", "set", l.devB, "up")
	return l
}

// impair sets the namespace's packet filter: every packet it sends and receives on its veth
// interfaces (not loopback) is dropped with probability lossPct/100 each way; lossPct 100 cuts
// the path. lossPct 0 removes the filter.
func (n *netns) impair(lossPct int) {
	n.t.Helper()
	_ = exec.Command("ip", "netns", "exec", n.name, "nft", "delete", "table", "inet", "prl").Run()
	if lossPct == 0 {
		return
	}
	rule := "drop"
	if lossPct < 100 {
		// numgen random mod 100 < lossPct: lossPct in 100 packets.
		rule = fmt.Sprintf("numgen random mod 100 < %d drop", lossPct)
	}
	script := fmt.Sprintf(`table inet prl {
  chain out {
    type filter hook output priority 0; policy accept;
    oifname != "lo" %s
  }
  chain in {
    type filter hook input priority 0; policy accept;
    iifname != "lo" %s
  }
}
`, rule, rule)
	cmd := exec.Command("ip", "netns", "exec", n.name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		n.t.Fatalf("nft in %s: %v\n%s", n.name, err, out)
	}
}

// impairOneWay drops lossPct% of the packets the namespace sends (its receive side untouched).
func (n *netns) impairOneWay(lossPct int) {
	n.t.Helper()
	_ = exec.Command("ip", "netns", "exec", n.name, "nft", "delete", "table", "inet", "prl").Run()
	if lossPct == 0 {
		return
	}
	script := fmt.Sprintf(`table inet prl {
  chain out {
    type filter hook output priority 0; policy accept;
    oifname != "lo" numgen random mod 100 < %d drop
  }
}
`, lossPct)
	cmd := exec.Command("ip", "netns", "exec", n.name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		n.t.Fatalf("nft in %s: %v\n%s", n.name, err, out)
	}
}
