//go:build demo

// The demo hub is linked only into builds with the demo tag (make demo): the shipped app carries
// no hub, SQLite, TURN or portal.

package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/portal"
)

func init() { startDemo = demoHub }

// demoHub starts a hub in-process on addr with the demo organisation, on a SQLite file in the
// user's cache folder (the temp folder if there is none), serving the customer portal. It returns
// the hub's URL and a function that stops it.
func demoHub(ctx context.Context, addr string, log *slog.Logger) (string, func(), error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "parley")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	s, err := hub.Open(ctx, hub.Config{
		Addr:   addr,
		DB:     filepath.Join(dir, "demo-hub.db"),
		Demo:   true,
		Logger: log.With("component", "hub"),
		Portal: portal.Handler(),
	})
	if err != nil {
		return "", nil, err
	}
	if err := s.Start(); err != nil {
		_ = s.Close(ctx)
		return "", nil, err
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	}
	return s.URL(), stop, nil
}
