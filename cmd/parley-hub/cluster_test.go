package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/internal/logbuf"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/wire"
)

// childEnv makes the test binary run parley-hub's main: the cluster test's nodes are real
// processes (killed with SIGKILL, drained with SIGTERM).
const childEnv = "PARLEY_TEST_HUB_CHILD"

// node is one parley-hub process of the test's cluster.
type node struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	logs *logbuf.Buffer
}

func startNode(t *testing.T, dsn, name string, ttl time.Duration) *node {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-addr", "127.0.0.1:0", "-db", dsn, "-demo", "-node", name,
		"-lease-ttl", ttl.String(), "-log-format", "json")
	cmd.Env = append(os.Environ(), childEnv+"=1", "PARLEY_DEBUG=", "PARLEY_METRICS_ADDR=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	n := &node{cmd: cmd, done: make(chan struct{}), logs: &logbuf.Buffer{}}
	cmd.Stderr = n.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-n.done
		if t.Failed() {
			t.Logf("node %s's log:\n%s", name, n.logs.String())
		}
	})
	lines := bufio.NewScanner(out)
	re := regexp.MustCompile(`^listening on (http://\S+)$`)
	urls := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if m := re.FindStringSubmatch(lines.Text()); m != nil {
				urls <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case n.url = <-urls:
	case <-n.done:
		t.Fatalf("node %s exited at start:\n%s", name, n.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("node %s did not start within 60 s:\n%s", name, n.logs.String())
	}
	return n
}

// balancer is the load balancer in front of the nodes (as HAProxy would be): each new TCP
// connection goes to the next node that accepts one.
type balancer struct {
	ln    net.Listener
	mu    sync.Mutex
	nodes []*node
	next  int
}

func newBalancer(t *testing.T, nodes []*node) *balancer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{ln: ln, nodes: nodes}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.serve(c)
		}
	}()
	return b
}

// set replaces the nodes new connections go to.
func (b *balancer) set(nodes []*node) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nodes = nodes
}

func (b *balancer) url() string { return "http://" + b.ln.Addr().String() }

func (b *balancer) serve(c net.Conn) {
	defer c.Close()
	b.mu.Lock()
	tries := len(b.nodes)
	b.mu.Unlock()
	for range tries {
		b.mu.Lock()
		n := b.nodes[b.next%len(b.nodes)]
		b.next++
		b.mu.Unlock()
		up, err := net.DialTimeout("tcp", n.url[len("http://"):], time.Second)
		if err != nil {
			continue
		}
		defer up.Close()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		_, _ = io.Copy(c, up)
		return
	}
}

// owner returns the node holding the demo organisation's live lease.
func owner(t *testing.T, dsn string, nodes []*node) (*node, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for ctx.Err() == nil {
		var url string
		var epoch int64
		err := conn.QueryRow(ctx, `SELECT n.url, l.epoch FROM cluster_leases l JOIN cluster_nodes n ON n.node = l.node
			WHERE l.org = $1 AND l.expires_at > clock_timestamp()`, hub.DemoOrg).Scan(&url, &epoch)
		if err == nil {
			for _, n := range nodes {
				if n.url == url {
					return n, epoch
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no node owns the demo organisation")
	return nil, 0
}

// collect gathers the chat messages an agent sees, by conversation and seq.
type collector struct {
	mu     sync.Mutex
	seen   map[int64]int
	text   map[string]int
	offers chan wire.Offer
}

func watch(c *client.Conn) *collector {
	col := &collector{seen: map[int64]int{}, text: map[string]int{}, offers: make(chan wire.Offer, 16)}
	go func() {
		for env := range c.Events() {
			switch env.Type {
			case wire.TypeChatMessage:
				var m wire.Message
				if json.Unmarshal(env.Data, &m) == nil && m.Author == wire.AuthorCustomer {
					col.mu.Lock()
					if col.seen[m.Seq] == 0 {
						col.text[m.Text]++
					}
					col.seen[m.Seq]++
					col.mu.Unlock()
				}
			case wire.TypeOffer:
				var o wire.Offer
				if json.Unmarshal(env.Data, &o) == nil {
					col.offers <- o
				}
			}
		}
	}()
	return col
}

func (col *collector) has(text string) bool {
	col.mu.Lock()
	defer col.mu.Unlock()
	return col.text[text] > 0
}

// clusterTTL is how long the test cluster's organisation leases last.
const clusterTTL = 2 * time.Second

// startCluster starts three parley-hub processes named prefix1 to prefix3 on a new PostgreSQL
// database, behind a load balancer. It skips the test unless make test-cluster runs it.
func startCluster(t *testing.T, prefix string) (dsn string, nodes []*node, lb *balancer) {
	t.Helper()
	if os.Getenv("PARLEY_TEST_CLUSTER") == "" {
		t.Skip("make test-cluster runs this (PARLEY_TEST_CLUSTER=1): three hub processes")
	}
	dsn = pgtest.Database(t)
	for i := range 3 {
		nodes = append(nodes, startNode(t, dsn, fmt.Sprintf("%s%d", prefix, i+1), clusterTTL))
	}
	return dsn, nodes, newBalancer(t, nodes)
}

// Three hub processes on one PostgreSQL behind a load balancer: a customer and an agent chat
// through whichever nodes the balancer picks, the node owning the organisation is killed with
// SIGKILL mid-chat, another node takes the organisation over once its lease expires, both
// clients come back by themselves, every acknowledged message reaches the agent exactly once
// and the chat goes on; then the new owner is drained with SIGTERM and the organisation moves
// at once (without waiting for a lease to expire); last a rolling restart of all three nodes while
// the customer writes every 50 ms: not one send fails, every message reaches the agent once.
func TestClusterKillTheOwnerMidChat(t *testing.T) {
	dsn, nodes, lb := startCluster(t, "n")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Every node is ready; the organisation is served by one of them.
	for _, n := range nodes {
		res, err := http.Get(n.url + "/readyz")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s/readyz: %v %v", n.url, res, err)
		}
		res.Body.Close()
	}
	login, err := client.Login(ctx, lb.url(), hub.DemoOrg, "agent1", "demo")
	if err != nil {
		t.Fatal(err)
	}
	opts := client.Options{PingInterval: 0}
	agent, err := client.Dial(ctx, lb.url(), login.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	col := watch(agent)
	if _, err := agent.Request(ctx, wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAvailable}); err != nil {
		t.Fatal(err)
	}
	started, err := client.StartConversation(ctx, lb.url(), hub.DemoOrg, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	conv := started.Conversation.ID
	cust, err := client.Dial(ctx, lb.url(), started.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer cust.Close()
	go func() {
		for range cust.Events() {
		}
	}()
	select {
	case o := <-col.offers:
		if _, err := agent.Request(ctx, wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID}); err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no offer within 30 s")
	}
	var acked []string
	send := func(text string) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		defer scancel()
		if _, err := cust.Send(sctx, conv, text); err != nil {
			t.Fatalf("sending %q: %v", text, err)
		}
		acked = append(acked, text)
	}
	for i := range 5 {
		send(fmt.Sprintf("before %d", i))
	}

	first, epoch := owner(t, dsn, nodes)
	killed := time.Now()
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	// The customer goes on writing through the failover: each send waits for its ack (the
	// client resends with the same client id after reconnecting).
	for i := range 5 {
		send(fmt.Sprintf("after %d", i))
	}
	back := time.Since(killed)
	second, epoch2 := owner(t, dsn, nodes)
	if second == first || epoch2 <= epoch {
		t.Fatalf("after the kill the owner is %s epoch %d (was %s epoch %d)", second.url, epoch2, first.url, epoch)
	}
	t.Logf("owner %s killed; %s took over (epoch %d→%d); the customer's sends were acked again after %v (lease %v)",
		first.url, second.url, epoch, epoch2, back.Round(time.Millisecond), clusterTTL)
	waitAll(t, col, acked)
	if agent.State() != client.StateConnected {
		t.Fatalf("agent state %s", agent.State())
	}
	// The history (from the store) holds every message once.
	hist, err := agent.History(ctx, conv, 0)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, m := range hist {
		if m.Author == wire.AuthorCustomer {
			count[m.Text]++
		}
	}
	for _, s := range acked {
		if count[s] != 1 {
			t.Errorf("history holds %q %d times", s, count[s])
		}
	}
	col.mu.Lock()
	for seq, n := range col.seen {
		if n != 1 {
			t.Errorf("the agent got seq %d %d times", seq, n)
		}
	}
	col.mu.Unlock()

	// Drain: SIGTERM the new owner; the organisation moves at once to the third node.
	drained := time.Now()
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	send("during the drain")
	third, epoch3 := owner(t, dsn, nodes)
	if third == second || third == first || epoch3 <= epoch2 {
		t.Fatalf("after the drain the owner is %s epoch %d", third.url, epoch3)
	}
	send("after the drain")
	t.Logf("owner %s drained; %s took over in %v", second.url, third.url, time.Since(drained).Round(time.Millisecond))
	waitAll(t, col, acked)
	select {
	case <-second.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the drained node did not exit within 30 s")
	}
	if code := second.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("the drained node exited with %d", code)
	}

	// A rolling restart of all three (the two gone come back first), while the customer keeps
	// writing: not one send fails.
	before := len(acked)
	live := []*node{third, startNode(t, dsn, "n4", clusterTTL), startNode(t, dsn, "n5", clusterTTL)}
	lb.set(live)
	var (
		mu     sync.Mutex
		failed []string
		stop   = make(chan struct{})
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			text := fmt.Sprintf("rolling %d", i)
			sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
			_, err := cust.Send(sctx, conv, text)
			scancel()
			mu.Lock()
			if err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", text, err))
			} else {
				acked = append(acked, text)
			}
			mu.Unlock()
		}
	}()
	for i, old := range append([]*node(nil), live...) {
		if err := old.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-old.done:
		case <-time.After(30 * time.Second):
			t.Fatalf("node %s did not stop within 30 s of SIGTERM", old.url)
		}
		live[i] = startNode(t, dsn, fmt.Sprintf("r%d", i+1), clusterTTL)
		lb.set(live)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	<-done
	if len(failed) > 0 {
		t.Fatalf("%d sends failed during the rolling restart: %v", len(failed), failed)
	}
	last, _ := owner(t, dsn, live)
	t.Logf("rolling restart: %d sends during it, none failed; the organisation is on %s", len(acked)-before, last.url)
	waitAll(t, col, acked)
	col.mu.Lock()
	for seq, n := range col.seen {
		if n != 1 {
			t.Errorf("the agent got seq %d %d times", seq, n)
		}
	}
	col.mu.Unlock()
}

func waitAll(t *testing.T, col *collector, texts []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range texts {
		for !col.has(s) {
			if time.Now().After(deadline) {
				t.Fatalf("the agent never got %q", s)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
