package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Routing runs the routing store tests (queues, members' queues and skills, quick replies,
// conversations' routing, visits, readers along, internal messages) against the engine open
// makes.
func Routing(t *testing.T, open Open) {
	run(t, open, []test{
		{"QueuesKeepOrderAndOneDefault", queuesOrderDefault},
		{"MemberRoutingReplacesAndFollowsQueues", memberRouting},
		{"QuickRepliesBelongToTheirOrganisation", quickReplies},
		{"ConversationRoutingVisitsAndReaders", convRouting},
		{"StartStoresAllOrNothingAndVisitsInBatches", startAndVisits},
	})
}

func queuesOrderDefault(t *testing.T, open Open) {
	s := open(t, fixed)
	orgWithAdmin(t, s)
	for _, q := range []wire.Queue{{ID: "general", Name: "General", Default: true}, {ID: "sales", Name: "Sales"}, {ID: "billing", Name: "Billing", Recording: wire.RecordingAlways,
		Skills: []wire.Skill{{Name: "billing", Level: 2}}, Hours: wire.WorkingHours{TimeZone: "Europe/Madrid", Intervals: []wire.OpenInterval{{Day: 1, From: "09:00", To: "17:00"}}}}} {
		if err := s.SaveQueue(bg(), "o", q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveQueue(bg(), "o", wire.Queue{ID: "sales", Name: "Sales team", Default: true}); err != nil {
		t.Fatal(err)
	}
	qs, err := s.Queues(bg(), "o")
	if err != nil || len(qs) != 3 {
		t.Fatalf("Queues = %+v, %v", qs, err)
	}
	if qs[0].ID != "general" || qs[0].Default || qs[1].Name != "Sales team" || !qs[1].Default || qs[2].Hours.TimeZone != "Europe/Madrid" || qs[2].Skills[0].Level != 2 || qs[2].Recording != wire.RecordingAlways {
		t.Errorf("Queues = %+v; want the saved order, Sales the only default, settings kept", qs)
	}
	if err := s.SaveQueue(bg(), "nope", wire.Queue{ID: "x", Name: "X"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a queue of a missing organisation = %v; want ErrNotFound", err)
	}
	if err := s.DeleteQueue(bg(), "o", "billing"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteQueue(bg(), "o", "billing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice = %v; want ErrNotFound", err)
	}
}

func memberRouting(t *testing.T, open Open) {
	s := open(t, fixed)
	orgWithAdmin(t, s)
	for _, id := range []wire.QueueID{"general", "sales"} {
		if err := s.SaveQueue(bg(), "o", wire.Queue{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	m := wire.MemberRouting{User: "u_boss", Queues: []wire.QueueID{"sales", "general"}, Skills: []wire.Skill{{Name: "es", Level: 3}, {Name: "billing", Level: 1}}}
	if err := s.SetMemberRouting(bg(), "o", m); err != nil {
		t.Fatal(err)
	}
	got, err := s.MemberRoutings(bg(), "o")
	if err != nil || len(got) != 1 || len(got[0].Queues) != 2 || got[0].Queues[0] != "general" || got[0].Skills[0].Name != "billing" {
		t.Errorf("MemberRoutings = %+v, %v; want queues in queue order, skills by name", got, err)
	}
	if err := s.SetMemberRouting(bg(), "o", wire.MemberRouting{User: "u_boss", Queues: []wire.QueueID{"sales"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteQueue(bg(), "o", "sales"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.MemberRoutings(bg(), "o")
	if len(got) != 0 {
		t.Errorf("after replacing and deleting the queue, MemberRoutings = %+v; want none", got)
	}
	if err := s.SetMemberRouting(bg(), "o", wire.MemberRouting{User: "u_nobody", Skills: []wire.Skill{{Name: "es", Level: 1}}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("skills of a missing member = %v; want ErrNotFound", err)
	}
}

func quickReplies(t *testing.T, open Open) {
	s := open(t, fixed)
	orgWithAdmin(t, s)
	if err := s.Apply(bg(), store.Change{CreateOrg: &store.Org{ID: "p", Name: "Other"}}); err != nil {
		t.Fatal(err)
	}
	q := wire.QuickReply{ID: "qr_1", Scope: wire.QuickReplyOrg, Shortcut: "hello", Text: "Hi {customer_name}"}
	if err := s.SaveQuickReply(bg(), "o", q); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveQuickReply(bg(), "p", q); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another organisation overwriting a reply = %v; want ErrNotFound", err)
	}
	if err := s.DeleteQuickReply(bg(), "p", "qr_1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another organisation deleting a reply = %v; want ErrNotFound", err)
	}
	got, err := s.QuickReplies(bg(), "o")
	if err != nil || len(got) != 1 || got[0].Text != "Hi {customer_name}" || got[0].UpdatedAt == 0 {
		t.Errorf("QuickReplies = %+v, %v", got, err)
	}
}

func convRouting(t *testing.T, open Open) {
	s := open(t, fixed)
	orgWithAdmin(t, s)
	now := fixed().UnixMilli()
	for _, id := range []wire.ConversationID{"c1", "c2"} {
		if err := s.CreateConversation(bg(), wire.Conversation{ID: id, Org: "o", State: wire.ConvWaiting, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	r := store.ConvRouting{Queue: "billing", QueuedAt: now, Skills: []wire.Skill{{Name: "billing", Level: 1}}, Message: true, Contact: "a@b.c", Visit: 2,
		Transfer: &wire.TransferInfo{From: "u_boss", FromName: "Boss", To: "Billing", Note: "n", At: now}}
	if err := s.SaveConvRouting(bg(), "c1", r); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConvRoutings(bg(), []wire.ConversationID{"c1", "c2"})
	if err != nil || len(got) != 1 || got["c1"].Transfer == nil || got["c1"].Transfer.Note != "n" || got["c1"].Skills[0].Level != 1 || !got["c1"].Message || got["c1"].Visit != 2 {
		t.Errorf("ConvRoutings = %+v, %v", got, err)
	}
	// A long list of ids is read in pages (SQLite limits bound parameters): the last page too.
	many := make([]wire.ConversationID, 0, 1202)
	for i := range 1200 {
		many = append(many, wire.ConversationID(fmt.Sprintf("gone%d", i)))
	}
	if got, err := s.ConvRoutings(bg(), append(many, "c2", "c1")); err != nil || len(got) != 1 || got["c1"].Queue != "billing" {
		t.Errorf("ConvRoutings of 1202 ids, c1 last = %+v, %v; want c1's", got, err)
	}
	day := int64(24 * 3600 * 1000)
	for _, v := range []store.Visit{
		{Conv: "c1", N: 1, Org: "o", Queue: "general", EnteredAt: now - 2*day, AnsweredAt: now - 2*day + 1000, LeftAt: now - 2*day + 9000, Outcome: store.VisitTransferred},
		{Conv: "c1", N: 2, Org: "o", Queue: "billing", EnteredAt: now - 1000},
		{Conv: "c2", N: 1, Org: "o", Queue: "general", EnteredAt: now - 5000, LeftAt: now - 10, Outcome: store.VisitAbandoned},
	} {
		if err := s.SaveVisit(bg(), v); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := s.Visits(bg(), "o", now-day, now+1)
	if err != nil || len(vs) != 2 || vs[0].Conv != "c2" || vs[1].N != 2 || vs[1].LeftAt != 0 {
		t.Errorf("Visits in the last day = %+v, %v; want c2's and c1's open second visit", vs, err)
	}
	if err := s.SetConsultant(bg(), store.Consultant{Conv: "c1", User: "u_boss"}, true); err != nil {
		t.Fatal(err)
	}
	if ks, err := s.OpenConsultants(bg()); err != nil || len(ks) != 1 {
		t.Errorf("OpenConsultants = %+v, %v", ks, err)
	}
	if err := s.UpdateConversation(bg(), wire.Conversation{ID: "c1", Org: "o", State: wire.ConvEnded, EndedAt: now}); err != nil {
		t.Fatal(err)
	}
	if ks, _ := s.OpenConsultants(bg()); len(ks) != 0 {
		t.Errorf("readers of an ended conversation = %+v; want none", ks)
	}
	// Internal messages keep their flag.
	res, err := s.AppendMessages(bg(), []wire.Message{{Conv: "c2", Author: wire.AuthorAgent, Text: "note", Internal: true}, {Conv: "c2", Author: wire.AuthorCustomer, Text: "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Messages(bg(), "c2", 0, 10)
	if err != nil || len(msgs) != 2 || !msgs[0].Internal || msgs[1].Internal || res[1].Message.Seq != 2 {
		t.Errorf("messages = %+v, %v; want the note internal, one sequence", msgs, err)
	}
}

// startAndVisits: a start stores the conversation, its token, routing and first visit together,
// and a start that cannot store one of them stores none; a batch of visits inserts and updates.
func startAndVisits(t *testing.T, open Open) {
	s := open(t, fixed)
	orgWithAdmin(t, s)
	now := fixed().UnixMilli()
	start := func(conv wire.ConversationID, hash string) store.Start {
		return store.Start{Conv: wire.Conversation{ID: conv, Org: "o", State: wire.ConvWaiting, CustomerName: "Ana\x00", CreatedAt: now},
			Token:   store.Token{Hash: hash, Org: "o", Role: wire.RoleCustomer, Conv: conv, ExpiresAt: fixed().Add(time.Hour)},
			Routing: store.ConvRouting{Queue: "general", QueuedAt: now, Visit: 1, Contact: "ana@example.com"},
			Visit:   store.Visit{Conv: conv, N: 1, Org: "o", Queue: "general", EnteredAt: now}}
	}
	if err := s.StartConversation(bg(), start("c1", "h1")); err != nil {
		t.Fatal(err)
	}
	c, err := s.Conversation(bg(), "c1")
	if err != nil || c.CustomerName != "Ana\uFFFD" || c.ActivityAt != now {
		t.Errorf("started conversation = %+v, %v; want the name stored cleanly, activity from its start", c, err)
	}
	if tok, err := s.Token(bg(), "h1"); err != nil || tok.Conv != "c1" {
		t.Errorf("customer token = %+v, %v", tok, err)
	}
	if rs, err := s.ConvRoutings(bg(), []wire.ConversationID{"c1"}); err != nil || rs["c1"].Contact != "ana@example.com" {
		t.Errorf("routing = %+v, %v", rs, err)
	}
	// The token's hash is taken: nothing of c2 is stored.
	if err := s.StartConversation(bg(), start("c2", "h1")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("start with a taken token = %v; want ErrConflict", err)
	}
	if _, err := s.Conversation(bg(), "c2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("conversation of a failed start = %v; want ErrNotFound (all or nothing)", err)
	}
	if err := s.StartConversation(bg(), start("c2", "h2")); err != nil {
		t.Fatalf("start after a failed one = %v", err)
	}
	if err := s.SaveVisits(bg(), []store.Visit{
		{Conv: "c1", N: 1, Org: "o", Queue: "general", EnteredAt: now, AnsweredAt: now + 10, FirstResponseAt: now + 20, Agent: "u_a"},
		{Conv: "c2", N: 1, Org: "o", Queue: "general", EnteredAt: now, LeftAt: now + 5, Outcome: store.VisitAbandoned},
		{Conv: "c2", N: 2, Org: "o", Queue: "billing", EnteredAt: now + 5},
	}); err != nil {
		t.Fatal(err)
	}
	vs, err := s.Visits(bg(), "o", now, now+100)
	if err != nil || len(vs) != 3 || vs[0].FirstResponseAt != now+20 || vs[0].Agent != "u_a" || vs[1].Outcome != store.VisitAbandoned || vs[2].Queue != "billing" {
		t.Errorf("Visits after a batch = %+v, %v; want c1 answered, c2 abandoned then in billing", vs, err)
	}
	if err := s.SaveVisits(bg(), []store.Visit{{Conv: "c_none", N: 1, Org: "o", Queue: "general", EnteredAt: now}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a visit of no conversation = %v; want ErrNotFound", err)
	}
}
