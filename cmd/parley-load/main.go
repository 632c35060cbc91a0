// Command parley-load is a bounded load test of the hub on loopback: it seeds a fresh database
// with agents (through the hub's own API), runs the parley-hub binary on it, signs the agents in,
// opens one conversation per customer, and has every customer and its agent exchange messages.
// It checks that every acknowledged message reached the other side exactly once, in order, and
// prints send → delivery latency percentiles and the hub's CPU and memory.
//
//	parley-load -hub out/parley-hub -customers 2000 -agents 200 -messages 5 -interval 4s
//
// With -cluster N it then runs the same workload again over N hub nodes (docs/cluster.md) on a
// PostgreSQL server it starts (Debian's postgresql package, durable settings, in a temporary
// directory) behind a TCP load balancer on loopback, and prints both runs side by side: lost
// messages, latency, and the CPU of each hub process and of PostgreSQL.
//
// It exits 1 if a message was lost, doubled or refused, or a run overran -timeout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/resilience/chatsim"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.hubBin, "hub", "out/parley-hub", "the parley-hub binary to load")
	flag.IntVar(&cfg.customers, "customers", 2000, "customers, one conversation each")
	flag.IntVar(&cfg.agents, "agents", 200, "agents")
	flag.IntVar(&cfg.capacity, "capacity", 10, "chat capacity of each agent (agents × capacity must cover the customers)")
	flag.IntVar(&cfg.messages, "messages", 5, "messages each customer, and its agent, send")
	flag.DurationVar(&cfg.interval, "interval", 4*time.Second, "mean pause between one party's messages")
	flag.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "give up on a run after this long")
	flag.StringVar(&cfg.hubFlags, "hub-flags", "", "more flags for the single SQLite hub, space-separated (e.g. \"-db-synchronous normal\")")
	flag.IntVar(&cfg.nodes, "cluster", 0, "then run the workload over this many hub nodes on PostgreSQL behind a load balancer, and compare (0: one SQLite hub only)")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "parley-load:", err)
		os.Exit(1)
	}
}

type config struct {
	hubBin, hubFlags                      string
	customers, agents, capacity, messages int
	interval, timeout                     time.Duration
	nodes                                 int
}

func run(cfg config) error {
	if cfg.customers < 1 || cfg.agents < 1 || cfg.messages < 1 || cfg.nodes < 0 {
		return errors.New("-customers, -agents and -messages must be positive, -cluster not negative")
	}
	if cfg.agents*cfg.capacity < cfg.customers {
		return fmt.Errorf("%d agents of capacity %d cannot take %d customers", cfg.agents, cfg.capacity, cfg.customers)
	}
	single, err := runSingle(cfg)
	if err != nil || cfg.nodes == 0 {
		return err
	}
	fmt.Println()
	clustered, err := runCluster(cfg)
	if err != nil {
		return err
	}
	fmt.Println()
	compare(single, clustered)
	if !single.rep.OK() || !clustered.rep.OK() {
		return errors.New("messages were lost, doubled or refused")
	}
	fmt.Println("parley-load: PASS, 0 messages lost in either run")
	return nil
}

// proc is a server process whose CPU a run measures.
type proc struct {
	name  string
	usage func() (chatsim.Usage, error)
	// url is a hub's base URL (for its /metrics); "" for PostgreSQL.
	url string
}

// result is what one run measured.
type result struct {
	label    string
	setup    time.Duration
	rep      chatsim.Report
	lat      []time.Duration // send → delivery once every session was connected, sorted
	duration time.Duration
	// cpu is each process's CPU time over the run in seconds, share that share of one core.
	cpu, share map[string]float64
	names      []string
	rate       float64
}

// runSingle runs the workload against one parley-hub on SQLite.
func runSingle(cfg config) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "parley-load")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "hub.db")
	if err := chatsim.Seed(ctx, db, cfg.agents, cfg.capacity); err != nil {
		return result{}, err
	}
	h, err := chatsim.StartHubFlags(ctx, cfg.hubBin, db, "127.0.0.1:0", strings.Fields(cfg.hubFlags)...)
	if err != nil {
		return result{}, err
	}
	defer h.Stop()
	fmt.Printf("parley-load: %s on loopback, %d customers, %d agents (capacity %d), %d messages each way per conversation, one every %v on average; %d CPUs\n",
		strings.TrimSpace(cfg.hubBin+" "+cfg.hubFlags), cfg.customers, cfg.agents, cfg.capacity, cfg.messages, cfg.interval, runtime.NumCPU())
	return measure(ctx, cfg, "one hub, SQLite", h.URL, []proc{{name: "hub", usage: h.ReadUsage, url: h.URL}})
}

// runCluster runs the workload over cfg.nodes hub nodes on one PostgreSQL behind a balancer.
func runCluster(cfg config) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	pg, err := pgtest.StartDurable(ctx)
	if err != nil {
		return result{}, err
	}
	defer pg.Stop()
	dsn, err := pg.CreateDB(ctx, "parley_load")
	if err != nil {
		return result{}, err
	}
	if err := chatsim.Seed(ctx, dsn, cfg.agents, cfg.capacity); err != nil {
		return result{}, err
	}
	procs := []proc{{name: "postgres", usage: func() (chatsim.Usage, error) { return chatsim.TreeUsage(pg.PID()) }}}
	var urls []string
	for i := range cfg.nodes {
		name := fmt.Sprintf("n%d", i+1)
		h, err := chatsim.StartNode(ctx, cfg.hubBin, dsn, "127.0.0.1:0", name)
		if err != nil {
			return result{}, err
		}
		defer h.Stop()
		procs = append(procs, proc{name: name, usage: h.ReadUsage, url: h.URL})
		urls = append(urls, h.URL)
	}
	lb, err := chatsim.NewBalancer(urls)
	if err != nil {
		return result{}, err
	}
	defer lb.Close()
	fmt.Printf("parley-load: %d × %s as cluster nodes on PostgreSQL (durable: fsync and synchronous commit on) behind a TCP balancer on loopback, the same workload; %d CPUs\n",
		cfg.nodes, cfg.hubBin, runtime.NumCPU())
	return measure(ctx, cfg, fmt.Sprintf("%d nodes, PostgreSQL", cfg.nodes), lb.URL(), procs)
}

// measure runs the workload against url and reads the CPU of procs over it.
func measure(ctx context.Context, cfg config, label, url string, procs []proc) (result, error) {
	res := result{label: label, cpu: map[string]float64{}, share: map[string]float64{}}
	base := map[string]chatsim.Usage{}
	for _, p := range procs {
		u, err := p.usage()
		if err != nil {
			return res, fmt.Errorf("%s: %w", p.name, err)
		}
		base[p.name] = u
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sim := chatsim.New(chatsim.Config{URL: url, Messages: cfg.messages, Interval: cfg.interval, Logger: log,
		Client: client.Options{Logger: log, EventBuffer: 64}})
	defer sim.Close()
	start := time.Now()
	if err := sim.ConnectAgents(ctx, cfg.agents); err != nil {
		return res, err
	}
	if err := sim.StartCustomers(ctx, cfg.customers); err != nil {
		return res, err
	}
	connected := time.Now()
	res.setup = connected.Sub(start)
	total, up := sim.Sessions()
	fmt.Printf("setup: %d sessions (%d connected) in %v\n", total, up, res.setup.Round(time.Millisecond))
	if err := sim.WaitSent(ctx); err != nil {
		return res, err
	}
	res.rep = sim.WaitDelivered(ctx)
	end := time.Now()
	res.duration = end.Sub(start)
	self, _ := chatsim.ReadUsage(os.Getpid())
	lat := sim.Latencies()
	traffic := end.Sub(connected)
	fmt.Printf("chat: %s; %d conversations taken by agents; %d reconnects\n", res.rep, sim.Accepted(), sim.Reconnects())
	fmt.Printf("send → delivery latency, whole run, %d deliveries: p50 %v, p95 %v, p99 %v, max %v\n", len(lat),
		ms(chatsim.Percentile(lat, .50)), ms(chatsim.Percentile(lat, .95)), ms(chatsim.Percentile(lat, .99)), ms(chatsim.Percentile(lat, 1)))
	// While customers are still arriving the hub also routes offers and sends queue positions.
	res.lat = sim.LatenciesSince(connected)
	lat = res.lat
	fmt.Printf("send → delivery latency, once every session was connected, %d deliveries: p50 %v, p95 %v, p99 %v, max %v\n", len(lat),
		ms(chatsim.Percentile(lat, .50)), ms(chatsim.Percentile(lat, .95)), ms(chatsim.Percentile(lat, .99)), ms(chatsim.Percentile(lat, 1)))
	for _, p := range procs {
		use, err := p.usage()
		if err != nil {
			return res, fmt.Errorf("%s: %w", p.name, err)
		}
		name := p.name
		if p.url != "" && len(procs) > 1 && owned(p.url) > 0 {
			name += " (owner)"
		}
		res.names = append(res.names, name)
		res.cpu[name] = (use.CPU - base[p.name].CPU).Seconds()
		res.share[name] = res.cpu[name] / res.duration.Seconds()
		mem := fmt.Sprintf("RSS %.1f MB at the end, peak %.1f MB", mb(use.RSS), mb(use.PeakRSS))
		if use.RSS == 0 {
			mem = "RSS not summed (its processes share memory)"
		}
		fmt.Printf("%s: CPU %.1f s over the %v run (%.0f%% of one core on average), %s\n",
			name, res.cpu[name], res.duration.Round(time.Millisecond), 100*res.share[name], mem)
	}
	res.rate = float64(res.rep.Sent) / traffic.Seconds()
	fmt.Printf("load generator (this process, same machine): CPU %.1f s, peak RSS %.1f MB; %.0f messages/s acknowledged\n",
		self.CPU.Seconds(), mb(self.PeakRSS), res.rate)
	for _, p := range procs {
		if p.url == "" {
			continue
		}
		for _, name := range []string{"parley_hub_message_handle_seconds", "parley_hub_message_store_seconds"} {
			if h, err := chatsim.Histogram(p.url, name, "0.001", "0.01", "0.1", "0.5"); err == nil {
				fmt.Printf("  %s %s: %s\n", p.name, name, h)
			}
		}
	}
	if !res.rep.OK() {
		for _, e := range res.rep.Examples {
			fmt.Println("  ", e)
		}
		if len(procs) == 1 {
			return res, errors.New("messages were lost, doubled or refused")
		}
	} else if len(procs) == 1 {
		fmt.Println("parley-load: PASS, 0 messages lost")
	}
	return res, nil
}

// owned reads how many organisations the node at url serves (parley_cluster_owned_orgs).
func owned(url string) int {
	res, err := http.Get(url + "/metrics")
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`(?m)^parley_cluster_owned_orgs (\S+)$`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	var n float64
	_, _ = fmt.Sscan(string(m[1]), &n)
	return int(n)
}

// compare prints the two runs side by side.
func compare(a, b result) {
	row := func(what, x, y string) { fmt.Printf("%-44s %-36s %s\n", what, x, y) }
	row("", a.label, b.label)
	lost := func(r chatsim.Report) string {
		return fmt.Sprintf("%d lost of %d (dup %d, errors %d)", r.Lost+r.Missing, r.Sent, r.Duplicated, r.SendErrors)
	}
	row("messages", lost(a.rep), lost(b.rep))
	row("setup (sign-ins, conversations)", a.setup.Round(time.Millisecond).String(), b.setup.Round(time.Millisecond).String())
	p := func(r result, q float64) string { return ms(chatsim.Percentile(r.lat, q)) }
	row("latency once connected p50 / p99", p(a, .5)+" / "+p(a, .99), p(b, .5)+" / "+p(b, .99))
	cpu := func(r result) string {
		var parts []string
		for _, n := range r.names {
			parts = append(parts, fmt.Sprintf("%s %.1f s (%.0f%%)", n, r.cpu[n], 100*r.share[n]))
		}
		return strings.Join(parts, ", ")
	}
	row("CPU per process (% of one core), whole run", cpu(a), cpu(b))
	row("run (setup, traffic, delivery)", a.duration.Round(time.Millisecond).String(), b.duration.Round(time.Millisecond).String())
	row("messages/s acknowledged", fmt.Sprintf("%.0f", a.rate), fmt.Sprintf("%.0f", b.rate))
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

func ms(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
