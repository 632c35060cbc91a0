package hub_test

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// newOrg creates organisation acme with its first admin (boss) the way `parley-hub init` does,
// and returns the admin's setup link.
func newOrg(t *testing.T, s *hub.Server) string {
	t.Helper()
	_, inv, err := s.CreateOrganisation(ctx(t), hub.CommandLine, hub.NewOrg{ID: "acme", Name: "Acme Support"}, &hub.NewMember{Username: "Boss", DisplayName: "Bea Boss"}, s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if inv == nil || !strings.HasPrefix(inv.URL, s.URL()+"/setup#") || inv.Member.Role != wire.RoleAdmin || inv.Member.Username != "boss" {
		t.Fatalf("invite = %+v; want a setup link for admin boss", inv)
	}
	return inv.URL
}

// setup uses a setup link through the API, as the setup page does.
func setup(t *testing.T, s *hub.Server, link, password string) (wire.SetupDone, error) {
	t.Helper()
	var done wire.SetupDone
	err := client.API(ctx(t), s.URL(), http.MethodPost, "/api/v1/setup", "", wire.SetupRequest{Token: link[strings.Index(link, "#")+1:], Password: password}, &done)
	return done, err
}

const goodPassword = "correct horse battery"

func TestSetupLinkOnceThenSignIn(t *testing.T) {
	clk := &clock{}
	s := startHub(t, func(c *hub.Config) { c.Now = clk.now })
	link := newOrg(t, s)

	var info wire.SetupInfo
	if err := client.API(ctx(t), s.URL(), http.MethodPost, "/api/v1/setup/info", "", wire.SetupRequest{Token: link}, &info); err != nil {
		t.Fatal(err)
	}
	if info.Org != "acme" || info.OrgName != "Acme Support" || info.Username != "boss" || info.Role != wire.RoleAdmin || info.Purpose != "invite" {
		t.Errorf("setup info = %+v", info)
	}
	// No password yet: signing in fails like a wrong password.
	_, err := client.Login(ctx(t), s.URL(), "acme", "boss", "")
	wantCode(t, "sign-in before setup", err, wire.EUNAUTHORIZED)

	for _, weak := range []string{"short", "password123", "Summer2024!", "P@ssw0rd2024", "aaaaaaaaaaaa", "boss-is-the-best", "welcome2acme", "qwertyuiop"} {
		_, err := setup(t, s, link, weak)
		wantCode(t, "setup with "+weak, err, wire.EWEAKPASSWORD)
	}
	_, err = setup(t, s, link, strings.Repeat("x9!", 30))
	wantCode(t, "setup with a 90-byte password", err, wire.ETOOLARGE)

	done, err := setup(t, s, link, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if done.Login == nil || done.Login.User.Role != wire.RoleAdmin || done.Info.Username != "boss" {
		t.Fatalf("setup = %+v; want the admin signed in to the console", done)
	}
	_, err = setup(t, s, link, goodPassword+"2")
	wantCode(t, "the link a second time", err, wire.ELINKUSED)

	// Usernames are not case-sensitive.
	login, err := client.Login(ctx(t), s.URL(), "acme", " BOSS ", goodPassword)
	if err != nil || login.User.Username != "boss" {
		t.Fatalf("Login = %+v, %v", login, err)
	}

	// A link expires.
	inv, err := s.InviteMember(ctx(t), hub.CommandLine, "acme", hub.NewMember{Username: "late", Role: wire.RoleAgent}, s.URL())
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(hub.DefaultSetupLinkTTL + time.Second)
	_, err = setup(t, s, inv.URL, goodPassword)
	wantCode(t, "an expired link", err, wire.ELINKEXPIRED)
	_, err = setup(t, s, s.URL()+"/setup#not-a-link", goodPassword)
	wantCode(t, "an unknown link", err, wire.ENOTFOUND)
}

func TestBadInputCreatesNothing(t *testing.T) {
	s := startHub(t)
	newOrg(t, s)
	tests := []struct {
		what string
		org  hub.NewOrg
		adm  *hub.NewMember
		code wire.Code
	}{
		{"upper-case id", hub.NewOrg{ID: "Acme2", Name: "A"}, nil, wire.EINVALID},
		{"id with a slash", hub.NewOrg{ID: "a/b", Name: "A"}, nil, wire.EINVALID},
		{"id ending in a hyphen", hub.NewOrg{ID: "acme-", Name: "A"}, nil, wire.EINVALID},
		{"no name", hub.NewOrg{ID: "acme2", Name: "  "}, nil, wire.EINVALID},
		{"name with a control character", hub.NewOrg{ID: "acme2", Name: "A\x07"}, nil, wire.EINVALID},
		{"long name", hub.NewOrg{ID: "acme2", Name: strings.Repeat("n", 81)}, nil, wire.ETOOLARGE},
		{"bad region", hub.NewOrg{ID: "acme2", Name: "A", Region: "Mars 1"}, nil, wire.EINVALID},
		{"bad calls", hub.NewOrg{ID: "acme2", Name: "A", Calls: "smoke"}, nil, wire.EINVALID},
		{"bad language", hub.NewOrg{ID: "acme2", Name: "A", Language: "fr"}, nil, wire.EINVALID},
		{"taken id", hub.NewOrg{ID: "acme", Name: "A"}, nil, wire.ECONFLICT},
		{"bad admin username", hub.NewOrg{ID: "acme2", Name: "A"}, &hub.NewMember{Username: "bo ss"}, wire.EINVALID},
		{"weak admin password", hub.NewOrg{ID: "acme2", Name: "A"}, &hub.NewMember{Username: "boss", Password: "password1"}, wire.EWEAKPASSWORD},
	}
	for _, tt := range tests {
		_, _, err := s.CreateOrganisation(ctx(t), hub.CommandLine, tt.org, tt.adm, "")
		wantCode(t, tt.what, err, tt.code)
	}
	if _, err := s.Store().Org(ctx(t), "acme2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused organisation exists: %v", err)
	}
	for _, m := range []struct {
		what string
		m    hub.NewMember
		code wire.Code
	}{
		{"taken username", hub.NewMember{Username: "BOSS"}, wire.ECONFLICT},
		{"bad role", hub.NewMember{Username: "x", Role: "owner"}, wire.EINVALID},
		{"capacity 0 is the default, 21 is too many", hub.NewMember{Username: "x", Capacity: 21}, wire.EINVALID},
		{"bad email", hub.NewMember{Username: "x", Email: "not an email"}, wire.EINVALID},
		{"empty username", hub.NewMember{Username: " "}, wire.EINVALID},
	} {
		_, err := s.InviteMember(ctx(t), hub.CommandLine, "acme", m.m, "")
		wantCode(t, m.what, err, m.code)
	}
	_, err := s.InviteMember(ctx(t), hub.CommandLine, "nope", hub.NewMember{Username: "x"}, "")
	wantCode(t, "invite into a missing organisation", err, wire.ENOTFOUND)
	list, err := s.Members(ctx(t), "acme", store.UserQuery{})
	if err != nil || list.Total != 1 {
		t.Errorf("members after refused invitations = %+v, %v; want only boss", list, err)
	}
	log, _ := s.AuditLog(ctx(t), "acme", store.AuditQuery{})
	if len(log) != 2 {
		t.Errorf("audit after refused changes = %+v; want org.create and member.invite", log)
	}
}

// console is an admin signed in to the console's API.
type console struct {
	t     *testing.T
	s     *hub.Server
	token string
}

func (c console) call(method, path string, in, out any) error {
	return client.API(ctx(c.t), c.s.URL(), method, path, c.token, in, out)
}

func (c console) must(method, path string, in, out any) {
	c.t.Helper()
	if err := c.call(method, path, in, out); err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
}

func adminConsole(t *testing.T, s *hub.Server) console {
	t.Helper()
	done, err := setup(t, s, newOrg(t, s), goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	return console{t, s, done.Login.Token}
}

// invite invites a member through the console and sets their password through the link.
func (c console) invite(username string, role wire.Role) (wire.SetupLinkResponse, wire.LoginResponse) {
	c.t.Helper()
	var inv wire.SetupLinkResponse
	c.must(http.MethodPost, "/api/v1/orgs/acme/members", wire.MemberInvite{Username: username, DisplayName: strings.ToUpper(username[:1]) + username[1:], Role: role, Capacity: 2}, &inv)
	if _, err := setup(c.t, c.s, inv.URL, goodPassword); err != nil {
		c.t.Fatal(err)
	}
	login, err := client.SignIn(ctx(c.t), c.s.URL(), wire.LoginRequest{Org: "acme", Username: username, Password: goodPassword, Client: "app"})
	if err != nil {
		c.t.Fatal(err)
	}
	return inv, login
}

func TestDisableAgentMidChatRequeues(t *testing.T) {
	s := startHub(t)
	adm := adminConsole(t, s)
	_, ann := adm.invite("ann", wire.RoleAgent)
	_, bob := adm.invite("bob", wire.RoleAgent)
	agentAnn := dial(t, s, ann.Token, "ann")
	var busy wire.Presence = wire.PresenceBusy
	if _, err := agentAnn.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAvailable}); err != nil {
		t.Fatal(err)
	}
	started, err := client.StartConversation(ctx(t), s.URL(), "acme", "Carla")
	if err != nil {
		t.Fatal(err)
	}
	cust := dial(t, s, started.Token, "customer")
	conv := started.Conversation.ID
	agentAnn.accept(conv)
	if _, err := cust.conn.Send(ctx(t), conv, "my order is late"); err != nil {
		t.Fatal(err)
	}
	agentAnn.message(conv, "my order is late")

	// Bob comes online busy, so the conversation cannot go to him until he is available.
	agentBob := dial(t, s, bob.Token, "bob")
	if _, err := agentBob.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: busy}); err != nil {
		t.Fatal(err)
	}

	var m wire.Member
	adm.must(http.MethodPost, "/api/v1/orgs/acme/members/ann/disable", nil, &m)
	if !m.Disabled {
		t.Errorf("disable answered %+v", m)
	}
	// Ann's connection ends at once with her session; her token is dead.
	deadline := time.After(5 * time.Second)
	for closed := false; !closed; {
		select {
		case _, ok := <-agentAnn.conn.Events():
			closed = !ok
		case <-deadline:
			t.Fatal("the disabled agent's connection stayed open")
		}
	}
	if _, err := client.Dial(ctx(t), s.URL(), ann.Token, client.Options{}); wire.ErrorCode(err) != wire.EUNAUTHORIZED {
		t.Errorf("dial with the disabled agent's token = %v; want EUNAUTHORIZED", err)
	}
	_, err = client.Login(ctx(t), s.URL(), "acme", "ann", goodPassword)
	wantCode(t, "sign-in of a disabled agent", err, wire.EDISABLED)
	_, err = client.Login(ctx(t), s.URL(), "acme", "ann", "wrong password!!")
	wantCode(t, "sign-in of a disabled agent with a wrong password", err, wire.EUNAUTHORIZED)

	// The customer is back in the queue with a system line, and loses nothing.
	cust.until(wire.TypeChatMessage, func(env wire.Envelope) bool {
		var msg wire.Message
		_ = json.Unmarshal(env.Data, &msg)
		return msg.Event != nil && msg.Event.Kind == wire.EventRequeued && msg.Event.Name == "Ann"
	})
	c, err := s.Store().Conversation(ctx(t), conv)
	if err != nil || c.State != wire.ConvWaiting || c.AgentID != "" {
		t.Errorf("stored conversation = %+v, %v; want waiting with no agent", c, err)
	}
	// Bob becomes available and is offered it; the transcript is all there.
	if _, err := agentBob.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAvailable}); err != nil {
		t.Fatal(err)
	}
	agentBob.accept(conv)
	hist, err := agentBob.conn.History(ctx(t), conv, 0)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, h := range hist {
		texts = append(texts, h.Text)
	}
	if !strings.Contains(strings.Join(texts, "|"), "my order is late") {
		t.Errorf("history after requeue = %q", texts)
	}

	// The audit log says who did it, from where.
	var page wire.AuditPage
	adm.must(http.MethodGet, "/api/v1/orgs/acme/audit?limit=100", nil, &page)
	var actions []string
	for _, e := range page.Entries {
		actions = append(actions, e.Action+" "+e.Target+" by "+e.ActorName)
		if e.Action == hub.AuditMemberDisable && (e.ActorName != "boss" || e.Addr != "127.0.0.1") {
			t.Errorf("disable entry = %+v; want boss from 127.0.0.1", e)
		}
	}
	for _, want := range []string{"member.disable ann by boss", "member.invite ann by boss", "member.password_set ann by ann", "session.signin ann by ann", "org.create acme by parley-hub"} {
		if !strings.Contains(strings.Join(actions, "\n"), want) {
			t.Errorf("audit log lacks %q:\n%s", want, strings.Join(actions, "\n"))
		}
	}
	// And exports it as CSV.
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, s.URL()+"/api/v1/orgs/acme/audit.csv", nil)
	req.Header.Set("Authorization", "Bearer "+adm.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(rows) != len(page.Entries)+1 || rows[0][1] != "time_utc" {
		t.Errorf("CSV = %d rows, %v, %s; want a header and %d rows", len(rows), err, res.Header.Get("Content-Type"), len(page.Entries))
	}
}

func TestConsoleAPIRefusesOthers(t *testing.T) {
	s := startHub(t)
	adm := adminConsole(t, s)
	_, agent := adm.invite("ann", wire.RoleAgent)
	// An agent is not an admin; the demo organisation's admin is not acme's.
	err := client.API(ctx(t), s.URL(), http.MethodGet, "/api/v1/orgs/acme/members", agent.Token, nil, nil)
	wantCode(t, "members as an agent", err, wire.EFORBIDDEN)
	demo, err := client.Login(ctx(t), s.URL(), hub.DemoOrg, "admin1", hub.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	err = client.API(ctx(t), s.URL(), http.MethodPost, "/api/v1/orgs/acme/members/ann/disable", demo.Token, nil, nil)
	wantCode(t, "disable in another organisation", err, wire.ENOTFOUND)
	err = client.API(ctx(t), s.URL(), http.MethodGet, "/api/v1/orgs/acme/audit", "", nil, nil)
	wantCode(t, "audit without a token", err, wire.EUNAUTHORIZED)
	// The demo admin cannot reach acme's member through its own organisation's path either.
	var list wire.MemberList
	if err := client.API(ctx(t), s.URL(), http.MethodGet, "/api/v1/orgs/demo/members?q=ann", demo.Token, nil, &list); err != nil || list.Total != 0 {
		t.Errorf("demo members named ann = %+v, %v", list, err)
	}
	err = client.API(ctx(t), s.URL(), http.MethodPatch, "/api/v1/orgs/demo/members/"+string(agent.User.ID), demo.Token, wire.MemberPatch{}, nil)
	wantCode(t, "patch another organisation's member by id", err, wire.ENOTFOUND)
}

func TestConsoleMembersAndOrganisation(t *testing.T) {
	s := startHub(t)
	adm := adminConsole(t, s)
	for _, u := range []string{"carol", "dave", "erin"} {
		var inv wire.SetupLinkResponse
		adm.must(http.MethodPost, "/api/v1/orgs/acme/members", wire.MemberInvite{Username: u, Role: wire.RoleAgent}, &inv)
		if inv.Member.PasswordSet || inv.ExpiresAt == 0 || !strings.Contains(inv.URL, "/setup#") {
			t.Errorf("invite %s = %+v", u, inv)
		}
	}
	var list wire.MemberList
	adm.must(http.MethodGet, "/api/v1/orgs/acme/members?limit=2&offset=1", nil, &list)
	if list.Total != 4 || len(list.Members) != 2 || list.Members[0].Username != "carol" {
		t.Errorf("page 2 = %+v", list)
	}
	adm.must(http.MethodGet, "/api/v1/orgs/acme/members?q=DAV", nil, &list)
	if list.Total != 1 || list.Members[0].Username != "dave" {
		t.Errorf("search dav = %+v", list)
	}
	role, capacity, name := wire.RoleSupervisor, 5, "Dave D."
	var m wire.Member
	adm.must(http.MethodPatch, "/api/v1/orgs/acme/members/dave", wire.MemberPatch{Role: &role, Capacity: &capacity, DisplayName: &name}, &m)
	if m.Role != role || m.Capacity != 5 || m.DisplayName != name {
		t.Errorf("patched = %+v", m)
	}
	bad := 0
	err := adm.call(http.MethodPatch, "/api/v1/orgs/acme/members/dave", wire.MemberPatch{Capacity: &bad}, nil)
	wantCode(t, "capacity 0", err, wire.EINVALID)
	agentRole := wire.RoleAgent
	err = adm.call(http.MethodPatch, "/api/v1/orgs/acme/members/boss", wire.MemberPatch{Role: &agentRole}, nil)
	wantCode(t, "demote the only admin", err, wire.ELASTADMIN)
	err = adm.call(http.MethodPost, "/api/v1/orgs/acme/members/boss/disable", nil, nil)
	wantCode(t, "disable the only admin", err, wire.ELASTADMIN)

	// A reset makes a new link: the old one stops working.
	var first, second wire.SetupLinkResponse
	adm.must(http.MethodPost, "/api/v1/orgs/acme/members/erin/reset", nil, &first)
	adm.must(http.MethodPost, "/api/v1/orgs/acme/members/erin/reset", nil, &second)
	_, err = setup(t, s, first.URL, goodPassword)
	wantCode(t, "a replaced reset link", err, wire.ENOTFOUND)
	if _, err := setup(t, s, second.URL, goodPassword); err != nil {
		t.Errorf("the new reset link: %v", err)
	}

	var o wire.OrgSettings
	adm.must(http.MethodGet, "/api/v1/orgs/acme", nil, &o)
	if o.Name != "Acme Support" || o.Region != "na" || o.Calls != wire.CallsVoiceVideo || o.Language != "en" {
		t.Errorf("org = %+v", o)
	}
	o.Name, o.Calls, o.Language, o.Region = "Acme Help", wire.CallsVoiceOnly, "es", "gcc"
	adm.must(http.MethodPut, "/api/v1/orgs/acme", o, &o)
	var opts wire.SignInOptions
	if opts, err = client.SignInOptions(ctx(t), s.URL(), "acme"); err != nil || opts.Name != "Acme Help" || opts.Language != "es" || !opts.Password || opts.SSO != "" {
		t.Errorf("sign-in options = %+v, %v", opts, err)
	}
	o.Region = "at lantis"
	wantCode(t, "bad region", adm.call(http.MethodPut, "/api/v1/orgs/acme", o, nil), wire.EINVALID)
}

func TestSessionsListEndRenewAndSignOut(t *testing.T) {
	clk := &clock{}
	s := startHub(t, func(c *hub.Config) { c.Now = clk.now; c.TokenTTL = time.Hour; c.SessionCheck = 50 * time.Millisecond })
	adm := adminConsole(t, s)
	_, first := adm.invite("ann", wire.RoleAgent)
	second, err := client.SignIn(ctx(t), s.URL(), wire.LoginRequest{Org: "acme", Username: "ann", Password: goodPassword, Client: "agent"})
	if err != nil {
		t.Fatal(err)
	}
	p1 := dial(t, s, first.Token, "ann-app")
	p2 := dial(t, s, second.Token, "ann-agent")

	var ss []wire.Session
	adm.must(http.MethodGet, "/api/v1/orgs/acme/members/ann/sessions", nil, &ss)
	if len(ss) != 2 || ss[0].Client != "agent" || ss[1].Client != "app" || ss[0].Method != "password" || ss[0].Addr != "127.0.0.1" {
		t.Fatalf("sessions = %+v", ss)
	}
	// Ending the app's session closes the app's connection only.
	adm.must(http.MethodDelete, "/api/v1/orgs/acme/members/ann/sessions/"+ss[1].ID, nil, nil)
	waitClosed(t, p1)
	if p2.conn.State() == client.StateClosed {
		t.Error("ending one session closed the other")
	}

	// Renewing keeps the live connection and retires the old token.
	clk.advance(50 * time.Minute)
	renewed, err := client.Renew(ctx(t), s.URL(), second.Token)
	if want := clk.now().Add(time.Hour).UnixMilli(); err != nil || renewed.Token == second.Token || renewed.ExpiresAt > want || renewed.ExpiresAt < want-5000 {
		t.Fatalf("Renew = %+v, %v", renewed, err)
	}
	p2.conn.SetToken(renewed.Token)
	_, err = client.Renew(ctx(t), s.URL(), second.Token)
	wantCode(t, "renewing with the retired token", err, wire.EUNAUTHORIZED)
	clk.advance(20 * time.Minute) // past the first token's expiry, within the renewed one's
	time.Sleep(200 * time.Millisecond)
	if p2.conn.State() == client.StateClosed {
		t.Fatal("the connection closed although its session was renewed")
	}
	if _, err := p2.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAvailable}); err != nil {
		t.Errorf("request on the renewed session: %v", err)
	}
	// A session that is not renewed expires, and its connection closes.
	clk.advance(2 * time.Hour)
	waitClosed(t, p2)

	// Signing out ends the session on the hub.
	again, err := client.Login(ctx(t), s.URL(), "acme", "ann", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	p3 := dial(t, s, again.Token, "ann-again")
	if err := client.Logout(ctx(t), s.URL(), again.Token); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, p3)
	_, err = client.Me(ctx(t), s.URL(), again.Token)
	wantCode(t, "me after sign-out", err, wire.EUNAUTHORIZED)
}

// waitClosed waits for a peer's session to be closed by the hub.
func waitClosed(t *testing.T, p *peer) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-p.conn.Events():
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("%s: still connected", p.name)
		}
	}
}

func TestCustomerTokenEndsWithConversation(t *testing.T) {
	clk := &clock{}
	s := startHub(t, func(c *hub.Config) { c.Now = clk.now; c.CustomerGrace = 10 * time.Minute })
	agent := member(t, s, "agent1")
	st, err := client.StartConversation(ctx(t), s.URL(), hub.DemoOrg, "Ann")
	if err != nil {
		t.Fatal(err)
	}
	cust := dial(t, s, st.Token, "Ann")
	started := st.Conversation.ID
	agent.accept(started)
	if _, err := agent.conn.Request(ctx(t), wire.TypeConvEnd, wire.ConvRef{Conv: started}); err != nil {
		t.Fatal(err)
	}
	cust.until(wire.TypeConvState, func(env wire.Envelope) bool {
		var c wire.Conversation
		_ = json.Unmarshal(env.Data, &c)
		return c.State == wire.ConvEnded
	})
	tok := st.Token
	clk.advance(5 * time.Minute)
	if c, err := client.Dial(ctx(t), s.URL(), tok, client.Options{}); err != nil {
		t.Errorf("within the grace the customer reads the transcript: %v", err)
	} else {
		c.Close()
	}
	clk.advance(6 * time.Minute)
	_, err = client.Dial(ctx(t), s.URL(), tok, client.Options{})
	wantCode(t, "the customer's token after the grace", err, wire.EUNAUTHORIZED)
}
