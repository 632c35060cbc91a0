package hub_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/crypto/bcrypt"
)

// demoToken signs a demo member in and returns their token.
func demoToken(t *testing.T, s *hub.Server, username string) string {
	t.Helper()
	login, err := client.Login(ctx(t), s.URL(), hub.DemoOrg, username, hub.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	return login.Token
}

func TestRoutingAdminAPI(t *testing.T) {
	t.Parallel()
	s := startHub(t)
	admin, agent := demoToken(t, s, "admin1"), demoToken(t, s, "agent1")
	call := func(token, method, path string, in, out any) error {
		return client.API(ctx(t), s.URL(), method, "/api/v1/orgs/demo"+path, token, in, out)
	}
	var rt wire.Routing
	if err := call(admin, http.MethodGet, "/routing", nil, &rt); err != nil {
		t.Fatal(err)
	}
	if len(rt.Queues) != 3 || !rt.Queues[0].Default || rt.Queues[2].Skills[0] != (wire.Skill{Name: "billing", Level: 1}) || len(rt.Prechat.Choices) != 3 {
		t.Errorf("demo routing = %+v", rt)
	}
	// An agent reads it (the app's transfer dialog lists queues and colleagues from it).
	var seen wire.Routing
	if err := call(agent, http.MethodGet, "/routing", nil, &seen); err != nil || len(seen.Queues) != 3 || len(seen.Members) == 0 {
		t.Errorf("agent GET /routing = %+v, %v; want the queues and members", seen, err)
	}
	spanish := wire.Queue{ID: "soporte", Name: "Soporte", Language: "es", Skills: []wire.Skill{{Name: "es", Level: 2}},
		Hours: wire.WorkingHours{TimeZone: "Europe/Madrid", Intervals: []wire.OpenInterval{{Day: 1, From: "09:00", To: "18:00"}}}}
	var saved wire.Queue
	if err := call(admin, http.MethodPut, "/routing/queues/soporte", spanish, &saved); err != nil {
		t.Fatal(err)
	}
	if saved.WidenAfterS != 60 || saved.ServiceLevel != (wire.ServiceLevel{TargetS: 30, Percent: 80}) {
		t.Errorf("saved queue = %+v; want the defaults filled in", saved)
	}
	for _, tc := range []struct {
		name   string
		token  string
		method string
		path   string
		body   any
		code   wire.Code
	}{
		{"an agent edits a queue", agent, http.MethodPut, "/routing/queues/x", wire.Queue{ID: "x", Name: "X"}, wire.EFORBIDDEN},
		{"bad id", admin, http.MethodPut, "/routing/queues/Bad%20Id", wire.Queue{Name: "X"}, wire.EINVALID},
		{"no name", admin, http.MethodPut, "/routing/queues/x", wire.Queue{ID: "x"}, wire.EINVALID},
		{"bad zone", admin, http.MethodPut, "/routing/queues/x", wire.Queue{ID: "x", Name: "X", Hours: wire.WorkingHours{TimeZone: "Mars/Olympus"}}, wire.EINVALID},
		{"backwards hours", admin, http.MethodPut, "/routing/queues/x", wire.Queue{ID: "x", Name: "X",
			Hours: wire.WorkingHours{Intervals: []wire.OpenInterval{{Day: 1, From: "18:00", To: "09:00"}}}}, wire.EINVALID},
		{"skill level", admin, http.MethodPut, "/routing/queues/x", wire.Queue{ID: "x", Name: "X", Skills: []wire.Skill{{Name: "es", Level: 9}}}, wire.EINVALID},
		{"language", admin, http.MethodPut, "/routing/queues/x", wire.Queue{ID: "x", Name: "X", Language: "klingon"}, wire.EINVALID},
		{"no default left", admin, http.MethodPut, "/routing/queues/general", wire.Queue{ID: "general", Name: "General"}, wire.ECONFLICT},
		{"remove the default", admin, http.MethodDelete, "/routing/queues/general", nil, wire.ECONFLICT},
		{"remove a pre-chat queue", admin, http.MethodDelete, "/routing/queues/billing", nil, wire.ECONFLICT},
		{"remove nothing", admin, http.MethodDelete, "/routing/queues/nope", nil, wire.ENOTFOUND},
		{"member in no queue", admin, http.MethodPut, "/routing/members/" + string(rt.Members[1].User), wire.MemberRouting{Queues: []wire.QueueID{"nope"}}, wire.ENOTFOUND},
		{"no such member", admin, http.MethodPut, "/routing/members/u_nobody", wire.MemberRouting{}, wire.ENOTFOUND},
		{"pre-chat to no queue", admin, http.MethodPut, "/routing/prechat", wire.Prechat{Question: "Q?", Choices: []wire.PrechatChoice{{ID: "a", Label: "A", Queue: "nope"}}}, wire.ENOTFOUND},
		{"pre-chat without question", admin, http.MethodPut, "/routing/prechat", wire.Prechat{Choices: []wire.PrechatChoice{{ID: "a", Label: "A", Queue: "sales"}}}, wire.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.name, call(tc.token, tc.method, tc.path, tc.body, nil), tc.code)
		})
	}
	// Making Soporte the default moves the flag; General can then go.
	spanish.Default, spanish.Hours = true, wire.WorkingHours{}
	if err := call(admin, http.MethodPut, "/routing/queues/soporte", spanish, nil); err != nil {
		t.Fatal(err)
	}
	if err := call(admin, http.MethodDelete, "/routing/queues/general", nil, nil); err == nil {
		t.Error("removed General while the pre-chat question sends customers there")
	}
	if err := call(admin, http.MethodPut, "/routing/prechat", wire.Prechat{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := call(admin, http.MethodDelete, "/routing/queues/general", nil, nil); err != nil {
		t.Errorf("removing General once nothing points there: %v", err)
	}
	_, conv := customer(t, s, "Pia")
	if conv.Queue != "soporte" {
		t.Errorf("a conversation naming no queue went to %s; want the new default soporte", conv.Queue)
	}
}

func TestQuickRepliesByScope(t *testing.T) {
	t.Parallel()
	s := startHub(t)
	admin, a1, a2 := demoToken(t, s, "admin1"), demoToken(t, s, "agent1"), demoToken(t, s, "agent2")
	call := func(token, method, path string, in, out any) error {
		return client.API(ctx(t), s.URL(), method, "/api/v1/orgs/demo/quick-replies"+path, token, in, out)
	}
	var mine wire.QuickReply
	if err := call(a1, http.MethodPost, "", wire.QuickReply{Scope: wire.QuickReplyPersonal, Shortcut: "/sig", Text: "— {agent_name}"}, &mine); err != nil {
		t.Fatal(err)
	}
	if mine.Shortcut != "sig" || mine.Owner == "" || mine.ID == "" {
		t.Errorf("personal reply = %+v", mine)
	}
	wantCode(t, "agent adds an org reply", call(a1, http.MethodPost, "", wire.QuickReply{Scope: wire.QuickReplyOrg, Shortcut: "x", Text: "x"}, nil), wire.EFORBIDDEN)
	wantCode(t, "bad shortcut", call(admin, http.MethodPost, "", wire.QuickReply{Scope: wire.QuickReplyOrg, Shortcut: "has space", Text: "x"}, nil), wire.EINVALID)
	wantCode(t, "empty text", call(admin, http.MethodPost, "", wire.QuickReply{Scope: wire.QuickReplyOrg, Shortcut: "x", Text: " "}, nil), wire.EINVALID)
	wantCode(t, "no such queue", call(admin, http.MethodPost, "", wire.QuickReply{Scope: wire.QuickReplyQueue, Queue: "nope", Shortcut: "x", Text: "x"}, nil), wire.ENOTFOUND)
	wantCode(t, "another's reply", call(a2, http.MethodPut, "/"+string(mine.ID), wire.QuickReply{Scope: wire.QuickReplyPersonal, Shortcut: "sig", Text: "mine now"}, nil), wire.ENOTFOUND)
	wantCode(t, "delete another's", call(a2, http.MethodDelete, "/"+string(mine.ID), nil, nil), wire.ENOTFOUND)
	var list1, list2 []wire.QuickReply
	if err := call(a1, http.MethodGet, "", nil, &list1); err != nil {
		t.Fatal(err)
	}
	if err := call(a2, http.MethodGet, "", nil, &list2); err != nil {
		t.Fatal(err)
	}
	// The demo's three (two of the organisation, one of Billing) for both; the signature for its
	// owner only.
	if len(list1) != 4 || len(list2) != 3 {
		t.Errorf("agent1 sees %d, agent2 %d; want 4 and 3", len(list1), len(list2))
	}
	if err := call(a1, http.MethodDelete, "/"+string(mine.ID), nil, nil); err != nil {
		t.Errorf("deleting one's own: %v", err)
	}
}

func TestRoutingSurvivesRestart(t *testing.T) {
	t.Parallel()
	dbPath := testDB(t)
	open := func() *hub.Server {
		s, err := hub.Open(context.Background(), hub.Config{Addr: "127.0.0.1:0", DB: dbPath, Demo: true, BcryptCost: bcrypt.MinCost,
			OfferTimeout: 5 * time.Second, OfflineGrace: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	a1 := member(t, s, "agent1")
	started, err := client.Start(ctx(t), s.URL(), hub.DemoOrg, wire.StartConversation{Name: "Ron", Choice: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	conv := started.Conversation
	a1.accept(conv.ID)
	sup := member(t, s, "super1")
	if _, err := a1.conn.Request(ctx(t), wire.TypeConvInvite, wire.ConsultInvite{Conv: conv.ID, User: sup.conn.Welcome().User.ID}); err != nil {
		t.Fatal(err)
	}
	_, waiting := customer(t, s, "Wes") // agent1 has room: offered to them; nobody accepts
	a1.conn.Close()
	sup.conn.Close()
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(c); err != nil {
		t.Fatal(err)
	}

	s = open()
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Close(c)
	})
	sup = member(t, s, "super1")
	var snap wire.Snapshot
	sup.next(wire.TypeSupervisorSnapshot, &snap)
	found := map[wire.ConversationID]wire.Conversation{}
	for _, c := range snap.Conversations {
		found[c.ID] = c
	}
	if got := found[conv.ID]; got.Queue != "billing" || len(got.Skills) != 1 || len(got.Consultants) != 1 || got.State != wire.ConvActive {
		t.Errorf("after a restart the billing conversation is %+v; want active in billing, needing billing, with the reader", got)
	}
	if got := found[waiting.ID]; got.Queue != hub.DefaultQueue || got.State != wire.ConvWaiting {
		t.Errorf("after a restart the waiting conversation is %+v", got)
	}
	if len(snap.Queues) != 3 || snap.Queues[2].Answered != 1 {
		t.Errorf("figures after a restart = %+v; want Billing's answer counted", snap.Queues)
	}
	// The reader along is back in the conversation on reconnect.
	w := sup.conn.Welcome()
	if len(w.Conversations) != 1 || w.Conversations[0].ID != conv.ID {
		t.Errorf("reader's welcome = %+v; want the conversation they read along", w.Conversations)
	}
}

func TestQueuesReport(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1 := member(t, rg.s, "agent1")
	c, conv := rg.start(t, "Rae", wire.StartConversation{Choice: "billing"})
	rg.clk.advance(40 * time.Second)
	a1.accept(conv.ID)
	c.waitState(wire.ConvActive)
	if _, err := a1.conn.Request(ctx(t), wire.TypeConvTransfer, wire.Transfer{Conv: conv.ID, Queue: "sales"}); err != nil {
		t.Fatal(err)
	}
	get := func(token, query string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, rg.s.URL()+"/api/v1/orgs/demo/reports/queues.csv"+query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, res.Body)
		return res.StatusCode, b.String()
	}
	code, body := get(demoToken(t, rg.s, "super1"), "")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if code != 200 || len(lines) != 4 || !strings.HasPrefix(lines[0], "queue,name,from,to,answered") {
		t.Fatalf("queues.csv = %d\n%s", code, body)
	}
	// Billing: one answered after 40 s (outside the 30 s target), handled and transferred on.
	if !strings.HasPrefix(lines[3], "billing,Billing,") || !strings.Contains(lines[3], ",1,0,0,1,0.0,30,80,40.") {
		t.Errorf("billing row = %s", lines[3])
	}
	if code, _ := get(demoToken(t, rg.s, "agent1"), ""); code != http.StatusForbidden {
		t.Errorf("an agent's report = %d; want 403", code)
	}
	if code, _ := get(demoToken(t, rg.s, "super1"), "?interval=1s"); code != http.StatusBadRequest {
		t.Errorf("a 1 s interval = %d; want 400", code)
	}
	if code, body := get(demoToken(t, rg.s, "super1"), "?interval=1h"); code != 200 || strings.Count(body, "\nbilling,") != 24 {
		t.Errorf("hourly report = %d with %d billing rows; want 24", code, strings.Count(body, "\nbilling,"))
	}
}
