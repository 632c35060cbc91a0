package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley/wire"
	"golang.org/x/crypto/bcrypt"
)

func TestCallFlags(t *testing.T) {
	dir := t.TempDir()
	secret := "s3cret-from-a-file-never-logged"
	if err := os.WriteFile(dir+"/turn.secret", []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	relays := `[{"id": "eu-1", "region": "eu", "urls": ["turn:eu1.example.com:3478?transport=udp"], "secret": "x"}]`
	if err := os.WriteFile(dir+"/relays.json", []byte(relays), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/bad.json", []byte(`[{"id": "x", "region": "eu", "urls": ["turn:x:1"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	refused := [][]string{
		{"-turn-secret", "a", "-turn-secret-file", dir + "/turn.secret"},
		{"-turn-secret-file", dir + "/missing"},
		{"-relays", dir + "/bad.json"}, // a TURN relay without a secret
	}
	for _, args := range refused {
		m := &Main{Stdout: io.Discard, Stderr: io.Discard}
		if err := m.ParseFlags(args); err == nil {
			t.Errorf("ParseFlags(%q) = nil; want an error", args)
		}
	}

	var stderr bytes.Buffer
	m := &Main{Stdout: io.Discard, Stderr: &stderr}
	err := m.ParseFlags([]string{"-addr", "127.0.0.1:0", "-db", dir + "/p.db", "-demo", "-turn-udp", "127.0.0.1:0",
		"-turn-secret-file", dir + "/turn.secret", "-relays", dir + "/relays.json", "-demo-calls", "voice", "-demo-region", "gcc",
		"-ring-timeout", "20s", "-turn-ports", "50000-50100"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.TURNSecret != secret || len(m.Config.Relays) != 1 || m.Config.RingTimeout.Seconds() != 20 {
		t.Fatalf("Config = secret %q, relays %v, ring %v", m.Config.TURNSecret, m.Config.Relays, m.Config.RingTimeout)
	}
	m.Config.BcryptCost = bcrypt.MinCost
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Server.TURN() == nil || m.Server.TURN().UDPAddr() == nil {
		t.Error("no embedded TURN server running")
	}
	if m.Config.TURNPorts != "50000-50100" {
		t.Errorf("TURNPorts = %q", m.Config.TURNPorts)
	}
	o, err := m.Server.Store().Org(context.Background(), "demo")
	if err != nil || o.Calls != wire.CallsVoiceOnly || o.Region != "gcc" {
		t.Errorf("demo org = %+v, %v; want voice only in gcc", o, err)
	}
	if strings.Contains(stderr.String(), secret) {
		t.Error("the TURN secret is in the logs")
	}
}
