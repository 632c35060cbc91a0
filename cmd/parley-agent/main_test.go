package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/internal/hubtest"
	"github.com/parleyhq/parley/internal/logbuf"
	"github.com/parleyhq/parley/wire"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
	}{
		{[]string{"-hub", "http://h", "-org", "o", "-user", "u", "-password", "p"}, false},
		{[]string{"-hub", "http://h", "-user", "u", "-password", "p"}, true}, // no organisation: no demo default
		{[]string{"-hub", "http://h", "-token", "t"}, false},
		{[]string{"-hub", "http://h", "-user", "u"}, true},
		{[]string{"-user", "u", "-password", "p"}, true},
		{[]string{"-version"}, false},
		{[]string{"-hub", "http://h", "-user", "u", "-password", "p", "extra"}, true},
		{[]string{"-hub", "http://h", "-org", "o", "-user", "u", "-password", "p", "-call", "video"}, false},
		{[]string{"-hub", "http://h", "-org", "o", "-user", "u", "-password", "p", "-call", "voice", "-devices", "system"}, false},
		{[]string{"-hub", "http://h", "-org", "o", "-user", "u", "-password", "p", "-call", "hologram"}, true},
		{[]string{"-hub", "http://h", "-org", "o", "-user", "u", "-password", "p", "-devices", "webcam"}, true},
		{[]string{"-hub", "http://h", "-org", "o", "-user", "u", "-password", "p", "-policy", "none"}, false},
		{[]string{"-hub", "http://h", "-org", "o", "-user", "u", "-password", "p", "-speaker", "default"}, false},
		{[]string{"-hub", "http://h", "-org", "o", "-user", "u", "-password", "p", "-policy", "/no/such/policy.json"}, true},
	}
	for _, tt := range tests {
		m := NewMain()
		m.Stderr = &bytes.Buffer{}
		t.Setenv("PARLEY_PASSWORD", "")
		t.Setenv("PARLEY_HUB", "")
		if err := m.ParseFlags(tt.args); (err != nil) != tt.wantErr {
			t.Errorf("ParseFlags(%q) = %v; want error %v", tt.args, err, tt.wantErr)
		}
	}
}

// TestAcceptAndEcho runs the headless agent against a real hub: a customer's messages come back
// as "echo: <text>", and the agent stops cleanly when its context ends.
func TestAcceptAndEcho(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := hubtest.Start(t, hub.Config{Demo: true})

	logs := &logbuf.Buffer{}
	m := NewMain()
	m.Stderr, m.Stdout = logs, logs
	if err := m.ParseFlags([]string{"-hub", s.URL(), "-org", "demo", "-user", "agent1", "-password", "demo", "-accept", "-reply-echo", "-policy", "none"}); err != nil {
		t.Fatal(err)
	}
	m.Ready = make(chan struct{})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	select {
	case <-m.Ready:
	case err := <-done:
		t.Fatalf("Run ended before ready: %v\n%s", err, logs)
	case <-ctx.Done():
		t.Fatal("agent not ready")
	}

	started, err := client.StartConversation(ctx, s.URL(), "demo", "Eve")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Dial(ctx, s.URL(), started.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Send once the agent has the conversation: messages sent before the accept reach the agent
	// as a backlog, which may be told after a newer live one, and the echoes' order would vary.
	active := false
	for _, c := range conn.Welcome().Conversations {
		active = active || c.State == wire.ConvActive
	}
	for !active {
		select {
		case ev := <-conn.Events():
			var c wire.Conversation
			active = ev.Type == wire.TypeConvState && ev.Unmarshal(&c) == nil && c.State == wire.ConvActive
		case <-ctx.Done():
			t.Fatalf("the agent never took the conversation\nlogs:\n%s", logs)
		}
	}
	for _, text := range []string{"one", "two <script>alert(1)</script>"} {
		if _, err := conn.Send(ctx, started.Conversation.ID, text); err != nil {
			t.Fatal(err)
		}
	}
	var echoes []string
	for len(echoes) < 2 {
		select {
		case ev := <-conn.Events():
			var msg wire.Message
			if ev.Type == wire.TypeChatMessage && ev.Unmarshal(&msg) == nil && msg.Author == wire.AuthorAgent {
				echoes = append(echoes, msg.Text)
			}
		case <-ctx.Done():
			t.Fatalf("echoes = %q; want two\nlogs:\n%s", echoes, logs)
		}
	}
	if got, want := strings.Join(echoes, "|"), "echo: one|echo: two <script>alert(1)</script>"; got != want {
		t.Errorf("echoes = %q; want %q", got, want)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v; want a clean stop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	if !strings.Contains(logs.String(), "msg=offer") || strings.Contains(logs.String(), "password=") {
		t.Errorf("logs lack the offer or show the password:\n%s", logs)
	}
}
