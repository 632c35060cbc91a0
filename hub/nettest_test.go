package hub_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
)

// TestNetworkTestPlan: a member gets the relays of their organisation with credentials for the
// test only (short-lived, a test id naming them); strangers and other organisations get none.
func TestNetworkTestPlan(t *testing.T) {
	s := startHub(t, func(c *hub.Config) { c.TURNUDP, c.TURNTCP = "127.0.0.1:0", "127.0.0.1:0" })
	login, err := client.Login(ctx(t), s.URL(), hub.DemoOrg, "agent1", hub.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	var nt wire.NetworkTest
	if err := client.API(ctx(t), s.URL(), http.MethodPost, "/api/v1/orgs/demo/network-test", login.Token, nil, &nt); err != nil {
		t.Fatalf("POST network-test: %v", err)
	}
	if nt.ID == "" || nt.Policy != "all" || nt.Government || len(nt.Relays) != 1 || len(nt.Relays[0].URLs) != 2 {
		t.Fatalf("plan = %+v; want the embedded relay over UDP and TCP", nt)
	}
	exp, id, err := relay.ParseUsername(nt.Relays[0].Username)
	if err != nil || !relay.IsTestID(id) || !strings.Contains(id, string(login.User.ID)) || time.Until(exp) > relay.TestTTL {
		t.Errorf("credential %q (id %q, expires in %v); want a test id naming the member, lasting %v at most", nt.Relays[0].Username, id, time.Until(exp), relay.TestTTL)
	}
	if err := client.API(ctx(t), s.URL(), http.MethodDelete, "/api/v1/orgs/demo/network-test/"+nt.ID, login.Token, nil, nil); err != nil {
		t.Errorf("DELETE network-test: %v", err)
	}

	// The result of the agent's check: checked, and only an agent reports one.
	for _, bad := range []wire.SetupResult{{Status: "great"}, {Status: "fail", Problems: []string{"<b>"}}} {
		err = client.API(ctx(t), s.URL(), http.MethodPut, "/api/v1/orgs/demo/setup-result", login.Token, bad, nil)
		wantCode(t, "setup result "+bad.Status, err, wire.EINVALID)
	}
	if err := client.API(ctx(t), s.URL(), http.MethodPut, "/api/v1/orgs/demo/setup-result", login.Token, wire.SetupResult{Status: "warn", Problems: []string{"udp_blocked"}}, nil); err != nil {
		t.Errorf("PUT setup-result: %v", err)
	}
	sup, err := client.Login(ctx(t), s.URL(), hub.DemoOrg, "super1", hub.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	err = client.API(ctx(t), s.URL(), http.MethodPut, "/api/v1/orgs/demo/setup-result", sup.Token, wire.SetupResult{Status: "pass"}, nil)
	wantCode(t, "a supervisor's setup result", err, wire.EFORBIDDEN)

	err = client.API(ctx(t), s.URL(), http.MethodPost, "/api/v1/orgs/demo/network-test", "", nil, &nt)
	wantCode(t, "a plan without a token", err, wire.EUNAUTHORIZED)
	err = client.API(ctx(t), s.URL(), http.MethodPost, "/api/v1/orgs/other/network-test", login.Token, nil, &nt)
	wantCode(t, "another organisation's plan", err, wire.ENOTFOUND)
}

// TestSetupResultSurvivesRestart: an agent's last "Test my setup" is kept with the member, so a
// supervisor still sees it, with its time, after the hub restarts.
func TestSetupResultSurvivesRestart(t *testing.T) {
	db := testDB(t)
	s := startHub(t, func(c *hub.Config) { c.DB = db })
	login, err := client.Login(ctx(t), s.URL(), hub.DemoOrg, "agent1", hub.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	sent := wire.SetupResult{Status: "warn", Problems: []string{"udp_blocked", "speaker_missing"}}
	if err := client.API(ctx(t), s.URL(), http.MethodPut, "/api/v1/orgs/demo/setup-result", login.Token, sent, nil); err != nil {
		t.Fatalf("PUT setup-result: %v", err)
	}
	setupOf := func(s *hub.Server) *wire.SetupResult {
		t.Helper()
		sup := member(t, s, "super1")
		var snap wire.Snapshot
		sup.next(wire.TypeSupervisorSnapshot, &snap)
		for _, a := range snap.Agents {
			if a.ID == login.User.ID {
				return a.Setup
			}
		}
		t.Fatalf("no agent1 in the snapshot: %+v", snap.Agents)
		return nil
	}
	before := setupOf(s)
	if before == nil || before.Status != "warn" || before.At == 0 {
		t.Fatalf("before the restart the team view shows %+v; want the warning", before)
	}
	closeHub(t, s)

	s = startHub(t, func(c *hub.Config) { c.DB = db })
	after := setupOf(s)
	if after == nil || after.Status != "warn" || after.At != before.At || strings.Join(after.Problems, ",") != "udp_blocked,speaker_missing" {
		t.Errorf("after the restart the team view shows %+v; want %+v", after, before)
	}
}
