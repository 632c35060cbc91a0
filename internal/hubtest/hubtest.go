// Package hubtest runs a real hub on loopback for the tests of the packages that talk to one:
// the app, its network test and the headless agent.
package hubtest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"golang.org/x/crypto/bcrypt"
)

// Start opens and starts a hub as cfg says, with the cheapest bcrypt, on a free loopback port and
// a new SQLite database in the test's directory unless cfg names its own, and closes it when the
// test ends.
func Start(t testing.TB, cfg hub.Config) *hub.Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.DB == "" {
		cfg.DB = filepath.Join(t.TempDir(), "hub.db")
	}
	cfg.BcryptCost = bcrypt.MinCost
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := hub.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}
