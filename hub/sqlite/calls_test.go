package sqlite_test

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/parleyhq/parley/hub/sqlite" // registers the driver used to write a v1 database
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// schemaV1 is the first shipped schema (migration 1), to check that a database made by that hub
// upgrades.
const schemaV1 = `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
	INSERT INTO schema_migrations VALUES (1, 0);
	CREATE TABLE orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
	CREATE TABLE users (id TEXT PRIMARY KEY, org TEXT NOT NULL REFERENCES orgs(id), username TEXT NOT NULL,
		display_name TEXT NOT NULL, role TEXT NOT NULL, password_hash TEXT NOT NULL, capacity INTEGER NOT NULL,
		created_at INTEGER NOT NULL, UNIQUE (org, username));
	CREATE TABLE tokens (hash TEXT PRIMARY KEY, org TEXT NOT NULL REFERENCES orgs(id), role TEXT NOT NULL,
		user_id TEXT NOT NULL DEFAULT '', conv TEXT NOT NULL DEFAULT '', expires_at INTEGER NOT NULL);
	CREATE INDEX tokens_expires ON tokens(expires_at);
	CREATE TABLE conversations (id TEXT PRIMARY KEY, org TEXT NOT NULL REFERENCES orgs(id), state TEXT NOT NULL,
		customer_name TEXT NOT NULL, agent_id TEXT NOT NULL DEFAULT '', agent_name TEXT NOT NULL DEFAULT '',
		last_seq INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, accepted_at INTEGER NOT NULL DEFAULT 0,
		ended_at INTEGER NOT NULL DEFAULT 0, ended_by TEXT NOT NULL DEFAULT '');
	CREATE INDEX conversations_open ON conversations(state, created_at);
	CREATE TABLE messages (conv TEXT NOT NULL REFERENCES conversations(id), seq INTEGER NOT NULL, author TEXT NOT NULL,
		author_name TEXT NOT NULL, text TEXT NOT NULL, client_id TEXT, at INTEGER NOT NULL, PRIMARY KEY (conv, seq));
	CREATE UNIQUE INDEX messages_client_id ON messages(conv, client_id) WHERE client_id IS NOT NULL;
	CREATE TABLE receipts (conv TEXT NOT NULL REFERENCES conversations(id), by TEXT NOT NULL, kind TEXT NOT NULL,
		seq INTEGER NOT NULL, PRIMARY KEY (conv, by, kind));
	INSERT INTO orgs VALUES ('o', 'Old Org', 0);
	INSERT INTO users VALUES ('u1', 'o', 'agent1', 'Agent One', 'agent', 'h', 2, 0);
	INSERT INTO tokens VALUES ('0123456789abcdef0123456789abcdef', 'o', 'agent', 'u1', '', 99999999999999);
	INSERT INTO conversations (id, org, state, customer_name, last_seq, created_at) VALUES ('c', 'o', 'active', 'Ann', 1, 0);
	INSERT INTO messages VALUES ('c', 1, 'system', '', 'Agent One joined the conversation.', NULL, 0);`

func TestUpgradeFromV1KeepsDataAndAddsCalls(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/v1.db"
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(schemaV1); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db := open(t, path)
	o, err := db.Org(ctx, "o")
	if err != nil || o.Name != "Old Org" || o.Calls != wire.CallsVoiceVideo || o.Region != "" {
		t.Errorf("upgraded org = %+v, %v; want its name, voice_video, no region", o, err)
	}
	// Members stay enabled, and their sessions get an id an admin can end them by.
	if u, err := db.User(ctx, "u1"); err != nil || u.Disabled || u.Username != "agent1" || u.PasswordHash != "h" {
		t.Errorf("upgraded member = %+v, %v", u, err)
	}
	if tok, err := db.Token(ctx, "0123456789abcdef0123456789abcdef"); err != nil || tok.ID != "s_0123456789abcdef0123" || tok.User != "u1" {
		t.Errorf("upgraded session = %+v, %v; want id s_0123456789abcdef0123", tok, err)
	}
	msgs, err := db.Messages(ctx, "c", 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Event != nil {
		t.Errorf("upgraded messages = %+v, %v; want the old line without an event", msgs, err)
	}
	m, _, err := db.AppendMessage(ctx, wire.Message{Conv: "c", Author: wire.AuthorSystem, Text: "Call ended · 0:42",
		Event: &wire.Event{Kind: wire.EventCallEnded, CallKind: wire.CallVoice, DurationMS: 42000}})
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ = db.Messages(ctx, "c", 1, 10)
	if len(msgs) != 1 || msgs[0].Seq != m.Seq || msgs[0].Event == nil || *msgs[0].Event != *m.Event {
		t.Errorf("stored event = %+v; want %+v", msgs, m.Event)
	}
	o.Calls, o.Region = wire.CallsVoiceOnly, "gcc"
	if err := db.UpdateOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	if o2, _ := db.Org(ctx, "o"); o2.Calls != wire.CallsVoiceOnly || o2.Region != "gcc" {
		t.Errorf("after UpdateOrg: %+v", o2)
	}
}

func TestCallsSaveEndAndReport(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir()+"/c.db")
	if err := db.CreateOrg(ctx, store.Org{ID: "o", Name: "O", Region: "na"}); err != nil {
		t.Fatal(err)
	}
	conv := wire.Conversation{ID: "c", Org: "o", State: wire.ConvActive, CustomerName: "Ann", AgentID: "u", AgentName: "Agent", CreatedAt: 1000, AcceptedAt: 2000}
	if err := db.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	calls := []store.CallRecord{
		{Call: wire.Call{ID: "k1", Conv: "c", Kind: wire.CallVideo, State: wire.CallEnded, Outcome: wire.OutcomeDeclined, CreatedAt: 3000, EndedAt: 4000}, Org: "o", Agent: "u"},
		{Call: wire.Call{ID: "k2", Conv: "c", Kind: wire.CallVideo, State: wire.CallActive, Outcome: wire.OutcomeAcceptedVideo, CreatedAt: 5000, AnsweredAt: 6000}, Org: "o", Agent: "u"},
		{Call: wire.Call{ID: "k3", Conv: "c", Kind: wire.CallVoice, State: wire.CallRinging, CreatedAt: 7000}, Org: "o", Agent: "u"},
	}
	for _, c := range calls {
		if err := db.SaveCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// The hub restarted: the active and the ringing call end; the unanswered one failed.
	if n, err := db.EndOpenCalls(ctx, 66000, "hub_restart"); err != nil || n != 2 {
		t.Fatalf("EndOpenCalls = %d, %v; want 2", n, err)
	}
	got, err := db.CallsOf(ctx, "c")
	if err != nil || len(got) != 3 {
		t.Fatalf("CallsOf = %+v, %v", got, err)
	}
	if got[1].State != wire.CallEnded || got[1].Outcome != wire.OutcomeAcceptedVideo || got[1].EndedAt != 66000 ||
		got[2].Outcome != wire.OutcomeFailed || got[2].Reason != "hub_restart" {
		t.Errorf("after EndOpenCalls: %+v", got)
	}
	conv.State, conv.EndedAt = wire.ConvEnded, 122000
	if err := db.UpdateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Report(ctx, "o", 0, 200000)
	if err != nil || len(rows) != 1 {
		t.Fatalf("Report = %+v, %v", rows, err)
	}
	r := rows[0]
	if r.HandleMS != 120000 || r.Calls != 3 || r.Answered != 1 || r.CallMS != 60000 || len(r.CallKinds) != 3 || r.CallKinds[2] != wire.CallVoice || len(r.Outcomes) != 3 || r.Outcomes[0] != wire.OutcomeDeclined || r.Outcomes[2] != wire.OutcomeFailed {
		t.Errorf("report row = %+v", r)
	}
	if rows, _ := db.Report(ctx, "o", 122001, 200000); len(rows) != 0 {
		t.Errorf("Report after the end = %d rows; want 0", len(rows))
	}
	if cr, err := db.CallsReport(ctx, "o", 4000, 66001); err != nil || len(cr) != 3 || cr[0].ID != "k1" {
		t.Errorf("CallsReport = %+v, %v; want the three calls", cr, err)
	}
	if cr, _ := db.CallsReport(ctx, "o", 4001, 66000); len(cr) != 0 {
		t.Errorf("CallsReport outside the window = %d calls; want 0", len(cr))
	}
	st, err := db.Stats(ctx, "o", 0)
	if err != nil || st.WithCall != 1 || st.AHTWithCallMS != 120000 || st.WithoutCall != 0 || st.AvgCallMS != 60000 ||
		st.Calls[wire.OutcomeDeclined] != 1 || st.Calls[wire.OutcomeAcceptedVideo] != 1 || st.Calls[wire.OutcomeFailed] != 1 {
		t.Errorf("Stats = %+v, %v", st, err)
	}
}
