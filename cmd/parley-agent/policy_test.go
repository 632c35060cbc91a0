package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/internal/hubtest"
	"github.com/parleyhq/parley/internal/logbuf"
	"github.com/parleyhq/parley/wire"
)

// TestPolicy runs the agent against a real hub under policy files: the locked hub signs in, any
// other is refused before a connection is made, and a malformed file refuses sign-in with EPOLICY.
func TestPolicy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := hubtest.Start(t, hub.Config{Demo: true})

	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	locked := write("locked.json", `{"hub_url": "`+s.URL()+`", "locked": ["hub_url"]}`)
	other := write("other.json", `{"hub_url": "https://hub.example.com", "locked": ["hub_url"]}`)
	bad := write("bad.json", "{\n  \"hubURL\": \"x\"\n}\n")

	tests := []struct {
		name, policy string
		wantCode     wire.Code // "" for a sign-in that works
		wantLog      string
	}{
		{"locked to this hub", locked, "", "managed by policy"},
		{"locked to another hub", other, wire.EFORBIDDEN, "hub_locked=true"},
		{"malformed", bad, "EPOLICY", "bad.json:2:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logbuf.Buffer{}
			m := NewMain()
			m.Stderr, m.Stdout = logs, logs
			if err := m.ParseFlags([]string{"-hub", s.URL(), "-org", "demo", "-user", "agent1", "-password", "demo", "-policy", tt.policy}); err != nil {
				t.Fatal(err)
			}
			m.Ready = make(chan struct{})
			runCtx, stop := context.WithCancel(ctx)
			defer stop()
			done := make(chan error, 1)
			go func() { done <- m.Run(runCtx) }()
			var err error
			select {
			case <-m.Ready:
				stop()
				err = <-done
			case err = <-done:
			case <-ctx.Done():
				t.Fatal("agent neither ready nor refused")
			}
			if got := wire.ErrorCode(err); tt.wantCode == "" && err != nil || tt.wantCode != "" && got != tt.wantCode {
				t.Errorf("Run = %v (code %q); want code %q", err, got, tt.wantCode)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("logs lack %q:\n%s", tt.wantLog, logs)
			}
		})
	}
}
