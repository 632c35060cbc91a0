package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Fill writes a small but complete hub into s through the store's own methods: two
// organisations with settings, members of every role (one disabled, one linked to an identity
// provider), sessions and a customer token, setup links used and not, an audit log, a pending
// single sign-on grant, ended and open conversations with messages (a NUL-free UTF-8 mix, system
// lines with events, client ids), receipts, and calls of every outcome. Tests of moving a
// database (store.Copy) fill one engine and compare the other; every table in store.Tables gets
// rows, so a table added without a row here fails them.
func Fill(t *testing.T, s store.Store) {
	t.Helper()
	ctx := bg()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Truncate(time.Millisecond)
	for _, o := range []store.Org{
		{ID: "acme", Name: "Acme Ltd", Region: "na", Calls: wire.CallsVoiceVideo, Language: "en"},
		{ID: "gob", Name: "Gobierno · Atención", Region: "gcc", Calls: wire.CallsVoiceOnly, Language: "es"},
	} {
		admin := store.User{ID: wire.UserID("u_admin_" + o.ID), Org: o.ID, Username: "admin", DisplayName: "Admin " + o.Name,
			Role: wire.RoleAdmin, PasswordHash: "$2a$10$adminhash" + string(o.ID), Capacity: 1, Email: "admin@" + string(o.ID) + ".example"}
		must(s.Apply(ctx, store.Change{CreateOrg: &o, CreateUser: &admin,
			Audit: []store.AuditEntry{{Org: o.ID, ActorName: "parley-hub", Action: "org.create", Target: string(o.ID)}}}))
		must(s.SetOrgSetting(ctx, o.ID, "visual", `{"kind":"builtin","masking":["input[type=password]"]}`))
		must(s.SetOrgSetting(ctx, o.ID, "auto_close", `{"after_s":600}`))
	}
	members := []store.User{
		{ID: "u_a1", Org: "acme", Username: "agent1", DisplayName: "Ágata Uno", Role: wire.RoleAgent, PasswordHash: "$2a$10$h1", Capacity: 3},
		{ID: "u_a2", Org: "acme", Username: "agent2", DisplayName: "Agent Two", Role: wire.RoleAgent, PasswordHash: "$2a$10$h2", Capacity: 2, Disabled: true},
		{ID: "u_s1", Org: "acme", Username: "super1", DisplayName: "Super One", Role: wire.RoleSupervisor, Capacity: 1, Email: "s1@acme.example",
			ExternalID: "https://idp.example sub-123"},
		{ID: "u_g1", Org: "gob", Username: "agente1", DisplayName: "Agente 一", Role: wire.RoleAgent, PasswordHash: "$2a$10$h3", Capacity: 1},
	}
	for _, u := range members {
		u := u
		must(s.Apply(ctx, store.Change{CreateUser: &u, Audit: []store.AuditEntry{{Org: u.Org, Actor: wire.UserID("u_admin_" + u.Org), ActorName: "admin",
			Action: "member.invite", Target: u.Username, Detail: "role " + string(u.Role), Addr: "198.51.100.4"}}}))
	}
	must(s.Apply(ctx, store.Change{SignedIn: "u_a1"}))
	must(s.Apply(ctx, store.Change{CreateLink: &store.SetupLink{Hash: "link-used", Org: "acme", User: "u_a1", Purpose: "invite", CreatedBy: "u_admin_acme", ExpiresAt: now.Add(72 * time.Hour)}}))
	if _, err := s.UseSetupLink(ctx, "link-used", "$2a$10$chosen", now, store.AuditEntry{Org: "acme", Actor: "u_a1", ActorName: "agent1", Action: "member.password"}); err != nil {
		t.Fatal(err)
	}
	must(s.Apply(ctx, store.Change{CreateLink: &store.SetupLink{Hash: "link-open", Org: "gob", User: "u_g1", Purpose: "reset", ExpiresAt: now.Add(72 * time.Hour)}}))
	for i, tok := range []store.Token{
		{Hash: "tok-agent1-app", Org: "acme", Role: wire.RoleAgent, User: "u_a1", Client: "app", Method: "password", Addr: "203.0.113.9"},
		{Hash: "tok-super1-sso", Org: "acme", Role: wire.RoleSupervisor, User: "u_s1", Client: "console", Method: "sso"},
		{Hash: "tok-customer-c1", Org: "acme", Role: wire.RoleCustomer, Conv: "c_open"},
	} {
		tok.ExpiresAt = now.Add(time.Duration(i+1) * time.Hour)
		must(s.Apply(ctx, store.Change{CreateToken: &tok}))
	}
	must(s.PutGrant(ctx, store.Grant{Hash: "grant-state", Kind: "oidc.state", Org: "acme", Data: `{"verifier":"abc","nonce":"n"}`, ExpiresAt: now.Add(10 * time.Minute)}))

	convs := []wire.Conversation{
		{ID: "c_done", Org: "acme", State: wire.ConvActive, CustomerName: "Zoë 😀", AgentID: "u_a1", AgentName: "Ágata Uno",
			CreatedAt: now.Add(-time.Hour).UnixMilli(), AcceptedAt: now.Add(-59 * time.Minute).UnixMilli()},
		{ID: "c_open", Org: "acme", State: wire.ConvActive, CustomerName: "Ann", AgentID: "u_a1", AgentName: "Ágata Uno",
			CreatedAt: now.Add(-10 * time.Minute).UnixMilli(), AcceptedAt: now.Add(-9 * time.Minute).UnixMilli(), Customer: wire.CustomerAway, CustomerSince: now.Add(-time.Minute).UnixMilli()},
		{ID: "c_wait", Org: "gob", State: wire.ConvWaiting, CustomerName: "José", CreatedAt: now.Add(-2 * time.Minute).UnixMilli()},
	}
	for _, c := range convs {
		must(s.CreateConversation(ctx, c))
	}
	for _, c := range convs {
		var ms []wire.Message
		for i := range 5 {
			author, name := wire.AuthorCustomer, c.CustomerName
			if i%2 == 1 {
				author, name = wire.AuthorAgent, c.AgentName
			}
			ms = append(ms, wire.Message{Conv: c.ID, Author: author, AuthorName: name, Text: fmt.Sprintf("message %d in %s: <b>not html</b> \"quoted\" ñ", i, c.ID),
				ClientID: fmt.Sprintf("%s-k%d", c.ID, i)})
		}
		ms = append(ms, wire.Message{Conv: c.ID, Author: wire.AuthorSystem, Text: "Video call ended · 1:05",
			Event: &wire.Event{Kind: wire.EventCallEnded, CallKind: wire.CallVideo, DurationMS: 65000}})
		if _, err := s.AppendMessages(ctx, ms); err != nil {
			t.Fatal(err)
		}
		must(s.SetReceipt(ctx, c.ID, store.Receipt{By: wire.AuthorAgent, Kind: wire.ReceiptRead, Seq: 3}))
		must(s.SetReceipt(ctx, c.ID, store.Receipt{By: wire.AuthorCustomer, Kind: wire.ReceiptDelivered, Seq: 6}))
	}
	for _, k := range []store.CallRecord{
		{Call: wire.Call{ID: "k_video", Conv: "c_done", Kind: wire.CallVideo, State: wire.CallEnded, Outcome: wire.OutcomeAcceptedVideo, EndedBy: wire.AuthorAgent,
			CreatedAt: now.Add(-50 * time.Minute).UnixMilli(), AnsweredAt: now.Add(-49 * time.Minute).UnixMilli(), EndedAt: now.Add(-48 * time.Minute).UnixMilli()}},
		{Call: wire.Call{ID: "k_declined", Conv: "c_done", Kind: wire.CallVoice, State: wire.CallEnded, Outcome: wire.OutcomeDeclined, Reason: "declined",
			CreatedAt: now.Add(-40 * time.Minute).UnixMilli(), EndedAt: now.Add(-40 * time.Minute).UnixMilli()}},
		{Call: wire.Call{ID: "k_live", Conv: "c_open", Kind: wire.CallVoice, State: wire.CallActive, Outcome: wire.OutcomeAcceptedAudio,
			CreatedAt: now.Add(-2 * time.Minute).UnixMilli(), AnsweredAt: now.Add(-time.Minute).UnixMilli()}},
	} {
		k.Org, k.Agent = "acme", "u_a1"
		must(s.SaveCall(ctx, k))
	}
	// Routing: queues, members in them with skills, quick replies, the conversations' routing and
	// visits, a supervisor reading along, an internal note.
	for _, q := range []wire.Queue{
		{ID: "general", Name: "General", Default: true, ServiceLevel: wire.ServiceLevel{Percent: 80, TargetS: 30}},
		{ID: "billing", Name: "Billing · Facturación", Language: "es", MaxWaitS: 300, Skills: []wire.Skill{{Name: "billing", Level: 2}},
			Hours: wire.WorkingHours{TimeZone: "Europe/Madrid", Intervals: []wire.OpenInterval{{Day: 1, From: "09:00", To: "17:00"}}}},
	} {
		must(s.SaveQueue(ctx, "acme", q))
	}
	must(s.SetMemberRouting(ctx, "acme", wire.MemberRouting{User: "u_a1", Queues: []wire.QueueID{"general", "billing"}, Skills: []wire.Skill{{Name: "billing", Level: 3}}}))
	must(s.SaveQuickReply(ctx, "acme", wire.QuickReply{ID: "qr1", Scope: wire.QuickReplyQueue, Queue: "billing", Shortcut: "refund", Text: "Your refund is on its way."}))
	must(s.SaveQuickReply(ctx, "acme", wire.QuickReply{ID: "qr2", Scope: wire.QuickReplyPersonal, Owner: "u_a1", Shortcut: "hi", Text: "Hello, {name}!"}))
	must(s.SaveConvRouting(ctx, "c_open", store.ConvRouting{Queue: "billing", QueuedAt: now.Add(-10 * time.Minute).UnixMilli(), Visit: 2,
		Skills: []wire.Skill{{Name: "billing", Level: 1}}, Transfer: &wire.TransferInfo{From: "u_a2", FromName: "Agent Two", To: "Billing", Note: "wants a refund", At: now.Add(-5 * time.Minute).UnixMilli()}}))
	must(s.SaveConvRouting(ctx, "c_wait", store.ConvRouting{Queue: "general", QueuedAt: now.Add(-2 * time.Minute).UnixMilli(), Visit: 1, Message: true, Contact: "jose@example.com"}))
	must(s.SaveVisit(ctx, store.Visit{Conv: "c_open", N: 1, Org: "acme", Queue: "general", EnteredAt: now.Add(-10 * time.Minute).UnixMilli(),
		AnsweredAt: now.Add(-9 * time.Minute).UnixMilli(), FirstResponseAt: now.Add(-8 * time.Minute).UnixMilli(), LeftAt: now.Add(-5 * time.Minute).UnixMilli(),
		Outcome: store.VisitTransferred, Agent: "u_a2", WithCall: true}))
	must(s.SaveVisit(ctx, store.Visit{Conv: "c_open", N: 2, Org: "acme", Queue: "billing", EnteredAt: now.Add(-5 * time.Minute).UnixMilli(), Agent: "u_a1"}))
	must(s.SetConsultant(ctx, store.Consultant{Conv: "c_open", User: "u_s1"}, true))
	if _, err := s.AppendMessages(ctx, []wire.Message{{Conv: "c_open", Author: wire.AuthorAgent, AuthorName: "Super One", Text: "offer the refund", Internal: true}}); err != nil {
		t.Fatal(err)
	}

	done := convs[0]
	done.State, done.EndedAt, done.EndedBy, done.EndReason, done.Outcome = wire.ConvEnded, now.Add(-30*time.Minute).UnixMilli(), wire.AuthorAgent, wire.EndByAgent, wire.OutcomeResolved
	must(s.UpdateConversation(ctx, done))
}
