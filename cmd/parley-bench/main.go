// Command parley-bench measures the hub over its real protocol on loopback: it starts the
// parley-hub binary on a fresh database, connects agents and customers through hub/client until
// the asked number of conversations are live, measures the hub's memory per idle connection, then
// has customers and agents exchange messages and prints the fan-out latency (send → delivery to
// the other party) at p50 and p99, with the hub's limits on (each customer at its own address
// behind a trusted proxy). It does it three times in one run, on the same traffic: two references,
// the database's synchronous=NORMAL (limits on) and -rate-limits=false (synchronous FULL), then
// the hub's defaults, FULL (every acknowledged message fsynced) with the limits on. It prints
// what FULL and what the limits cost against their references; the targets apply to the defaults.
//
// With -queues N the organisation has N queues that each require a skill (routing.go): agents
// belong to three queues each, and after the traffic customers keep leaving and arriving at the
// -churn rate with about -convs conversations live, and the hub's routing passes are timed. A
// further run with one queue and no skills is the routing reference.
// It prints the routing loop's busy share too. -read-delay makes the hub's reads wait (a slow
// disk), -rejoins has agents open a second window during the traffic (each sign-in reads the store
// for their conversations), and -before measures the same traffic against an earlier hub binary
// first, to print the change.
//
//	parley-bench -hub out/parley-hub -convs 1000 -duration 20s -queues 20
//	parley-bench -sync-reference=false -limits-reference=false -read-delay 20ms -rejoins 5 -before /tmp/parley-hub-before
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/sqlite"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/resilience/chatsim"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/crypto/bcrypt"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.hubBin, "hub", "out/parley-hub", "the parley-hub binary to measure")
	flag.IntVar(&cfg.convs, "convs", 1000, "live conversations")
	flag.IntVar(&cfg.capacity, "capacity", 10, "chat capacity of each agent (agents = convs / capacity)")
	flag.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long customers and agents exchange messages")
	flag.IntVar(&cfg.rate, "rate", 200, "customer messages per second, all conversations together (each is answered by the agent)")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write the hub's CPU profile during the traffic phase to this file")
	reference := flag.Bool("sync-reference", true, "also measure the same traffic with synchronous=normal, to print what full costs")
	limitsRef := flag.Bool("limits-reference", true, "also measure the same traffic with -rate-limits=false, to print what the limits cost")
	flag.IntVar(&cfg.queues, "queues", 0, "queues in the organisation, each requiring a skill (0: the one default queue, no skills)")
	flag.IntVar(&cfg.churn, "churn", 20, "with -queues: customers leaving (and as many arriving) per second while routing is timed")
	flag.DurationVar(&cfg.churnFor, "churn-duration", 10*time.Second, "with -queues: how long routing is timed under churn")
	routingRef := flag.Bool("routing-reference", true, "with -queues: also time routing with one queue and no skills, the same churn, as the reference")
	flag.DurationVar(&cfg.readDelay, "read-delay", 0, "the hub's reads of conversations, messages, receipts and figures wait this long (a slow disk: parley-hub -read-delay)")
	flag.IntVar(&cfg.rejoins, "rejoins", 0, "agents opening a second window per second during the traffic (each waits for its welcome, then closes)")
	flag.StringVar(&cfg.before, "before", "", "an earlier parley-hub binary: measure the same traffic with it first and print the change")
	flag.Parse()
	if err := main1(cfg, *reference, *limitsRef, *routingRef); err != nil {
		fmt.Fprintln(os.Stderr, "parley-bench:", err)
		os.Exit(1)
	}
}

// main1 measures the hub with its defaults (the database fsyncing every commit, the limits on),
// after the same traffic with synchronous=normal and with the limits off as references when
// asked, all in one run, and prints what each costs against its reference.
func main1(cfg config, reference, limitsRef, routingRef bool) error {
	if cfg.queues == 1 || cfg.queues < 0 || cfg.queues > 500 {
		return errors.New("-queues is 0 or 2 to 500")
	}
	cfg.timeRouting = cfg.queues > 0
	var ref, before result
	if reference {
		fmt.Println("== reference: -db-synchronous normal (a power loss may roll back the last acknowledged messages)")
		cfg.sync = "normal"
		var err error
		if ref, err = run(cfg); err != nil {
			return err
		}
	}
	var unlimited result
	if limitsRef {
		fmt.Println("== reference: -rate-limits=false, -db-synchronous full (no limit per customer, account or address)")
		c := cfg
		c.sync, c.limitsOff, c.timeRouting = "full", true, false
		var err error
		if unlimited, err = run(c); err != nil {
			return err
		}
	}
	cfg.sync = "full"
	if cfg.before != "" {
		fmt.Printf("== before: %s\n", cfg.before)
		bc := cfg
		bc.hubBin = cfg.before
		var err error
		if before, err = run(bc); err != nil {
			return err
		}
	}
	fmt.Println("== measured: the defaults, -db-synchronous full (every acknowledged message is on disk) and the limits on")
	full, err := run(cfg)
	if err != nil {
		return err
	}
	if cfg.queues > 0 {
		if err := compareRouting(cfg, full, routingRef); err != nil {
			return err
		}
	}
	ratio := func(a, b float64) string {
		if b == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2fx", a/b)
	}
	if cfg.before != "" {
		fmt.Printf("this hub vs before, same traffic in the same run: routing loop busy %.1f%% vs %.1f%% (%s), p50 %.2f vs %.2f ms (%s), p99 %.2f vs %.2f ms (%s), max %.2f vs %.2f ms\n",
			full.busy*100, before.busy*100, ratio(full.busy, before.busy), full.p50, before.p50, ratio(full.p50, before.p50),
			full.p99, before.p99, ratio(full.p99, before.p99), full.max, before.max)
	}
	if reference {
		fmt.Printf("synchronous full vs normal, same traffic in the same run: p50 %.2f vs %.2f ms (%s), p99 %.2f vs %.2f ms (%s), mean store transaction %.2f vs %.2f ms (%s)\n",
			full.p50, ref.p50, ratio(full.p50, ref.p50), full.p99, ref.p99, ratio(full.p99, ref.p99),
			full.storeMean, ref.storeMean, ratio(full.storeMean, ref.storeMean))
	}
	if limitsRef {
		fmt.Printf("limits on vs off, same traffic in the same run: p50 %.2f vs %.2f ms (%s), p99 %.2f vs %.2f ms (%s), memory per idle connection %.1f vs %.1f KB (%s)\n",
			full.p50, unlimited.p50, ratio(full.p50, unlimited.p50), full.p99, unlimited.p99, ratio(full.p99, unlimited.p99),
			full.perConn, unlimited.perConn, ratio(full.perConn, unlimited.perConn))
	}
	verdict := func(r result) string {
		if r.p50 > 2 || r.p99 > 20 || r.perConn > 32 {
			return "FAIL"
		}
		return "PASS"
	}
	fmt.Printf("targets p50 <= 2 ms, p99 <= 20 ms, <= 32 KB per idle connection: the defaults (synchronous full, limits on) %s", verdict(full))
	if reference {
		fmt.Printf("; synchronous normal %s", verdict(ref))
	}
	if limitsRef {
		fmt.Printf("; limits off %s", verdict(unlimited))
	}
	fmt.Println()
	return nil
}

// result is what one measurement found.
type result struct {
	perConn   float64 // KB of heap and stacks per idle connection
	p50, p99  float64 // fan-out latency, ms
	max       float64 // slowest delivery, ms
	storeMean float64 // mean store transaction, ms
	route     routeResult
	busy      float64 // the routing loop's busy share during the traffic (0..1)
}

type config struct {
	hubBin     string
	convs      int
	capacity   int
	duration   time.Duration
	rate       int
	cpuProfile string
	gogc       int
	sync       string // the hub's -db-synchronous
	limitsOff  bool   // the hub's -rate-limits=false
	queues     int
	churn      int
	churnFor   time.Duration
	// timeRouting is set when routing is timed under churn after the traffic.
	timeRouting bool
	readDelay   time.Duration
	rejoins     int
	before      string
}

const org wire.OrgID = "bench"

func run(cfg config) (result, error) {
	if cfg.convs < 1 || cfg.capacity < 1 || cfg.rate < 1 {
		return result{}, errors.New("-convs, -capacity and -rate must be positive")
	}
	nAgents := (cfg.convs + cfg.capacity - 1) / cfg.capacity
	if cfg.queues > 0 {
		// Skills split the agents: a quarter more capacity than conversations keeps every
		// queue's conversations answered without widening.
		nAgents = (cfg.convs*5/4 + cfg.capacity - 1) / cfg.capacity
	}
	dir, err := os.MkdirTemp("", "parley-bench")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "bench.db")
	if err := seed(db, nAgents, cfg.capacity, cfg.queues); err != nil {
		return result{}, err
	}

	// The hub runs as its own process, as in production, so its memory is its own.
	ctx, cancel := context.WithTimeout(context.Background(), cfg.duration+5*time.Minute)
	defer cancel()
	// The limits are on, as on a public hub (unless this is the reference without them): each
	// customer comes from its own address through a trusted proxy (X-Forwarded-For), the agents
	// from one office address. As behind a real proxy, the metrics and the profiler are on a
	// loopback port of their own.
	args := []string{"-addr", "127.0.0.1:0", "-db", db, "-db-synchronous", cfg.sync, "-log-format", "json", "-debug",
		"-trusted-proxies", "127.0.0.1", "-metrics-addr", "127.0.0.1:0"}
	if cfg.limitsOff {
		args = append(args, "-rate-limits=false")
	}
	if cfg.readDelay > 0 {
		args = append(args, "-read-delay", cfg.readDelay.String())
	}
	cmd := exec.CommandContext(ctx, cfg.hubBin, args...)
	cmd.Stderr = io.Discard
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, fmt.Errorf("starting %s: %w", cfg.hubBin, err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if err != nil {
		return result{}, fmt.Errorf("hub did not start: %w", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		return result{}, fmt.Errorf("hub printed %q", line)
	}
	line, err = out.ReadString('\n')
	if err != nil {
		return result{}, fmt.Errorf("hub printed no metrics address: %w", err)
	}
	// ops is where /metrics and /debug/pprof are.
	ops, ok := strings.CutPrefix(strings.TrimSpace(line), "metrics on ")
	if !ok {
		return result{}, fmt.Errorf("hub printed %q", line)
	}
	ops = strings.TrimSuffix(ops, "/metrics")
	go io.Copy(io.Discard, out)

	time.Sleep(500 * time.Millisecond)
	base, err := memory(ops)
	if err != nil {
		return result{}, err
	}

	b := &bench{url: url, convs: cfg.convs, queues: cfg.queues, active: make(chan struct{}, cfg.convs)}
	if err := b.connectAgents(ctx, nAgents); err != nil {
		return result{}, err
	}
	if err := b.startCustomers(ctx); err != nil {
		return result{}, err
	}
	for range cfg.convs {
		select {
		case <-b.active:
		case <-time.After(60 * time.Second):
			return result{}, errors.New("conversations did not all become active within 60 s")
		}
	}
	conns := nAgents + cfg.convs
	time.Sleep(2 * time.Second) // let the hub settle: every connection idle
	idle, err := memory(ops)
	if err != nil {
		return result{}, err
	}
	fmt.Printf("parley-bench: %d live conversations, %d agents (capacity %d), %d idle connections to %s; %s\n", cfg.convs, nAgents, cfg.capacity, conns, cfg.hubBin, queuesText(cfg.queues))
	perConn := float64(idle.heapStack-base.heapStack) / float64(conns) / 1024
	fmt.Printf("hub memory per idle connection: %.1f KB live heap+stacks after GC (of which stacks %.1f KB), %.1f KB RSS\n",
		perConn, float64(idle.stack-base.stack)/float64(conns)/1024, float64(idle.rss-base.rss)/float64(conns)/1024)

	// Traffic: each customer sends at random times; its agent answers every message.
	b.measuring.Store(true)
	if cfg.cpuProfile != "" {
		go profile(ops, cfg.cpuProfile, cfg.duration)
	}
	deadline := time.Now().Add(cfg.duration)
	busy0 := counter(ops, "parley_hub_router_busy_seconds_total")
	started := time.Now()
	rejoined := make(chan int, 1)
	go func() { rejoined <- b.rejoin(ctx, cfg.rejoins, deadline) }()
	perConv := float64(cfg.rate) / float64(cfg.convs) // messages per second per conversation
	var wg sync.WaitGroup
	var sendErrs atomic.Int64
	for _, cu := range b.customers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				wait := time.Duration(rand.ExpFloat64() / perConv * float64(time.Second))
				if time.Now().Add(wait).After(deadline) {
					return
				}
				time.Sleep(wait)
				text := "t=" + strconv.FormatInt(time.Now().UnixNano(), 10)
				if _, err := cu.conn.Send(ctx, cu.conv, text); err != nil {
					sendErrs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	nRejoins := <-rejoined
	time.Sleep(500 * time.Millisecond) // the last answers arrive
	b.measuring.Store(false)
	busy := (counter(ops, "parley_hub_router_busy_seconds_total") - busy0) / time.Since(started).Seconds()
	lat := b.latencies()
	if len(lat) == 0 {
		return result{}, errors.New("no message was delivered")
	}
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	fmt.Printf("fan-out latency over %s, %d deliveries (customer→agent and agent→customer): p50 %.2f ms, p99 %.2f ms, max %.2f ms; send errors %d\n",
		cfg.duration, len(lat), pct(0.50), pct(0.99), float64(lat[len(lat)-1].Microseconds())/1000, sendErrs.Load())
	fmt.Printf("routing loop busy %.1f%% of the time (parley_hub_router_busy_seconds_total); %d second windows opened by agents; hub reads delayed %s\n",
		busy*100, nRejoins, cfg.readDelay)
	if h, err := chatsim.Histogram(ops, "parley_hub_message_handle_seconds", "0.001", "0.005", "0.02", "0.1"); err == nil {
		fmt.Printf("inside the hub, read to queued for recipients: %s\n", h)
	}
	if h, err := chatsim.Histogram(ops, "parley_hub_message_store_seconds", "0.001", "0.005", "0.02", "0.1"); err == nil {
		fmt.Printf("  store transactions (one per batch of messages): %s\n", h)
	}
	res := result{perConn: perConn, p50: pct(0.50), p99: pct(0.99), max: float64(lat[len(lat)-1].Microseconds()) / 1000,
		storeMean: meanMS(ops, "parley_hub_message_store_seconds"), busy: busy}
	if cfg.timeRouting {
		if res.route, err = b.churnPhase(ctx, ops, cfg); err != nil {
			return res, err
		}
	}
	b.mu.Lock()
	for _, c := range b.all {
		c.Close()
	}
	b.mu.Unlock()
	return res, nil
}

// meanMS is the mean of a histogram on the hub's /metrics, in ms (0 when unknown).
func meanMS(url, name string) float64 {
	res, err := http.Get(url + "/metrics")
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	var sum, count float64
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		f, err := strconv.ParseFloat(v, 64)
		switch {
		case err != nil:
		case k == name+"_sum":
			sum = f
		case k == name+"_count":
			count = f
		}
	}
	if count == 0 {
		return 0
	}
	return sum / count * 1000
}

// counter reads one counter from the hub's /metrics (0 when missing: an older hub).
func counter(url, name string) float64 {
	res, err := http.Get(url + "/metrics")
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// seed creates the bench organisation and its agents in a fresh database.
func seed(path string, agents, capacity, queues int) error {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CreateOrg(ctx, store.Org{ID: org, Name: "Bench"}); err != nil {
		return err
	}
	hash, err := hub.HashPassword("bench", bcrypt.MinCost)
	if err != nil {
		return err
	}
	for i := range agents {
		name := fmt.Sprintf("agent%03d", i)
		if err := db.CreateUser(ctx, store.User{ID: wire.UserID("u_" + name), Org: org, Username: name, DisplayName: name,
			Role: wire.RoleAgent, PasswordHash: hash, Capacity: capacity}); err != nil {
			return err
		}
	}
	return seedQueues(ctx, db, agents, queues)
}

// profile saves the hub's CPU profile over d.
func profile(url, name string, d time.Duration) {
	res, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", url, max(1, int(d.Seconds())-1)))
	if err != nil {
		return
	}
	defer res.Body.Close()
	f, err := os.Create(name)
	if err != nil {
		return
	}
	defer f.Close()
	io.Copy(f, res.Body)
}

// mem is the hub's memory, from its /metrics.
type mem struct {
	heapStack int64 // heap in use plus goroutine stacks
	stack     int64
	rss       int64
}

func memory(url string) (mem, error) {
	// The heap profile with gc=1 collects garbage first, so the figures are live memory.
	if res, err := http.Get(url + "/debug/pprof/heap?gc=1"); err == nil {
		if name := os.Getenv("PARLEY_BENCH_HEAP"); name != "" {
			f, _ := os.Create(name)
			io.Copy(f, res.Body)
			f.Close()
		}
		res.Body.Close()
	}
	res, err := http.Get(url + "/metrics")
	if err != nil {
		return mem{}, err
	}
	defer res.Body.Close()
	var m mem
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_memstats_heap_inuse_bytes":
			m.heapStack += int64(f)
		case "go_memstats_stack_inuse_bytes":
			m.heapStack += int64(f)
			m.stack = int64(f)
		case "process_resident_memory_bytes":
			m.rss = int64(f)
		}
	}
	return m, sc.Err()
}

// bench holds the clients and the measured latencies.
type bench struct {
	url    string
	convs  int
	queues int
	// active receives one value per conversation that became active.
	active    chan struct{}
	customers []*customer
	all       []*client.Conn
	// tokens are the agents' sign-in tokens, for rejoin.
	tokens    []string
	measuring atomic.Bool

	mu  sync.Mutex // guards lat, customers and all
	lat []time.Duration
}

type customer struct {
	conn *client.Conn
	conv wire.ConversationID
}

func (b *bench) record(text string) {
	if !b.measuring.Load() {
		return
	}
	ns, err := strconv.ParseInt(strings.TrimPrefix(text, "t="), 10, 64)
	if err != nil {
		return
	}
	d := time.Since(time.Unix(0, ns))
	b.mu.Lock()
	b.lat = append(b.lat, d)
	b.mu.Unlock()
}

func (b *bench) latencies() []time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	lat := slices.Clone(b.lat)
	slices.Sort(lat)
	return lat
}

var quiet = slog.New(slog.DiscardHandler)

// connectAgents signs the agents in; each accepts every offer and answers every customer message
// with a fresh timestamp.
func (b *bench) connectAgents(ctx context.Context, n int) error {
	for i := range n {
		login, err := client.Login(ctx, b.url, org, fmt.Sprintf("agent%03d", i), "bench")
		if err != nil {
			return fmt.Errorf("login agent%03d: %w", i, err)
		}
		c, err := client.Dial(ctx, b.url, login.Token, client.Options{Logger: quiet})
		if err != nil {
			return err
		}
		b.all = append(b.all, c)
		b.tokens = append(b.tokens, login.Token)
		go func() {
			for env := range c.Events() {
				switch env.Type {
				case wire.TypeOffer:
					var o wire.Offer
					if env.Unmarshal(&o) == nil {
						go c.Request(ctx, wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID})
					}
				case wire.TypeChatMessage:
					var m wire.Message
					if env.Unmarshal(&m) == nil && m.Author == wire.AuthorCustomer {
						b.record(m.Text)
						go c.Send(ctx, m.Conv, "t="+strconv.FormatInt(time.Now().UnixNano(), 10))
					}
				}
			}
		}()
	}
	return nil
}

// rejoin has perSecond agents a second open a second window (a new connection with their token:
// the hub welcomes it with their conversations and the receipts in them) until deadline, then
// close it; it returns how many were welcomed.
func (b *bench) rejoin(ctx context.Context, perSecond int, deadline time.Time) int {
	if perSecond <= 0 {
		return 0
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	defer tick.Stop()
	for i := 0; time.Now().Before(deadline); i++ {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := client.Dial(ctx, b.url, b.tokens[i%len(b.tokens)], client.Options{Logger: quiet})
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}()
	}
	wg.Wait()
	return int(n.Load())
}

// startCustomers opens the conversations, 50 at a time.
func (b *bench) startCustomers(ctx context.Context) error {
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for i := range b.convs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := b.startCustomer(ctx, i, b.setupQueue(i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// startCustomer starts customer i's conversation in queue ("" for the default) and connects
// it; the customer counts on b.active once an agent took it, and records the agent's answers.
func (b *bench) startCustomer(ctx context.Context, i int, queue wire.QueueID) error {
	// Customer i is at 10.x.y.z, as a reverse proxy in front of the hub would say.
	from := http.Header{"X-Forwarded-For": []string{fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}}
	started, err := client.StartWith(ctx, b.url, org, wire.StartConversation{Name: fmt.Sprintf("customer%04d", i), Queue: queue}, from)
	var c *client.Conn
	if err == nil {
		c, err = client.Dial(ctx, b.url, started.Token, client.Options{Logger: quiet, Header: from})
	}
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.all = append(b.all, c)
	b.customers = append(b.customers, &customer{conn: c, conv: started.Conversation.ID})
	b.mu.Unlock()
	go func() {
		counted := false // the conversation may be active before the customer connects
		for env := range c.Events() {
			switch env.Type {
			case client.TypeState:
				ev, _ := client.ParseState(env)
				if ev.Welcome != nil && len(ev.Welcome.Conversations) == 1 && ev.Welcome.Conversations[0].State == wire.ConvActive && !counted {
					counted = true
					b.answered()
				}
			case wire.TypeConvState:
				var cs wire.Conversation
				if env.Unmarshal(&cs) == nil && cs.State == wire.ConvActive && !counted {
					counted = true
					b.answered()
				}
			case wire.TypeChatMessage:
				var m wire.Message
				if env.Unmarshal(&m) == nil && m.Author == wire.AuthorAgent {
					b.record(m.Text)
				}
			}
		}
	}()
	return nil
}
