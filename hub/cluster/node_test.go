package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/parleyhq/parley/hub/cluster"
	"github.com/parleyhq/parley/hub/postgres"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/wire"
)

func fenced(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == cluster.FencedCode
}

// The database itself fences a node's routing writes: a node's store (its connections name the
// node) writes an organisation's conversations only while it holds the organisation's live
// lease; once another node has taken it over, the old node's writes fail and change nothing.
// Tools that name no node (import, parley-hub's subcommands) are not fenced.
func TestStoreWritesAreFencedByTheLease(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	open := func(node string) *postgres.DB {
		db, err := postgres.OpenNode(ctx, dsn, nil, node)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	tool, a, b := open(""), open("a-1"), open("b-1")
	if _, err := cluster.NewNodes(ctx, a.Pool()); err != nil {
		t.Fatal(err)
	}
	if err := tool.CreateOrg(ctx, store.Org{ID: "o", Name: "O"}); err != nil {
		t.Fatal(err)
	}
	la, _ := cluster.New(ctx, a.Pool(), "a-1", 300*time.Millisecond)
	lb, _ := cluster.New(ctx, b.Pool(), "b-1", time.Minute)
	conv := func(id string) wire.Conversation {
		return wire.Conversation{ID: wire.ConversationID(id), Org: "o", State: wire.ConvWaiting, CustomerName: "Ann"}
	}
	// Nobody holds the lease: a node may not write; a tool may.
	if err := a.CreateConversation(ctx, conv("c0")); !fenced(err) {
		t.Fatalf("a node without the lease wrote: %v", err)
	}
	if err := tool.CreateConversation(ctx, conv("c1")); err != nil {
		t.Fatalf("a tool: %v", err)
	}
	lease, err := la.Acquire(ctx, "o")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CreateConversation(ctx, conv("c2")); err != nil {
		t.Fatalf("the owner: %v", err)
	}
	if err := b.CreateConversation(ctx, conv("c3")); !fenced(err) {
		t.Fatalf("another node wrote while a owns: %v", err)
	}
	// a pauses past its lease; b takes over; a wakes and tries to write.
	time.Sleep(400 * time.Millisecond)
	if _, err := lb.Acquire(ctx, "o"); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateConversation(ctx, conv("c4")); !fenced(err) {
		t.Fatalf("the old owner wrote after the takeover: %v", err)
	}
	if err := b.CreateConversation(ctx, conv("c5")); err != nil {
		t.Fatalf("the new owner: %v", err)
	}
	if _, err := la.Renew(ctx, lease); !errors.Is(err, cluster.ErrLost) {
		t.Fatalf("the old owner's renew: %v", err)
	}
	open1, err := tool.OpenConversationsOf(ctx, "o")
	if err != nil {
		t.Fatal(err)
	}
	var ids []wire.ConversationID
	for _, c := range open1 {
		ids = append(ids, c.ID)
	}
	if len(ids) != 3 || ids[0] != "c1" || ids[1] != "c2" || ids[2] != "c5" {
		t.Errorf("stored conversations %v; want c1 c2 c5", ids)
	}
}
