package sqlite_test

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/parleyhq/parley/hub/sqlite" // registers the driver used to write a v1 database
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
