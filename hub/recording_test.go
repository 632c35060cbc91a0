package hub_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

func setRecording(t *testing.T, s *hub.Server, body string) {
	t.Helper()
	if st, b, _ := httpDo(t, "PUT", s.URL()+"/api/v1/orgs/demo/settings/recording", demoToken(t, s, "admin1"), strings.NewReader(body), nil); st != 200 {
		t.Fatalf("PUT recording %s = %d %s", body, st, b)
	}
}

func TestRecordingSettingsAPI(t *testing.T) {
	t.Parallel()
	s := startHub(t)
	agent, super, admin := demoToken(t, s, "agent1"), demoToken(t, s, "super1"), demoToken(t, s, "admin1")
	url := s.URL() + "/api/v1/orgs/demo/settings/recording"
	tests := []struct {
		method, token, body string
		status              int
		contains            string
	}{
		{"GET", "", "", 401, "EUNAUTHORIZED"},
		{"GET", agent, "", 200, `{"mode":"off","retention_days":0}`},
		{"PUT", super, `{"mode":"always"}`, 403, "EFORBIDDEN"},
		{"PUT", admin, `{"mode":"sometimes"}`, 400, "EINVALID"},
		{"PUT", admin, `{"mode":"ask","retention_days":-1}`, 400, "EINVALID"},
		{"PUT", admin, `{"mode":"ask","retention_days":90}`, 200, `"mode":"ask"`},
		{"GET", super, "", 200, `{"mode":"ask","retention_days":90}`},
	}
	for _, tt := range tests {
		st, body, _ := httpDo(t, tt.method, url, tt.token, strings.NewReader(tt.body), nil)
		if st != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("%s %s = %d %s; want %d containing %s", tt.method, tt.body, st, body, tt.status, tt.contains)
		}
	}
	st, body, _ := httpDo(t, "GET", s.URL()+"/api/v1/orgs/demo/audit", admin, nil, nil)
	if st != 200 || !strings.Contains(body, hub.AuditRecordingUpdate) {
		t.Errorf("audit = %d %s; want the setting's change", st, body)
	}
}

// TestRecordingNeedsConsent: in an organisation that asks, a customer who answers without
// agreeing has a call the agent cannot record and whose upload the hub refuses; with their
// consent the agent starts and stops it, both sides see it, the transcript says who.
func TestRecordingNeedsConsent(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	setRecording(t, rg.s, `{"mode":"ask"}`)

	// Without consent.
	id := rg.invite(t, wire.CallVideo)
	if got := rg.ringing[rg.cust].Record; got != wire.RecordingAsk {
		t.Errorf("customer's ringing state Record = %q; want ask (the portal asks before answering)", got)
	}
	if st := rg.answer(t, id, true); st.Consent || st.Recording {
		t.Errorf("answered without consent: %+v; want no consent, not recording", st)
	}
	_, err := rg.agent.conn.Request(ctx(t), wire.TypeCallRecord, wire.CallRecord{Call: id, On: true})
	wantCode(t, "recording without consent", err, wire.ENOCONSENT)
	agentTok := demoToken(t, rg.s, "agent1")
	up := rg.s.URL() + "/api/v1/orgs/demo/conversations/" + string(rg.conv.ID) + "/calls/" + string(id) + "/recordings/"
	file := []byte("OggS not really, but bytes")
	st, body, _ := httpDo(t, "PUT", up+"customer-audio.ogg", agentTok, bytes.NewReader(file), map[string]string{wire.HeaderSHA256: sum(file)})
	if st != 403 || !strings.Contains(body, "ENOCONSENT") {
		t.Errorf("upload of a call recorded without consent = %d %s; want 403 ENOCONSENT", st, body)
	}
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
		t.Fatal(err)
	}
	rg.cust.callState(id, wire.CallEnded)

	// With consent.
	firstCall := id
	id = rg.invite(t, wire.CallVideo)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Video: true, Record: true}); err != nil {
		t.Fatal(err)
	}
	if st := rg.cust.callState(id, wire.CallActive); !st.Consent || st.Recording {
		t.Errorf("answered with consent: %+v; want consent, not yet recording", st)
	}
	_, err = rg.cust.conn.Request(ctx(t), wire.TypeCallRecord, wire.CallRecord{Call: id, On: true})
	wantCode(t, "the customer starting a recording", err, wire.EFORBIDDEN)
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallRecord, wire.CallRecord{Call: id, On: true}); err != nil {
		t.Fatalf("recording with consent: %v", err)
	}
	for _, p := range []*peer{rg.agent, rg.cust} {
		p.until(wire.TypeCallState, func(env wire.Envelope) bool { return strings.Contains(string(env.Data), `"recording":true`) })
		if m := p.systemLine(wire.EventRecordingStarted); m.Event.Name != "Agent One" {
			t.Errorf("%s: recording line = %+v; want who started it", p.name, m)
		}
	}
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallRecord, wire.CallRecord{Call: id, On: false}); err != nil {
		t.Fatal(err)
	}
	rg.cust.systemLine(wire.EventRecordingStopped)

	// Uploads: only the call's agent, only with the right checksum; a cut upload resumes.
	agent2 := demoToken(t, rg.s, "agent2")
	st, body, _ = httpDo(t, "PUT", up+"customer-audio.ogg", agent2, bytes.NewReader(file), map[string]string{wire.HeaderSHA256: sum(file)})
	if st != 403 || !strings.Contains(body, "EFORBIDDEN") {
		t.Errorf("upload by another agent = %d %s; want 403 EFORBIDDEN", st, body)
	}
	up = rg.s.URL() + "/api/v1/orgs/demo/conversations/" + string(rg.conv.ID) + "/calls/" + string(id) + "/recordings/"
	st, body, _ = httpDo(t, "PUT", up+"customer-audio.ogg", agentTok, bytes.NewReader([]byte("tampered")), map[string]string{wire.HeaderSHA256: sum(file)})
	if st != 400 || !strings.Contains(body, "checksum") {
		t.Errorf("tampered upload = %d %s; want 400 EINVALID (checksum)", st, body)
	}
	st, body, _ = httpDo(t, "PUT", up+"../../x", agentTok, bytes.NewReader(file), map[string]string{wire.HeaderSHA256: sum(file)})
	if st < 400 {
		t.Errorf("upload to a path outside = %d %s; want refused", st, body)
	}
	big := make([]byte, 3<<20)
	_, _ = rand.Read(big)
	// The client cannot know when the hub has read what it sent: HEAD until the hub holds some.
	// The cut request holds the file until it has written all it received, so the first non-zero
	// answer is final; a reset can also lose all of it on the way, so cut again then.
	var off int
	for try := 0; try < 5 && off == 0; try++ {
		cutUpload(t, up+"customer-video.ivf", agentTok, big, 1<<20)
		for end := time.Now().Add(2 * time.Second); off == 0 && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			_, _, hdr := httpDo(t, "HEAD", up+"customer-video.ivf", agentTok, nil, nil)
			off, _ = strconv.Atoi(hdr.Get("X-Parley-Offset"))
		}
	}
	if off <= 0 || off > len(big) {
		t.Fatalf("HEAD after a cut upload: offset %d; want what arrived", off)
	}
	st, body, _ = httpDo(t, "PUT", up+"customer-video.ivf", agentTok, bytes.NewReader(big[off:]),
		map[string]string{wire.HeaderSHA256: sum(big), "X-Parley-Offset": strconv.Itoa(off)})
	if st != 200 {
		t.Fatalf("resumed upload from %d = %d %s", off, st, body)
	}
	st, _, _ = httpDo(t, "PUT", up+"customer-video.ivf", agentTok, bytes.NewReader(big), map[string]string{wire.HeaderSHA256: sum(big)})
	if st != 200 {
		t.Errorf("a retried completed upload = %d; want 200 (already there)", st)
	}

	// Playback: supervisors and admins; each play is audited.
	list := rg.s.URL() + "/api/v1/orgs/demo/conversations/" + string(rg.conv.ID) + "/recordings"
	if st, _, _ := httpDo(t, "GET", list, agentTok, nil, nil); st != 403 {
		t.Errorf("an agent listing recordings = %d; want 403", st)
	}
	super := demoToken(t, rg.s, "super1")
	st, body, _ = httpDo(t, "GET", list, super, nil, nil)
	if st != 200 || !strings.Contains(body, `"track":"customer-video.ivf"`) || !strings.Contains(body, sum(big)) || strings.Contains(body, "customer-audio") {
		t.Fatalf("supervisor's list = %d %s; want the one uploaded track with its checksum", st, body)
	}
	st, body, hdr := httpDo(t, "GET", up+"customer-video.ivf", super, nil, nil)
	if st != 200 || body != string(big) || hdr.Get("Content-Type") != "video/x-ivf" {
		t.Fatalf("play = %d (%d bytes, %s); want the file", st, len(body), hdr.Get("Content-Type"))
	}
	if st, _, _ := httpDo(t, "GET", up+"customer-video.ivf", agentTok, nil, nil); st != 403 {
		t.Errorf("an agent playing = %d; want 403", st)
	}
	admin := demoToken(t, rg.s, "admin1")
	st, body, _ = httpDo(t, "GET", rg.s.URL()+"/api/v1/orgs/demo/audit", admin, nil, nil)
	if st != 200 || !strings.Contains(body, hub.AuditRecordingPlay) || !strings.Contains(body, hub.AuditRecordingUploaded) {
		t.Errorf("audit = %d %s; want the upload and the playback", st, body)
	}
	// The playback page: the transcript beside the files, for supervisors and admins; the
	// calls report links the recorded call to the page.
	tr := rg.s.URL() + "/api/v1/orgs/demo/conversations/" + string(rg.conv.ID) + "/transcript"
	if st, body, _ := httpDo(t, "GET", tr, super, nil, nil); st != 200 || !strings.Contains(body, `"recording_started"`) || !strings.Contains(body, `"conversation":{"id":"`+string(rg.conv.ID)) {
		t.Errorf("supervisor's transcript = %d %.300s; want the conversation with its recording lines", st, body)
	}
	if st, _, _ := httpDo(t, "GET", tr, agentTok, nil, nil); st != 403 {
		t.Errorf("an agent reading the transcript API = %d; want 403", st)
	}
	if st, _, _ := httpDo(t, "GET", rg.s.URL()+"/api/v1/orgs/demo/conversations/nope/transcript", super, nil, nil); st != 404 {
		t.Errorf("transcript of no conversation = %d; want 404", st)
	}
	// A supervisor of another organisation finds nothing of this one's.
	sam := acmeSupervisor(t, rg.s)
	for _, u := range []string{tr, list, up + "customer-video.ivf"} {
		if st, body, _ := httpDo(t, "GET", u, sam, nil, nil); st != 404 {
			t.Errorf("another organisation's supervisor GET %s = %d %s; want 404", u, st, body)
		}
	}
	page := rg.s.URL() + "/admin/demo/recordings/" + string(rg.conv.ID)
	if st, body, hdr := httpDo(t, "GET", page, "", nil, nil); st != 200 || !strings.Contains(hdr.Get("Content-Type"), "text/html") || !strings.Contains(body, "<script") {
		t.Errorf("GET the playback page = %d %s; want the console's page", st, hdr.Get("Content-Type"))
	}
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
		t.Fatal(err)
	}
	rg.cust.callState(id, wire.CallEnded)
	recordingColumn := func() map[wire.CallID]string {
		st, body, _ := httpDo(t, "GET", rg.s.URL()+"/api/v1/orgs/demo/reports/calls.csv", super, nil, nil)
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if st != 200 || err != nil || len(rows) < 2 || rows[0][len(rows[0])-1] != "recording" {
			t.Fatalf("calls.csv = %d %v %q; want rows ending with a recording column", st, err, body)
		}
		out := map[wire.CallID]string{}
		for _, row := range rows[1:] {
			out[wire.CallID(row[0])] = row[len(row)-1]
		}
		return out
	}
	if got := recordingColumn(); got[id] != page || len(got) != 2 || got[firstCall] != "" {
		t.Errorf("calls.csv recording column = %v; want the page for the recorded call only (%s)", got, page)
	}

	// An admin deletes it.
	if st, body, _ := httpDo(t, "DELETE", strings.TrimSuffix(up, "/"), admin, nil, nil); st != 200 {
		t.Errorf("delete = %d %s", st, body)
	}
	if got := recordingColumn(); got[id] != "" {
		t.Errorf("calls.csv recording column after the deletion = %q; want empty", got[id])
	}
	if _, body, _ := httpDo(t, "GET", list, super, nil, nil); body != "[]\n" {
		t.Errorf("list after delete = %s; want none", body)
	}
}

// TestRecordingAlways: the customer is told every call is recorded; answering without agreeing
// is refused, agreeing starts the recording at once with its transcript line.
func TestRecordingAlways(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	setRecording(t, rg.s, `{"mode":"always"}`)
	id := rg.invite(t, wire.CallVoice)
	if got := rg.ringing[rg.cust].Record; got != wire.RecordingAlways {
		t.Errorf("ringing Record = %q; want always", got)
	}
	_, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id})
	wantCode(t, "answering an always-recorded call without consent", err, wire.ENOCONSENT)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Record: true}); err != nil {
		t.Fatal(err)
	}
	if st := rg.agent.callState(id, wire.CallActive); !st.Recording || !st.Consent {
		t.Errorf("agent's active state = %+v; want recording with consent", st)
	}
	if m := rg.cust.systemLine(wire.EventRecordingStarted); m.Event.Name != "" {
		t.Errorf("recording line = %+v; want no name (the organisation records all)", m)
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// cutUpload sends the first n bytes of file and then breaks the request off.
func cutUpload(t *testing.T, url, token string, file []byte, n int) {
	t.Helper()
	body := io.MultiReader(bytes.NewReader(file[:n]), errReader{})
	req, _ := http.NewRequestWithContext(ctx(t), "PUT", url, body)
	req.ContentLength = int64(len(file))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set(wire.HeaderSHA256, sum(file))
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("link dropped") }

// TestRecordingFollowsTheQueue: a queue's recording mode overrides the organisation's, and the
// hub's consent rules follow it — a queue that always records does so in an organisation that
// records nothing; a queue that records nothing refuses call.record in one that always records.
func TestRecordingFollowsTheQueue(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	setQueue := func(mode wire.RecordingMode) {
		t.Helper()
		if _, err := rg.s.SaveQueue(ctx(t), hub.CommandLine, hub.DemoOrg, wire.Queue{ID: hub.DefaultQueue, Name: "General", Default: true, Recording: mode}); err != nil {
			t.Fatalf("SaveQueue(recording %q): %v", mode, err)
		}
	}
	_, err := rg.s.SaveQueue(ctx(t), hub.CommandLine, hub.DemoOrg, wire.Queue{ID: hub.DefaultQueue, Name: "General", Default: true, Recording: "sometimes"})
	wantCode(t, "a queue recording sometimes", err, wire.EINVALID)

	// The organisation records nothing; its queue records every call.
	setQueue(wire.RecordingAlways)
	id := rg.invite(t, wire.CallVoice)
	if got := rg.ringing[rg.cust].Record; got != wire.RecordingAlways {
		t.Errorf("ringing Record in a queue that always records = %q; want always (the customer is told)", got)
	}
	_, err = rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id})
	wantCode(t, "answering without consent in a queue that always records", err, wire.ENOCONSENT)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Record: true}); err != nil {
		t.Fatal(err)
	}
	if st := rg.agent.callState(id, wire.CallActive); !st.Recording || !st.Consent {
		t.Errorf("agent's state in a queue that always records = %+v; want recording with consent", st)
	}
	rg.cust.systemLine(wire.EventRecordingStarted)
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
		t.Fatal(err)
	}
	rg.cust.callState(id, wire.CallEnded)

	// The organisation always records; its queue never does.
	setRecording(t, rg.s, `{"mode":"always"}`)
	setQueue(wire.RecordingOff)
	id = rg.invite(t, wire.CallVoice)
	if got := rg.ringing[rg.cust].Record; got != "" {
		t.Errorf("ringing Record in a queue that records nothing = %q; want none", got)
	}
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Record: true}); err != nil {
		t.Fatal(err)
	}
	if st := rg.agent.callState(id, wire.CallActive); st.Recording || st.Consent {
		t.Errorf("agent's state in a queue that records nothing = %+v; want neither consent nor recording", st)
	}
	_, err = rg.agent.conn.Request(ctx(t), wire.TypeCallRecord, wire.CallRecord{Call: id, On: true})
	wantCode(t, "call.record in a queue that records nothing", err, wire.ENOCONSENT)
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
		t.Fatal(err)
	}
	rg.cust.callState(id, wire.CallEnded)

	// "" goes back to the organisation's setting.
	setQueue("")
	id = rg.invite(t, wire.CallVoice)
	if got := rg.ringing[rg.cust].Record; got != wire.RecordingAlways {
		t.Errorf("ringing Record in a queue that keeps the organisation's = %q; want always", got)
	}
}

// TestRecordingPlaybackLinks: the playback page's signed file links — a <video> streams and
// seeks with range requests (206, the right bytes, If-Range), a link works only for its file
// and until it expires, and a playback is one audit line however many ranges it reads.
func TestRecordingPlaybackLinks(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	setRecording(t, rg.s, `{"mode":"always"}`)
	id := rg.invite(t, wire.CallVideo)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Video: true, Record: true}); err != nil {
		t.Fatal(err)
	}
	rg.agent.callState(id, wire.CallActive)
	base := rg.s.URL() + "/api/v1/orgs/demo/conversations/" + string(rg.conv.ID) + "/calls/" + string(id)
	agentTok, super, admin := demoToken(t, rg.s, "agent1"), demoToken(t, rg.s, "super1"), demoToken(t, rg.s, "admin1")
	files := map[string][]byte{"customer.webm": make([]byte, 300_000), "agent.webm": make([]byte, 200_000)}
	for track, b := range files {
		_, _ = rand.Read(b)
		if st, body, _ := httpDo(t, "PUT", base+"/recordings/"+track, agentTok, bytes.NewReader(b), map[string]string{wire.HeaderSHA256: sum(b)}); st != 200 {
			t.Fatalf("upload %s = %d %s", track, st, body)
		}
	}
	plays := func() int {
		t.Helper()
		_, body, _ := httpDo(t, "GET", rg.s.URL()+"/api/v1/orgs/demo/audit?limit=200", admin, nil, nil)
		return strings.Count(body, `"action":"`+hub.AuditRecordingPlay+`"`)
	}
	start := func(token, renew string) (int, wire.Playback) {
		t.Helper()
		var body io.Reader
		if renew != "" {
			body = strings.NewReader(`{"renew":"` + renew + `"}`)
		}
		st, raw, _ := httpDo(t, "POST", base+"/playback", token, body, nil)
		var p wire.Playback
		_ = json.Unmarshal([]byte(raw), &p)
		return st, p
	}
	if st, _ := start(agentTok, ""); st != 403 {
		t.Errorf("an agent starting a playback = %d; want 403", st)
	}
	st, p := start(super, "")
	if st != 200 || len(p.Files) != 2 || p.Token == "" || p.ExpiresAt <= time.Now().UnixMilli() {
		t.Fatalf("playback = %d %+v; want two signed files", st, p)
	}
	link := map[wire.RecordingTrack]string{}
	for _, f := range p.Files {
		link[f.Track] = rg.s.URL() + f.URL
	}
	cust := files["customer.webm"]

	// No token: the link alone; a range is 206 with exactly those bytes.
	st, body, hdr := httpDo(t, "GET", link["customer.webm"], "", nil, map[string]string{"Range": "bytes=100000-100999"})
	if st != 206 || body != string(cust[100000:101000]) || hdr.Get("Content-Range") != "bytes 100000-100999/300000" {
		t.Errorf("range 100000-100999 = %d, %d bytes, Content-Range %q; want 206 with those 1000 bytes", st, len(body), hdr.Get("Content-Range"))
	}
	st, body, hdr = httpDo(t, "GET", link["customer.webm"], "", nil, map[string]string{"Range": "bytes=299990-"})
	if st != 206 || body != string(cust[299990:]) {
		t.Errorf("range 299990- = %d, %d bytes; want 206 with the last 10", st, len(body))
	}
	lastMod := hdr.Get("Last-Modified")
	if st, body, _ := httpDo(t, "GET", link["customer.webm"], "", nil, map[string]string{"Range": "bytes=0-9", "If-Range": lastMod}); st != 206 || body != string(cust[:10]) {
		t.Errorf("If-Range with the file's date = %d (%d bytes); want 206", st, len(body))
	}
	if st, body, _ := httpDo(t, "GET", link["customer.webm"], "", nil, map[string]string{"Range": "bytes=0-9", "If-Range": "Mon, 02 Jan 2006 15:04:05 GMT"}); st != 200 || body != string(cust) {
		t.Errorf("If-Range with another date = %d (%d bytes); want 200 with the whole file", st, len(body))
	}
	if st, body, _ := httpDo(t, "GET", link["agent.webm"], "", nil, nil); st != 200 || body != string(files["agent.webm"]) {
		t.Errorf("the agent side's link = %d (%d bytes); want the file", st, len(body))
	}
	if n := plays(); n != 1 {
		t.Errorf("audit after one playback and five requests: %d recording.play lines; want 1", n)
	}

	// Another file's signature, another user, an altered expiry: refused.
	_, q, _ := strings.Cut(link["customer.webm"], "?")
	for name, u := range map[string]string{
		"the customer side's signature on the agent side": base + "/recordings/agent.webm?" + q,
		"another user":   strings.Replace(link["customer.webm"], "by=", "by=u_x", 1),
		"a later expiry": strings.Replace(link["customer.webm"], "exp=", "exp=9", 1),
		"no signature":   strings.Split(link["customer.webm"], "&sig=")[0] + "&sig=",
	} {
		if st, body, _ := httpDo(t, "GET", u, "", nil, map[string]string{"Range": "bytes=0-9"}); st != 403 || !strings.Contains(body, "EFORBIDDEN") {
			t.Errorf("%s = %d %s; want 403 EFORBIDDEN", name, st, body)
		}
	}
	// Without a link or a token: 401.
	if st, _, _ := httpDo(t, "GET", base+"/recordings/customer.webm", "", nil, nil); st != 401 {
		t.Errorf("no link, no token = %d; want 401", st)
	}

	// Expired: refused; the playback renews its links without a second audit line.
	rg.clk.advance(hub.PlaybackLinkTTL + time.Second)
	if st, _, _ := httpDo(t, "GET", link["customer.webm"], "", nil, map[string]string{"Range": "bytes=0-9"}); st != 403 {
		t.Errorf("an expired link = %d; want 403", st)
	}
	st, p2 := start(super, p.Token)
	if st != 200 || len(p2.Files) != 2 || p2.Token != p.Token {
		t.Fatalf("renewal = %d %+v", st, p2)
	}
	if st, body, _ := httpDo(t, "GET", rg.s.URL()+p2.Files[0].URL, "", nil, map[string]string{"Range": "bytes=0-9"}); st != 206 || len(body) != 10 {
		t.Errorf("a renewed link = %d (%d bytes); want 206", st, len(body))
	}
	if n := plays(); n != 1 {
		t.Errorf("audit after a renewal: %d recording.play lines; want still 1", n)
	}
	// Another user cannot renew with it (a new playback, audited); a second opening is a second line.
	if st, p3 := start(admin, p.Token); st != 200 || p3.Token == p.Token {
		t.Errorf("another user renewing a playback = %d %+v; want a playback of their own", st, p3)
	}
	start(super, "")
	if n := plays(); n != 3 {
		t.Errorf("audit after two more playbacks: %d recording.play lines; want 3", n)
	}
}
