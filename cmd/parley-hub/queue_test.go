package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// TestQueueSubcommands scripts an organisation's routing from the command line while its hub
// runs: the hub applies each change (a new queue, a member's skills, the pre-chat question)
// within seconds, and bad input is refused with the usual exit codes.
func TestQueueSubcommands(t *testing.T) {
	envFile = t.TempDir() + "/none"
	db := t.TempDir() + "/hub.db"
	if code, out, errOut := cli(t, db, "init", "--org", "acme", "--name", "Acme", "--admin", "boss"); code != exitOK {
		t.Fatal(out, errOut)
	}
	if code, out, errOut := cli(t, db, "user", "add", "--org", "acme", "ann", "--role", "agent"); code != exitOK {
		t.Fatal(out, errOut)
	}
	m, url := run(t, "-addr", "127.0.0.1:0", "-db", db)
	defer m.Close()
	cliScript(t, db, []cliCase{
		{[]string{"queue", "list", "--org", "acme"}, exitOK, "general  General  yes"},
		{[]string{"queue", "set", "--org", "acme", "billing", "--name", "Billing", "--skills", "billing:2", "--calls", "voice",
			"--hours", "mon-fri 09:00-17:00", "--tz", "Europe/Madrid", "--max-wait", "10m", "--service-level", "90%/20s"}, exitOK,
			"Queue billing (Billing) saved: calls voice, recording -, skills billing:2, hours mon 09:00-17:00, tue 09:00-17:00, wed 09:00-17:00, thu 09:00-17:00, fri 09:00-17:00 Europe/Madrid, max wait 10m0s."},
		{[]string{"queue", "set", "--org", "acme", "billing", "--hours", ""}, exitOK, "hours always"},
		{[]string{"queue", "set", "--org", "acme", "billing", "--recording", "always"}, exitOK, "calls voice, recording always,"},
		{[]string{"queue", "list", "--org", "acme"}, exitOK, "billing  Billing           voice  always"},
		{[]string{"queue", "set", "--org", "acme", "billing", "--recording", "sometimes"}, exitRefused, "recording must be off, ask, always"},
		{[]string{"queue", "set", "--org", "acme", "night", "--hours", "fri 22:00-02:00"}, exitRefused, "split a night in two"},
		{[]string{"queue", "set", "--org", "acme", "x", "--hours", "someday 9-5"}, exitUsage, "days are sun"},
		{[]string{"queue", "set", "--org", "acme", "x", "--skills", "es:high"}, exitUsage, "level after :"},
		{[]string{"queue", "set", "--org", "acme", "Bad Queue"}, exitRefused, "queue id"},
		{[]string{"queue", "set", "--org", "nope", "x"}, exitNotFound, "no such organisation"},
		{[]string{"queue", "member", "--org", "acme", "ann", "--queues", "billing", "--skills", "billing:3,es:1"}, exitOK, "ann: queues billing, skills billing:3,es:1."},
		{[]string{"queue", "member", "--org", "acme", "ann", "--queues", "nope"}, exitNotFound, "no queue"},
		{[]string{"queue", "member", "--org", "acme", "zed"}, exitNotFound, "no member"},
		{[]string{"queue", "prechat", "--org", "acme", "--question", "What is it about?", "--choice", "bill|My bill|billing|es:1", "--choice", "other|Something else|general"}, exitOK, "2 answers saved"},
		{[]string{"queue", "prechat", "--org", "acme", "--question", "Q?", "--choice", "a|A"}, exitUsage, "ID|Label|QUEUE"},
		{[]string{"queue", "delete", "--org", "acme", "general"}, exitConflict, "default queue cannot be removed"},
		{[]string{"queue", "frob", "--org", "acme"}, exitUsage, "unknown subcommand"},
		{[]string{"queue", "list"}, exitUsage, "--org is required"},
	})
	code, out, _ := cli(t, db, "queue", "list", "--org", "acme", "--json")
	var rt wire.Routing
	if err := json.Unmarshal([]byte(out), &rt); code != exitOK || err != nil || len(rt.Queues) != 2 || rt.Queues[1].ServiceLevel != (wire.ServiceLevel{TargetS: 20, Percent: 90}) {
		t.Errorf("queue list --json = %d %q (%v)", code, out, err)
	}
	// The running hub took it all from the audit log: the widget sees the pre-chat question, and
	// a customer who picks "My bill" waits in Billing (voice only).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var cfg wire.WidgetConfig
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		cfg = wire.WidgetConfig{}
		if err := client.API(ctx, url, http.MethodGet, "/api/v1/orgs/acme/widget", "", nil, &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.Prechat != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if cfg.Prechat == nil || cfg.Prechat.Choices[0].Queue.Name != "Billing" {
		t.Fatalf("the running hub's widget = %+v; want the pre-chat question", cfg)
	}
	started, err := client.Start(ctx, url, "acme", wire.StartConversation{Name: "Cy", Choice: "bill"})
	if err != nil {
		t.Fatal(err)
	}
	if started.Conversation.Queue != "billing" || started.Conversation.Calls != wire.CallsVoiceOnly {
		t.Errorf("conversation = %+v; want waiting in Billing, voice only", started.Conversation)
	}
}
