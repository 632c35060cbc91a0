package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/wire"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" { // a hub node process of the cluster test (cluster_test.go)
		main()
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

// data runs a database subcommand in-process as a script would.
func data(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runData(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// waitFor returns the first event of type typ within 10 s.
func waitFor(t *testing.T, c *client.Conn, typ wire.Type, v any) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case env, ok := <-c.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %s", typ)
			}
			if env.Type == typ {
				if v != nil {
					if err := json.Unmarshal(env.Data, v); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
		case <-deadline:
			t.Fatalf("no %s within 10 s", typ)
		}
	}
}

// A hub that ran on SQLite moves into PostgreSQL the documented ways (export | import, and copy)
// and goes on there: the customer resumes the same conversation with every message, the agent
// signs in with the same password and finds it, the next message takes the next seq.
func TestMoveAHubFromSQLiteToPostgres(t *testing.T) {
	envFile = t.TempDir() + "/none"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	lite := dir + "/parley.db"

	// A day on SQLite: a customer chats with agent1.
	m, url := run(t, "-addr", "127.0.0.1:0", "-db", lite, "-demo")
	started, err := client.StartConversation(ctx, url, hub.DemoOrg, "Zoë")
	if err != nil {
		t.Fatal(err)
	}
	cust, err := client.Dial(ctx, url, started.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	login, err := client.Login(ctx, url, hub.DemoOrg, "agent1", hub.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	agent, err := client.Dial(ctx, url, login.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cust.Send(ctx, started.Conversation.ID, "hello, my order never came"); err != nil {
		t.Fatal(err)
	}
	var offer wire.Offer
	waitFor(t, agent, wire.TypeOffer, &offer)
	if _, err := agent.Request(ctx, wire.TypeOfferAccept, wire.OfferRef{Offer: offer.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Send(ctx, started.Conversation.ID, "let me look"); err != nil {
		t.Fatal(err)
	}
	before, err := agent.History(ctx, started.Conversation.ID, 0)
	if err != nil || len(before) < 3 {
		t.Fatalf("history on SQLite = %d messages, %v", len(before), err)
	}
	cust.Close()
	agent.Close()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	if code, out, errOut := data(t, "migrate", "-db", lite, "--status"); code != exitOK || !strings.Contains(out, "schema version") || strings.Contains(out, "brings it up") {
		t.Errorf("migrate --status = %d, %q, %q", code, out, errOut)
	}

	// export | import, the DSN read from a file as the service does.
	pg := pgtest.DSN(t)
	dsnFile := dir + "/db-dsn"
	if err := os.WriteFile(dsnFile, []byte(pg+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := data(t, "migrate", "-db-file", dsnFile, "--status"); code != exitOK || !strings.Contains(out, "schema version 0") {
		t.Errorf("migrate --status on a new database = %d, %q", code, out)
	}
	code, _, errOut := data(t, "export", "-db", lite, "-o", dir+"/export.jsonl")
	if code != exitOK || !strings.Contains(errOut, "1 organisations, 4 members, 1 conversations") {
		t.Fatalf("export = %d, %q", code, errOut)
	}
	code, out, errOut := data(t, "import", "-db-file", dsnFile, "-i", dir+"/export.jsonl")
	if code != exitOK || !strings.Contains(out, "Imported into postgres://parley@127.0.0.1") || !strings.Contains(out, "4 members") {
		t.Fatalf("import = %d, %q, %q", code, out, errOut)
	}
	if code, _, errOut := data(t, "import", "-db-file", dsnFile, "-i", dir+"/export.jsonl"); code != exitConflict || !strings.Contains(errOut, "not empty") {
		t.Errorf("a second import = %d, %q; want refused as not empty", code, errOut)
	}
	// copy, straight into another database.
	pg2 := pgtest.DSN(t)
	if code, out, errOut := data(t, "copy", "-from", lite, "-to", pg2, "--json"); code != exitOK || !strings.Contains(out, `"messages"`) {
		t.Errorf("copy = %d, %q, %q", code, out, errOut)
	}
	if code, out, _ := data(t, "migrate", "-db", pg2); code != exitOK || !strings.Contains(out, "up to date") {
		t.Errorf("migrate = %d, %q", code, out)
	}

	// The hub on PostgreSQL: everyone carries on.
	m, url = run(t, "-addr", "127.0.0.1:0", "-db-file", dsnFile)
	defer m.Close()
	cust, err = client.Dial(ctx, url, started.Token, client.Options{})
	if err != nil {
		t.Fatalf("the customer's token after the move: %v", err)
	}
	defer cust.Close()
	after, err := cust.History(ctx, started.Conversation.ID, 0)
	if err != nil || len(after) != len(before) {
		t.Fatalf("history on PostgreSQL = %d messages, %v; want %d", len(after), err, len(before))
	}
	for i := range before {
		if a, b := after[i], before[i]; a.Seq != b.Seq || a.Text != b.Text || a.At != b.At || a.Author != b.Author || a.ClientID != b.ClientID {
			t.Errorf("message %d: %+v on SQLite, %+v on PostgreSQL", i, before[i], after[i])
		}
	}
	login, err = client.Login(ctx, url, hub.DemoOrg, "agent1", hub.DemoPassword)
	if err != nil {
		t.Fatalf("agent1's password after the move: %v", err)
	}
	agent, err = client.Dial(ctx, url, login.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	if w := agent.Welcome(); len(w.Conversations) != 1 || w.Conversations[0].ID != started.Conversation.ID {
		t.Errorf("agent1's conversations after the move: %+v", w.Conversations)
	}
	ack, err := cust.Send(ctx, started.Conversation.ID, "still there?")
	if err != nil || ack.Seq != before[len(before)-1].Seq+1 {
		t.Errorf("the first message on PostgreSQL: seq %d, %v; want %d", ack.Seq, err, before[len(before)-1].Seq+1)
	}
}
