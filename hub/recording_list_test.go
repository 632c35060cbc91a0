package hub_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/wire"
)

// TestRecordedCalls: the organisation's recorded calls, newest first, a page at a time, with the
// customer, agent, queue, length and a link to the playback page, for its supervisors and admins;
// a call with no file reached is not listed; an agent is refused and another organisation's
// supervisor finds nothing.
func TestRecordedCalls(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	setRecording(t, rg.s, `{"mode":"always"}`)
	agentTok, super, admin := demoToken(t, rg.s, "agent1"), demoToken(t, rg.s, "super1"), demoToken(t, rg.s, "admin1")

	// Three recorded calls of 10, 20 and 30 s, and one whose recording never arrived.
	var ids []wire.CallID
	for i := 1; i <= 4; i++ {
		id := rg.invite(t, wire.CallVoice)
		if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Record: true}); err != nil {
			t.Fatal(err)
		}
		rg.agent.callState(id, wire.CallActive)
		rg.clk.advance(time.Duration(i) * 10 * time.Second)
		if i < 4 {
			file := []byte("a recording of call " + string(id))
			up := rg.s.URL() + "/api/v1/orgs/demo/conversations/" + string(rg.conv.ID) + "/calls/" + string(id) + "/recordings/agent.webm"
			if st, body, _ := httpDo(t, "PUT", up, agentTok, bytes.NewReader(file), map[string]string{wire.HeaderSHA256: sum(file)}); st != 200 {
				t.Fatalf("upload = %d %s", st, body)
			}
			ids = append(ids, id)
		}
		if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
			t.Fatal(err)
		}
		rg.agent.callState(id, wire.CallEnded)
		rg.clk.advance(time.Minute)
	}

	list := rg.s.URL() + "/api/v1/orgs/demo/recordings"
	get := func(token, query string) (int, wire.RecordedCalls, string) {
		t.Helper()
		st, body, _ := httpDo(t, "GET", list+query, token, nil, nil)
		var out wire.RecordedCalls
		_ = json.Unmarshal([]byte(body), &out)
		return st, out, body
	}
	st, page, body := get(super, "?limit=2")
	if st != 200 || len(page.Calls) != 2 || page.Calls[0].Call != ids[2] || page.Calls[1].Call != ids[1] || page.Next == "" {
		t.Fatalf("first page = %d %s; want calls 3 and 2, newest first, and a next page", st, body)
	}
	c := page.Calls[0]
	// The test's clock moved 30 s while the call ran, real time a little more.
	if c.Conv != rg.conv.ID || c.CustomerName != "Carla" || c.AgentName != "Agent One" || c.Kind != wire.CallVoice || c.QueueName != "General" ||
		c.DurationMS < 30_000 || c.DurationMS > 35_000 || c.StartedAt == 0 || c.EndedAt-c.StartedAt != c.DurationMS ||
		c.Page != rg.s.URL()+"/admin/demo/recordings/"+string(rg.conv.ID) {
		t.Errorf("recorded call = %+v; want Carla's 30 s voice call in General with Agent One and its playback page", c)
	}
	st, page, body = get(admin, "?limit=2&before="+url.QueryEscape(page.Next))
	if st != 200 || len(page.Calls) != 1 || page.Calls[0].Call != ids[0] || page.Next != "" {
		t.Fatalf("second page = %d %s; want call 1 and no more", st, body)
	}
	if st, page, body = get(super, ""); st != 200 || len(page.Calls) != 3 {
		t.Errorf("default page = %d %s; want the three recorded calls", st, body)
	}

	// Refused: no token, an agent, bad paging; another organisation's supervisor finds nothing.
	sam := acmeSupervisor(t, rg.s)
	for _, tt := range []struct {
		name, token, query string
		status             int
		code               string
	}{
		{"no token", "", "", 401, "EUNAUTHORIZED"},
		{"an agent", agentTok, "", 403, "EFORBIDDEN"},
		{"another organisation's supervisor", sam, "", 404, "ENOTFOUND"},
		{"limit 0", super, "?limit=0", 400, "EINVALID"},
		{"limit too high", super, "?limit=101", 400, "EINVALID"},
		{"a made-up cursor", super, "?before=yesterday", 400, "EINVALID"},
	} {
		if st, _, body := get(tt.token, tt.query); st != tt.status || !strings.Contains(body, tt.code) {
			t.Errorf("%s: GET recordings%s = %d %s; want %d %s", tt.name, tt.query, st, body, tt.status, tt.code)
		}
	}
	if st, page, body := get(sam, ""); st == 200 || len(page.Calls) != 0 {
		t.Errorf("another organisation's supervisor = %d %s; want nothing", st, body)
	}
	if st, page, body := func() (int, wire.RecordedCalls, string) {
		t.Helper()
		st, body, _ := httpDo(t, "GET", rg.s.URL()+"/api/v1/orgs/acme/recordings", sam, nil, nil)
		var out wire.RecordedCalls
		_ = json.Unmarshal([]byte(body), &out)
		return st, out, body
	}(); st != 200 || len(page.Calls) != 0 {
		t.Errorf("acme's own list = %d %s; want an empty list", st, body)
	}

	// The list's page in the console, for supervisors and admins.
	if st, body, hdr := httpDo(t, "GET", rg.s.URL()+"/admin/demo/recordings", "", nil, nil); st != 200 || !strings.Contains(hdr.Get("Content-Type"), "text/html") || !strings.Contains(body, "<script") {
		t.Errorf("GET the recordings page = %d %s; want the console's page", st, hdr.Get("Content-Type"))
	}
}
