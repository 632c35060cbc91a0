package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// All runs every store test against the engine open makes: an engine passes them all, or the
// hub cannot count on it.
func All(t *testing.T, open Open) {
	t.Run("Chat", func(t *testing.T) { Chat(t, open) })
	t.Run("Calls", func(t *testing.T) { Calls(t, open) })
	t.Run("Accounts", func(t *testing.T) { Accounts(t, open) })
	t.Run("Routing", func(t *testing.T) { Routing(t, open) })
}

// test is one store test, run as a subtest of its name.
type test struct {
	name string
	f    func(*testing.T, Open)
}

// run runs each test as a subtest on the engine open makes.
func run(t *testing.T, open Open, tests []test) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, open) })
	}
}

// Chat runs the conversation and message tests: seq, idempotent client ids, batches, receipts,
// tokens, settings, the activity the auto-close reads.
func Chat(t *testing.T, open Open) {
	run(t, open, []test{
		{"MessagesAndIdempotentResend", messagesAndResend},
		{"AppendMessagesBatch", appendBatch},
		{"UpdateConversationWithItsLine", updateWith},
		{"ConcurrentAppendsKeepSeqsAndClientIDs", concurrentAppends},
		{"NULIsStoredAsReplacementCharacter", nulText},
		{"Tokens", tokens},
		{"OrgSettings", orgSettings},
		{"ActivityPresenceAndOutcome", activityPresenceOutcome},
		{"OpenConversations", openConversations},
	})
}

func messagesAndResend(t *testing.T, open Open) {
	ctx := bg()
	db := open(t, nil)
	if err := db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second CreateOrg = %v; want ErrConflict", err)
	}
	if err := db.CreateConversation(ctx, wire.Conversation{ID: "c", Org: "o", State: wire.ConvWaiting, CustomerName: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateConversation(ctx, wire.Conversation{ID: "c", Org: "o", State: wire.ConvWaiting}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second CreateConversation = %v; want ErrConflict", err)
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
		m, dup, err := db.AppendMessage(ctx, wire.Message{Conv: "c", Author: wire.AuthorCustomer, AuthorName: "Ann", Text: tt.text, ClientID: tt.clientID})
		if err != nil {
			t.Fatal(err)
		}
		if m.Seq != tt.seq || dup != tt.dup {
			t.Errorf("AppendMessage(%q, %q) = seq %d dup %v; want %d %v", tt.text, tt.clientID, m.Seq, dup, tt.seq, tt.dup)
		}
		if tt.dup && m.Text != "one" {
			t.Errorf("a resend returned text %q; want the stored %q", m.Text, "one")
		}
	}
	if _, _, err := db.AppendMessage(ctx, wire.Message{Conv: "nope", Text: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AppendMessage to a missing conversation = %v; want ErrNotFound", err)
	}
	msgs, err := db.Messages(ctx, "c", 1, 10)
	if err != nil || len(msgs) != 3 || msgs[0].Text != "two" || msgs[0].AuthorName != "Ann" || msgs[0].ClientID != "b" {
		t.Errorf("Messages after 1 = %+v, %v", msgs, err)
	}
	if msgs, _ := db.Messages(ctx, "c", 0, 2); len(msgs) != 2 || msgs[1].Seq != 2 {
		t.Errorf("Messages limit 2 = %+v", msgs)
	}
	if m, err := db.FirstMessage(ctx, "c", wire.AuthorCustomer); err != nil || m.Seq != 1 {
		t.Errorf("FirstMessage(customer) = %+v, %v; want seq 1", m, err)
	}
	if _, err := db.FirstMessage(ctx, "c", wire.AuthorAgent); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FirstMessage(agent) = %v; want ErrNotFound", err)
	}
	c, err := db.Conversation(ctx, "c")
	if err != nil || c.LastSeq != 4 || c.CustomerName != "Ann" {
		t.Errorf("Conversation = %+v, %v; want last_seq 4", c, err)
	}
	if _, err := db.Conversation(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Conversation(nope) = %v; want ErrNotFound", err)
	}
	// A system line keeps its machine-readable event.
	ev := &wire.Event{Kind: wire.EventCallEnded, CallKind: wire.CallVoice, DurationMS: 42000}
	m, _, err := db.AppendMessage(ctx, wire.Message{Conv: "c", Author: wire.AuthorSystem, Text: "Call ended · 0:42", Event: ev})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Messages(ctx, "c", m.Seq-1, 1); len(got) != 1 || got[0].Event == nil || *got[0].Event != *ev {
		t.Errorf("stored event = %+v; want %+v", got, ev)
	}
	// Receipts only move forward.
	for _, seq := range []int64{3, 2} {
		if err := db.SetReceipt(ctx, "c", store.Receipt{By: wire.AuthorAgent, Kind: wire.ReceiptRead, Seq: seq}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetReceipt(ctx, "c", store.Receipt{By: wire.AuthorCustomer, Kind: wire.ReceiptDelivered, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if rs, _ := db.Receipts(ctx, "c"); len(rs) != 2 || rs[0].By != wire.AuthorAgent || rs[0].Seq != 3 || rs[1].Kind != wire.ReceiptDelivered {
		t.Errorf("Receipts = %+v; want agent read up to 3, customer delivered 1", rs)
	}
}

func appendBatch(t *testing.T, open Open) {
	ctx := bg()
	db := open(t, nil)
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
	if c, _ := db.Conversation(ctx, "c1"); c.LastSeq != 2 {
		t.Errorf("c1's last_seq after the failed batch = %d; want 2", c.LastSeq)
	}
}

// An agent taking a conversation saves its state and the line that says so together, or neither.
func updateWith(t *testing.T, open Open) {
	ctx := bg()
	now := time.UnixMilli(2_000_000)
	db := open(t, func() time.Time { return now })
	db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"})
	c := wire.Conversation{ID: "c", Org: "o", State: wire.ConvWaiting, CustomerName: "Ann", CreatedAt: 1_000_000}
	if err := db.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.AppendMessage(ctx, wire.Message{Conv: "c", Author: wire.AuthorCustomer, Text: "hello", ClientID: "k1"}); err != nil {
		t.Fatal(err)
	}
	c.State, c.AgentID, c.AgentName, c.AcceptedAt, c.ActivityAt = wire.ConvActive, "u", "Agent One", 2_000_000, 2_000_000
	joined := wire.Message{Conv: "c", Author: wire.AuthorSystem, Text: "Agent One joined the conversation.", Event: &wire.Event{Kind: wire.EventJoined, Name: "Agent One"}}
	res, err := db.UpdateConversationWith(ctx, c, []wire.Message{joined})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Dup || res[0].Message.Seq != 2 || res[0].Message.At != 2_000_000 || res[0].Message.Event == nil {
		t.Errorf("UpdateConversationWith = %+v; want the line stored as seq 2 at 2000000 with its event", res)
	}
	got, err := db.Conversation(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != wire.ConvActive || got.AgentID != "u" || got.AgentName != "Agent One" || got.AcceptedAt != 2_000_000 || got.LastSeq != 2 {
		t.Errorf("after UpdateConversationWith: %+v; want active with Agent One, last_seq 2", got)
	}
	if msgs, _ := db.Messages(ctx, "c", 1, 10); len(msgs) != 1 || msgs[0].Text != joined.Text || msgs[0].Event == nil || *msgs[0].Event != *joined.Event {
		t.Errorf("stored after seq 1: %+v; want the joined line with its event", msgs)
	}

	// A line that cannot be stored leaves the conversation as it was, and the other way round.
	moved := c
	moved.AgentID, moved.AgentName = "u2", "Agent Two"
	if _, err := db.UpdateConversationWith(ctx, moved, []wire.Message{joined, {Conv: "nope", Author: wire.AuthorSystem, Text: "x"}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateConversationWith a line for a missing conversation = %v; want ErrNotFound", err)
	}
	missing := c
	missing.ID = "nope"
	if _, err := db.UpdateConversationWith(ctx, missing, []wire.Message{{Conv: "c", Author: wire.AuthorSystem, Text: "x"}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateConversationWith of a missing conversation = %v; want ErrNotFound", err)
	}
	if got, _ := db.Conversation(ctx, "c"); got.AgentID != "u" || got.LastSeq != 2 {
		t.Errorf("after the failed saves: agent %q, last_seq %d; want u, 2", got.AgentID, got.LastSeq)
	}
	if msgs, _ := db.Messages(ctx, "c", 0, 10); len(msgs) != 2 {
		t.Errorf("after the failed saves c holds %d messages; want 2", len(msgs))
	}
}

// Several writers at once (hub nodes, or a node's HTTP handlers beside its router) get gapless,
// distinct seqs, and a client id sent by two at once is stored once.
func concurrentAppends(t *testing.T, open Open) {
	ctx := bg()
	db := open(t, nil)
	db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"})
	if err := db.CreateConversation(ctx, wire.Conversation{ID: "c", Org: "o", State: wire.ConvActive}); err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	seqs := make(chan int64, writers*each*2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Every writer also resends the id the writer before it sends, at the same time.
				for _, id := range []string{fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("w%d-%d", (w+1)%writers, i)} {
					m, dup, err := db.AppendMessage(ctx, wire.Message{Conv: "c", Author: wire.AuthorAgent, Text: id, ClientID: id})
					if err != nil {
						errs <- err
						return
					}
					if m.Text != id {
						errs <- fmt.Errorf("client id %s came back as %q", id, m.Text)
					}
					if !dup {
						seqs <- m.Seq
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(seqs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Fatalf("seq %d given twice", s)
		}
		seen[s] = true
	}
	msgs, err := db.Messages(ctx, "c", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != writers*each || len(seen) != writers*each {
		t.Fatalf("%d messages stored, %d first sends; want %d of each (one per client id)", len(msgs), len(seen), writers*each)
	}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d; want gapless seqs from 1", i, m.Seq)
		}
	}
	if c, _ := db.Conversation(ctx, "c"); c.LastSeq != writers*each {
		t.Errorf("last_seq = %d; want %d", c.LastSeq, writers*each)
	}
}

// A NUL in text (valid UTF-8 and JSON, but not storable in PostgreSQL) never fails the batch it
// came in: every engine stores U+FFFD in its place.
func nulText(t *testing.T, open Open) {
	ctx := bg()
	db := open(t, nil)
	db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"})
	if err := db.CreateConversation(ctx, wire.Conversation{ID: "c", Org: "o", State: wire.ConvActive, CustomerName: "A\x00nn"}); err != nil {
		t.Fatal(err)
	}
	res, err := db.AppendMessages(ctx, []wire.Message{{Conv: "c", Text: "fine"}, {Conv: "c", Text: "bad\x00byte", AuthorName: "x\x00"}, {Conv: "c", Text: "fine too"}})
	if err != nil {
		t.Fatalf("a batch with a NUL = %v", err)
	}
	if res[1].Message.Text != "bad\uFFFDbyte" {
		t.Errorf("returned text %q; want the stored %q", res[1].Message.Text, "bad\uFFFDbyte")
	}
	msgs, _ := db.Messages(ctx, "c", 0, 10)
	if len(msgs) != 3 || msgs[1].Text != "bad\uFFFDbyte" || msgs[1].AuthorName != "x\uFFFD" {
		t.Errorf("stored %+v", msgs)
	}
	if c, _ := db.Conversation(ctx, "c"); c.CustomerName != "A\uFFFDnn" {
		t.Errorf("customer name %q", c.CustomerName)
	}
}

func tokens(t *testing.T, open Open) {
	ctx := bg()
	db := open(t, nil)
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
	if err := db.CreateToken(ctx, store.Token{Hash: "new", Org: "o", Role: wire.RoleCustomer, ExpiresAt: now}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second token with the same hash = %v; want ErrConflict", err)
	}
	if err := db.DeleteExpiredTokens(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Token(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired token still there: %v", err)
	}
	if tok, err := db.Token(ctx, "new"); err != nil || tok.Conv != "c" || tok.Role != wire.RoleCustomer || tok.ExpiresAt.UnixMilli() != now.Add(time.Hour).UnixMilli() {
		t.Errorf("Token(new) = %+v, %v", tok, err)
	}
	// A conversation's customer tokens expire sooner, never later.
	if err := db.ExpireConversationTokens(ctx, "c", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.ExpireConversationTokens(ctx, "c", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if tok, _ := db.Token(ctx, "new"); tok.ExpiresAt.UnixMilli() != now.Add(time.Minute).UnixMilli() {
		t.Errorf("after ExpireConversationTokens: expires %v; want %v", tok.ExpiresAt, now.Add(time.Minute))
	}
}

func orgSettings(t *testing.T, open Open) {
	ctx := bg()
	db := open(t, nil)
	db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"})
	if _, err := db.OrgSetting(ctx, "o", "visual"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a setting never set = %v; want ErrNotFound", err)
	}
	for _, v := range []string{`{"kind":"builtin"}`, `{"kind":"external","url":"https://x"}`} {
		if err := db.SetOrgSetting(ctx, "o", "visual", v); err != nil {
			t.Fatal(err)
		}
		if got, err := db.OrgSetting(ctx, "o", "visual"); err != nil || got != v {
			t.Errorf("OrgSetting = %q, %v; want %q", got, err, v)
		}
	}
	if err := db.SetOrgSetting(ctx, "nope", "visual", "{}"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a setting of a missing organisation = %v; want ErrNotFound", err)
	}
}

// The auto-close waits for nobody writing: a person's message moves activity_at, a system line
// does not, and a save with an older value never moves it back.
func activityPresenceOutcome(t *testing.T, open Open) {
	ctx := bg()
	now := time.UnixMilli(1_000_000)
	db := open(t, func() time.Time { return now })
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
		res, err := db.AppendMessages(ctx, []wire.Message{{Conv: "c", Author: step.author, Text: "x"}})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Message.At != step.at {
			t.Errorf("a message stored at %d says At %d", step.at, res[0].Message.At)
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
	c.State, c.EndReason, c.Outcome, c.AgentID, c.AgentName, c.EndedAt, c.EndedBy = wire.ConvEnded, wire.EndInactivity, wire.OutcomeAbandoned, "u", "Agent", 3_100_000, wire.AuthorSystem
	if err := db.UpdateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := db.Conversation(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if got.Customer != wire.CustomerGone || got.CustomerSince != 2_900_000 || got.EndReason != wire.EndInactivity || got.Outcome != wire.OutcomeAbandoned ||
		got.State != wire.ConvEnded || got.AgentName != "Agent" || got.EndedAt != 3_100_000 || got.LastSeq != 3 {
		t.Errorf("saved: %+v; want gone since 2900000, ended for inactivity, abandoned, last_seq kept", got)
	}
	if err := db.UpdateConversation(ctx, wire.Conversation{ID: "nope"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateConversation(nope) = %v; want ErrNotFound", err)
	}
	// The wrap-up is stored beside, and a later save of the conversation keeps it.
	if err := db.SetWrapUp(ctx, "c", "sold", "Two licences\x00", 25_000); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Conversation(ctx, "c"); err != nil || got.WrapCode != "sold" || got.WrapNote != "Two licences\uFFFD" || got.WrapMS != 25_000 {
		t.Errorf("wrap-up: %+v, %v; want sold, the note with its NUL replaced, 25000 ms", got, err)
	}
	if err := db.SetWrapUp(ctx, "nope", "sold", "", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetWrapUp(nope) = %v; want ErrNotFound", err)
	}
}

func openConversations(t *testing.T, open Open) {
	ctx := bg()
	db := open(t, nil)
	db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"})
	db.CreateOrg(ctx, store.Org{ID: "p", Name: "P"})
	for _, c := range []wire.Conversation{
		{ID: "c3", Org: "o", State: wire.ConvActive, CreatedAt: 3},
		{ID: "c1", Org: "p", State: wire.ConvWaiting, CreatedAt: 1},
		{ID: "c2", Org: "o", State: wire.ConvEnded, CreatedAt: 2},
		{ID: "c0", Org: "o", State: wire.ConvWaiting, CreatedAt: 3},
	} {
		if err := db.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateConversation(ctx, wire.Conversation{ID: "cx", Org: "nope", State: wire.ConvWaiting}); err == nil {
		t.Errorf("a conversation of a missing organisation was stored")
	}
	got, err := db.OpenConversations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []wire.ConversationID
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	if fmt.Sprint(ids) != "[c1 c0 c3]" {
		t.Errorf("OpenConversations = %v; want [c1 c0 c3] (oldest first, then by id)", ids)
	}
}
