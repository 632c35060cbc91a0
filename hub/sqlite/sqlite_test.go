package sqlite_test

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/hub/sqlite"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

func open(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The file keeps everything across a close and reopen, and a reopen runs no migration twice.
func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/s.db"
	db := open(t, path)
	if err := db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"}); err != nil {
		t.Fatal(err)
	}
	c := wire.Conversation{ID: "c", Org: "o", State: wire.ConvActive, CreatedAt: 500_000}
	if err := db.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"one", "two"} {
		if _, _, err := db.AppendMessage(ctx, wire.Message{Conv: "c", Author: wire.AuthorCustomer, Text: text, ClientID: text}); err != nil {
			t.Fatal(err)
		}
	}
	c.Customer, c.CustomerSince, c.State, c.EndReason, c.Outcome = wire.CustomerGone, 2_900_000, wire.ConvEnded, wire.EndInactivity, wire.OutcomeAbandoned
	if err := db.UpdateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, path)
	got, err := db.Conversation(ctx, "c")
	if err != nil || got.LastSeq != 2 || got.Customer != wire.CustomerGone || got.CustomerSince != 2_900_000 || got.EndReason != wire.EndInactivity || got.Outcome != wire.OutcomeAbandoned {
		t.Errorf("reopened: %+v, %v; want last_seq 2, gone since 2900000, ended for inactivity, abandoned", got, err)
	}
	if _, dup, err := db.AppendMessage(ctx, wire.Message{Conv: "c", Text: "one", ClientID: "one"}); err != nil || !dup {
		t.Errorf("a resend after reopening: dup %v, %v; want dup", dup, err)
	}
}
