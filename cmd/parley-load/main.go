// Command parley-load is a bounded load test of the hub on loopback: it seeds a fresh database
// with agents (through the hub's own API), runs the parley-hub binary on it, signs the agents in,
// opens one conversation per customer, and has every customer and its agent exchange messages.
// It checks that every acknowledged message reached the other side exactly once, in order, and
// prints send → delivery latency percentiles and the hub's CPU and memory.
//
//	parley-load -hub out/parley-hub -customers 2000 -agents 200 -messages 5 -interval 4s
//
// It exits 1 if a message was lost, doubled or refused, or the run overran -timeout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/parleyhq/parley/hub/client"
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
	flag.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "parley-load:", err)
		os.Exit(1)
	}
}

type config struct {
	hubBin                                string
	customers, agents, capacity, messages int
	interval, timeout                     time.Duration
}

func run(cfg config) error {
	if cfg.customers < 1 || cfg.agents < 1 || cfg.messages < 1 {
		return errors.New("-customers, -agents and -messages must be positive")
	}
	if cfg.agents*cfg.capacity < cfg.customers {
		return fmt.Errorf("%d agents of capacity %d cannot take %d customers", cfg.agents, cfg.capacity, cfg.customers)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "parley-load")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "hub.db")
	if err := chatsim.Seed(ctx, db, cfg.agents, cfg.capacity); err != nil {
		return err
	}
	h, err := chatsim.StartHub(ctx, cfg.hubBin, db, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer h.Stop()
	base, _ := h.ReadUsage()
	fmt.Printf("parley-load: %s on loopback, %d customers, %d agents (capacity %d), %d messages each way per conversation, one every %v on average; %d CPUs\n",
		cfg.hubBin, cfg.customers, cfg.agents, cfg.capacity, cfg.messages, cfg.interval, runtime.NumCPU())

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sim := chatsim.New(chatsim.Config{URL: h.URL, Messages: cfg.messages, Interval: cfg.interval, Logger: log,
		Client: client.Options{Logger: log, EventBuffer: 64}})
	defer sim.Close()
	start := time.Now()
	if err := sim.ConnectAgents(ctx, cfg.agents); err != nil {
		return err
	}
	if err := sim.StartCustomers(ctx, cfg.customers); err != nil {
		return err
	}
	connected := time.Now()
	total, up := sim.Sessions()
	idle, _ := h.ReadUsage()
	fmt.Printf("setup: %d sessions (%d connected) in %v; hub RSS %.1f MB (%.1f MB before)\n",
		total, up, connected.Sub(start).Round(time.Millisecond), mb(idle.RSS), mb(base.RSS))

	if err := sim.WaitSent(ctx); err != nil {
		return err
	}
	rep := sim.WaitDelivered(ctx)
	end := time.Now()
	use, err := h.ReadUsage()
	if err != nil {
		return err
	}
	self, _ := chatsim.ReadUsage(os.Getpid())
	lat := sim.Latencies()
	traffic := end.Sub(connected)
	fmt.Printf("chat: %s; %d conversations taken by agents; %d reconnects\n", rep, sim.Accepted(), sim.Reconnects())
	fmt.Printf("send → delivery latency, whole run, %d deliveries: p50 %v, p95 %v, p99 %v, max %v\n", len(lat),
		ms(chatsim.Percentile(lat, .50)), ms(chatsim.Percentile(lat, .95)), ms(chatsim.Percentile(lat, .99)), ms(chatsim.Percentile(lat, 1)))
	// While customers are still arriving the hub also routes offers and sends queue positions.
	lat = sim.LatenciesSince(connected)
	fmt.Printf("send → delivery latency, once every session was connected, %d deliveries: p50 %v, p95 %v, p99 %v, max %v\n", len(lat),
		ms(chatsim.Percentile(lat, .50)), ms(chatsim.Percentile(lat, .95)), ms(chatsim.Percentile(lat, .99)), ms(chatsim.Percentile(lat, 1)))
	fmt.Printf("hub: CPU %.1f s over the %v run (%.0f%% of one core on average; %.0f%% after setup), RSS %.1f MB at the end, peak %.1f MB\n",
		(use.CPU - base.CPU).Seconds(), end.Sub(start).Round(time.Millisecond),
		100*(use.CPU-base.CPU).Seconds()/end.Sub(start).Seconds(), 100*(use.CPU-idle.CPU).Seconds()/traffic.Seconds(),
		mb(use.RSS), mb(use.PeakRSS))
	fmt.Printf("load generator (this process, same machine): CPU %.1f s, peak RSS %.1f MB; %.0f messages/s acknowledged\n",
		self.CPU.Seconds(), mb(self.PeakRSS), float64(rep.Sent)/traffic.Seconds())
	for _, name := range []string{"parley_hub_message_handle_seconds", "parley_hub_message_store_seconds"} {
		if h, err := chatsim.Histogram(h.URL, name, "0.001", "0.01", "0.1", "0.5"); err == nil {
			fmt.Printf("  %s: %s\n", name, h)
		}
	}
	if !rep.OK() {
		for _, e := range rep.Examples {
			fmt.Println("  ", e)
		}
		return errors.New("messages were lost, doubled or refused")
	}
	fmt.Println("parley-load: PASS, 0 messages lost")
	return nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

func ms(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
