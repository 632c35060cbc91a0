package sqlite_test

import (
	"context"
	"errors"
	"testing"
	"time"

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

func TestMessagesAndIdempotentResend(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/s.db"
	db := open(t, path)
	if err := db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second CreateOrg = %v; want ErrConflict", err)
	}
	if err := db.CreateConversation(ctx, wire.Conversation{ID: "c", Org: "o", State: wire.ConvWaiting}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text, clientID string
		seq            int64
		dup            bool
	}{
		{"one", "a", 1, false},
		{"two", "b", 2, false},
		{"one again", "a", 1, true}, // a resend keeps its first sequence number and text
		{"system", "", 3, false},
		{"system", "", 4, false},
	}
	for _, tt := range tests {
		m, dup, err := db.AppendMessage(ctx, wire.Message{Conv: "c", Author: wire.AuthorCustomer, Text: tt.text, ClientID: tt.clientID})
		if err != nil {
			t.Fatal(err)
		}
		if m.Seq != tt.seq || dup != tt.dup {
			t.Errorf("AppendMessage(%q, %q) = seq %d dup %v; want %d %v", tt.text, tt.clientID, m.Seq, dup, tt.seq, tt.dup)
		}
	}
	if _, _, err := db.AppendMessage(ctx, wire.Message{Conv: "nope", Text: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AppendMessage to a missing conversation = %v; want ErrNotFound", err)
	}
	msgs, err := db.Messages(ctx, "c", 1, 10)
	if err != nil || len(msgs) != 3 || msgs[0].Text != "two" {
		t.Errorf("Messages after 1 = %+v, %v", msgs, err)
	}
	c, err := db.Conversation(ctx, "c")
	if err != nil || c.LastSeq != 4 {
		t.Errorf("Conversation = %+v, %v; want last_seq 4", c, err)
	}
	// Receipts only move forward.
	for _, seq := range []int64{3, 2} {
		if err := db.SetReceipt(ctx, "c", store.Receipt{By: wire.AuthorAgent, Kind: wire.ReceiptRead, Seq: seq}); err != nil {
			t.Fatal(err)
		}
	}
	if rs, _ := db.Receipts(ctx, "c"); len(rs) != 1 || rs[0].Seq != 3 {
		t.Errorf("Receipts = %+v; want read up to 3", rs)
	}
	// Reopening runs no migration twice and keeps the data.
	db.Close()
	db2 := open(t, path)
	if c, err := db2.Conversation(ctx, "c"); err != nil || c.LastSeq != 4 {
		t.Errorf("after reopen: %+v, %v", c, err)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir()+"/t.db")
	db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"})
	now := time.Now()
	for _, tok := range []store.Token{
		{Hash: "old", Org: "o", Role: wire.RoleAgent, User: "u", ExpiresAt: now.Add(-time.Hour)},
		{Hash: "new", Org: "o", Role: wire.RoleCustomer, Conv: "c", ExpiresAt: now.Add(time.Hour)},
	} {
		if err := db.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteExpiredTokens(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Token(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired token still there: %v", err)
	}
	if tok, err := db.Token(ctx, "new"); err != nil || tok.Conv != "c" || tok.Role != wire.RoleCustomer {
		t.Errorf("Token(new) = %+v, %v", tok, err)
	}
}

func TestAppendMessagesBatch(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir()+"/b.db")
	db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"})
	for _, id := range []wire.ConversationID{"c1", "c2"} {
		if err := db.CreateConversation(ctx, wire.Conversation{ID: id, Org: "o", State: wire.ConvActive}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := db.AppendMessages(ctx, []wire.Message{
		{Conv: "c1", Text: "a", ClientID: "x"},
		{Conv: "c2", Text: "b", ClientID: "x"}, // the same ClientID in another conversation is another message
		{Conv: "c1", Text: "a again", ClientID: "x"},
		{Conv: "c1", Text: "c"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		conv wire.ConversationID
		seq  int64
		text string
		dup  bool
	}{{"c1", 1, "a", false}, {"c2", 1, "b", false}, {"c1", 1, "a", true}, {"c1", 2, "c", false}}
	for i, w := range want {
		if got := res[i]; got.Message.Conv != w.conv || got.Message.Seq != w.seq || got.Message.Text != w.text || got.Dup != w.dup {
			t.Errorf("result %d = %+v; want %+v", i, got, w)
		}
	}
	// A batch with a message for a missing conversation stores nothing.
	if _, err := db.AppendMessages(ctx, []wire.Message{{Conv: "c1", Text: "d"}, {Conv: "nope", Text: "e"}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("batch with a missing conversation = %v; want ErrNotFound", err)
	}
	if msgs, _ := db.Messages(ctx, "c1", 0, 10); len(msgs) != 2 {
		t.Errorf("c1 holds %d messages after the failed batch; want 2", len(msgs))
	}
}

// The auto-close waits for nobody writing: a person's message moves activity_at, a system line
// does not, and a save with an older value never moves it back. Presence and the end survive a
// reopen.
func TestActivityPresenceAndOutcome(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/s.db"
	now := time.UnixMilli(1_000_000)
	db, err := sqlite.Open(ctx, path, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"}); err != nil {
		t.Fatal(err)
	}
	c := wire.Conversation{ID: "c", Org: "o", State: wire.ConvActive, CreatedAt: 500_000}
	if err := db.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	activity := func() int64 {
		t.Helper()
		got, err := db.Conversation(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		return got.ActivityAt
	}
	if got := activity(); got != 500_000 {
		t.Errorf("new conversation: activity_at %d; want its creation 500000", got)
	}
	for _, step := range []struct {
		author wire.Author
		at     int64
		want   int64
	}{
		{wire.AuthorCustomer, 1_000_000, 1_000_000},
		{wire.AuthorSystem, 2_000_000, 1_000_000},
		{wire.AuthorAgent, 3_000_000, 3_000_000},
	} {
		now = time.UnixMilli(step.at)
		if _, err := db.AppendMessages(ctx, []wire.Message{{Conv: "c", Author: step.author, Text: "x"}}); err != nil {
			t.Fatal(err)
		}
		if got := activity(); got != step.want {
			t.Errorf("after a %s message at %d: activity_at %d; want %d", step.author, step.at, got, step.want)
		}
	}
	c.ActivityAt, c.Customer, c.CustomerSince = 2_500_000, wire.CustomerGone, 2_900_000
	if err := db.UpdateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := activity(); got != 3_000_000 {
		t.Errorf("a save with an older activity moved it back to %d", got)
	}
	c.State, c.EndReason, c.Outcome = wire.ConvEnded, wire.EndInactivity, wire.OutcomeAbandoned
	if err := db.UpdateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, path)
	got, err := db.Conversation(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if got.Customer != wire.CustomerGone || got.CustomerSince != 2_900_000 || got.EndReason != wire.EndInactivity || got.Outcome != wire.OutcomeAbandoned {
		t.Errorf("reopened: %+v; want gone since 2900000, ended for inactivity, abandoned", got)
	}
}
