package resilience

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/resilience/chatsim"
)

func TestMain(m *testing.M) {
	// The call tests re-run this binary inside a network namespace as one peer of the call.
	if os.Getenv(peerEnv) != "" {
		os.Exit(runPeer())
	}
	os.Exit(m.Run())
}

// hubBin returns the hub binary named by PARLEY_HUB, or skips.
func hubBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("PARLEY_HUB")
	if bin == "" {
		t.Skip("PARLEY_HUB is not set: run `make test-resilience` (or set PARLEY_HUB=out/parley-hub after `make out/parley-hub`)")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("PARLEY_HUB: %v", err)
	}
	return abs
}

// seeded returns a fresh hub database with agents of capacity 10.
func seeded(t *testing.T, agents int) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "hub.db")
	if err := chatsim.Seed(context.Background(), db, agents, 10); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return db
}

// freePort returns a loopback address nobody listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startHub runs the hub binary and stops it when the test ends; on failure its logs are shown.
func startHub(t *testing.T, bin, db, addr string, prefix ...string) *chatsim.HubProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := chatsim.StartHub(ctx, bin, db, addr, prefix...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Stop()
		if t.Failed() {
			logs := h.Logs()
			if len(logs) > 4000 {
				logs = "..." + logs[len(logs)-4000:]
			}
			t.Logf("hub logs (tail):\n%s", logs)
		}
	})
	return h
}

// clientOptions reconnect fast and notice a dead link within about two seconds.
func clientOptions(t *testing.T) client.Options {
	o := client.Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, PingInterval: time.Second}
	if os.Getenv("PARLEY_RESILIENCE_DEBUG") != "" {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return o
}

// within returns a context that ends after d or with the test.
// startChat runs a chat simulation against url: agents signed in and customers' conversations
// started within setup, each party sending messages about interval apart. It closes when the
// test ends.
func startChat(t *testing.T, url string, agents, customers, messages int, interval, setup time.Duration) *chatsim.Sim {
	t.Helper()
	sim := chatsim.New(chatsim.Config{URL: url, Messages: messages, Interval: interval, Client: clientOptions(t)})
	t.Cleanup(sim.Close)
	ctx := within(t, setup)
	if err := sim.ConnectAgents(ctx, agents); err != nil {
		t.Fatal(err)
	}
	if err := sim.StartCustomers(ctx, customers); err != nil {
		t.Fatal(err)
	}
	return sim
}

func within(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
