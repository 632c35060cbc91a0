package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/crypto/bcrypt"
)

func TestParseFlags(t *testing.T) {
	t.Setenv("PARLEY_ADDR", "127.0.0.1:9999")
	t.Setenv("PARLEY_DB", "/tmp/from-env.db")
	t.Setenv("PARLEY_DEMO", "true")
	tests := []struct {
		args       []string
		addr, db   string
		demo       bool
		wantErr    bool
		wantFormat string
	}{
		{nil, "127.0.0.1:9999", "/tmp/from-env.db", true, false, "text"},
		{[]string{"-addr", ":0", "-db", "x.db", "-demo=false"}, ":0", "x.db", false, false, "text"},
		{[]string{"--addr=127.0.0.1:1", "-log-format", "json"}, "127.0.0.1:1", "/tmp/from-env.db", true, false, "json"},
		{[]string{"-log-format", "xml"}, "", "", false, true, ""},
		{[]string{"stray"}, "", "", false, true, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			m := &Main{Stdout: io.Discard, Stderr: io.Discard}
			err := m.ParseFlags(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseFlags(%q) error = %v; want error %v", tt.args, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if m.Config.Addr != tt.addr || m.Config.DB != tt.db || m.Config.Demo != tt.demo || m.LogFormat != tt.wantFormat {
				t.Errorf("ParseFlags(%q) = addr %q db %q demo %v format %q; want %q %q %v %q", tt.args,
					m.Config.Addr, m.Config.DB, m.Config.Demo, m.LogFormat, tt.addr, tt.db, tt.demo, tt.wantFormat)
			}
		})
	}
}

func TestLimitFlags(t *testing.T) {
	m := &Main{Stdout: io.Discard, Stderr: io.Discard}
	if err := m.ParseFlags([]string{"-trusted-proxies", "127.0.0.1, 10.0.0.0/8"}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(m.Config.TrustedProxies); got != "[127.0.0.1/32 10.0.0.0/8]" {
		t.Errorf("trusted proxies = %s", got)
	}
	if m.Config.Limits.Off {
		t.Errorf("limits are off by default")
	}
	if m.Config.Limits.HelloTimeout != hub.DefaultLimits.HelloTimeout || m.Config.Limits.IdleTimeout != hub.DefaultLimits.IdleTimeout {
		t.Errorf("default hello and idle timeouts = %v, %v", m.Config.Limits.HelloTimeout, m.Config.Limits.IdleTimeout)
	}
	m = &Main{Stdout: io.Discard, Stderr: io.Discard}
	if err := m.ParseFlags([]string{"-hello-timeout", "3s", "-idle-timeout", "20s"}); err != nil || m.Config.Limits.HelloTimeout != 3*time.Second || m.Config.Limits.IdleTimeout != 20*time.Second {
		t.Errorf("-hello-timeout 3s -idle-timeout 20s: err %v, got %v, %v", err, m.Config.Limits.HelloTimeout, m.Config.Limits.IdleTimeout)
	}
	m = &Main{Stdout: io.Discard, Stderr: io.Discard}
	if err := m.ParseFlags([]string{"-rate-limits=false"}); err != nil || !m.Config.Limits.Off {
		t.Errorf("-rate-limits=false: err %v, off %v", err, m.Config.Limits.Off)
	}
	if err := (&Main{Stdout: io.Discard, Stderr: io.Discard}).ParseFlags([]string{"-trusted-proxies", "proxy.example"}); err == nil {
		t.Errorf("-trusted-proxies with a host name: no error")
	}
}

func TestVersionFlag(t *testing.T) {
	m := &Main{Stdout: io.Discard, Stderr: io.Discard}
	if err := m.ParseFlags([]string{"--version"}); err != nil || !m.ShowVersion {
		t.Errorf("ParseFlags(--version) = %v, ShowVersion %v", err, m.ShowVersion)
	}
}

// run starts the hub the way a user does, and returns its URL.
func run(t *testing.T, args ...string) (*Main, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	if err := m.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	m.Config.BcryptCost = bcrypt.MinCost // the default cost is slow under -race
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	line := stdout.String()
	match := regexp.MustCompile(`^listening on (http://127\.0\.0\.1:\d+)\n$`).FindStringSubmatch(line)
	if match == nil {
		t.Fatalf("stdout = %q; want exactly \"listening on http://ADDR\\n\"", line)
	}
	return m, match[1]
}

func TestRunDemoServesAndRestarts(t *testing.T) {
	db := t.TempDir() + "/parley.db"
	for round := range 2 { // the second start finds the demo data and keeps it
		m, url := run(t, "-addr", "127.0.0.1:0", "-db", db, "-demo")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for _, user := range []string{"agent1", "agent2", "super1", "admin1"} {
			if _, err := client.Login(ctx, url, "demo", user, "demo"); err != nil {
				t.Errorf("round %d: login %s: %v", round, user, err)
			}
		}
		users, err := m.Server.Store().Users(ctx, "demo")
		if err != nil || len(users) != 4 {
			t.Errorf("round %d: demo members = %d, %v; want 4", round, len(users), err)
		}
		for _, path := range []string{"/healthz", "/readyz", "/chat/demo"} {
			res, err := http.Get(url + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("GET %s = %d; want 200", path, res.StatusCode)
			}
		}
		// A connected client is told the hub is going away when it shuts down.
		login, err := client.Login(ctx, url, "demo", "agent1", "demo")
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.Dial(ctx, url, login.Token, client.Options{MinBackoff: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		for env := range c.Events() {
			if ev, ok := client.ParseState(env); ok && ev.State == client.StateReconnecting {
				break
			}
		}
		c.Close()
		cancel()
	}
}

func TestRunWithoutDemoHasNoDemoOrg(t *testing.T) {
	m, url := run(t, "-addr", "127.0.0.1:0", "-db", t.TempDir()+"/p.db", "-demo=false")
	defer m.Close()
	_, err := client.Login(context.Background(), url, "demo", "agent1", "demo")
	if wire.ErrorCode(err) != wire.EUNAUTHORIZED {
		t.Errorf("login without -demo: %v; want EUNAUTHORIZED", err)
	}
}

func TestMetricsFlags(t *testing.T) {
	dir := t.TempDir()
	tokenFile, emptyFile := dir+"/metrics.token", dir+"/empty"
	if err := os.WriteFile(tokenFile, []byte("s3cret-scrape\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	m := &Main{Stdout: io.Discard, Stderr: io.Discard}
	if err := m.ParseFlags([]string{"-metrics-token-file", tokenFile}); err != nil || m.Config.MetricsToken != "s3cret-scrape" {
		t.Errorf("-metrics-token-file: err %v, token %q; want the file's line", err, m.Config.MetricsToken)
	}
	for _, bad := range []string{emptyFile, dir + "/missing"} {
		if err := (&Main{Stdout: io.Discard, Stderr: io.Discard}).ParseFlags([]string{"-metrics-token-file", bad}); err == nil {
			t.Errorf("-metrics-token-file %s: no error", bad)
		}
	}

	// With -metrics-addr the hub says where its metrics are, and serves them only there.
	var stdout bytes.Buffer
	m = &Main{Stdout: &stdout, Stderr: io.Discard}
	if err := m.ParseFlags([]string{"-addr", "127.0.0.1:0", "-db", dir + "/p.db", "-metrics-addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	m.Config.BcryptCost = bcrypt.MinCost
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	match := regexp.MustCompile(`^listening on (http://\S+)\nmetrics on (http://127\.0\.0\.1:\d+/metrics)\n$`).FindStringSubmatch(stdout.String())
	if match == nil {
		t.Fatalf("stdout = %q; want the listening line, then \"metrics on URL\"", stdout.String())
	}
	for url, want := range map[string]int{match[2]: http.StatusOK, match[1] + "/metrics": http.StatusNotFound} {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s = %d; want %d", url, res.StatusCode, want)
		}
	}
}
