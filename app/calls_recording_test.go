package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// recordingHub starts a hub whose demo organisation records calls in mode, and returns its URL
// and a supervisor's token.
func recordingHub(t *testing.T, mode wire.RecordingMode) (string, string) {
	t.Helper()
	hubURL := startHub(t, hub.Config{RecordingsDir: t.TempDir()})
	token := func(user string) string {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		l, err := client.Login(ctx, hubURL, hub.DemoOrg, user, hub.DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		return l.Token
	}
	body, _ := json.Marshal(wire.RecordingSettings{Mode: mode})
	if st, b := hubDo(t, "PUT", hubURL+"/api/v1/orgs/demo/settings/recording", token("admin1"), strings.NewReader(string(body))); st != 200 {
		t.Fatalf("PUT recording = %d %s", st, b)
	}
	return hubURL, token("super1")
}

func hubDo(t *testing.T, method, u, token string, body io.Reader) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, body)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestRecordedCall: the customer agrees, the agent records a real video call from the call
// control, both sides see it recording; when the call ends the agent's app uploads both sides'
// audio and video, which a supervisor lists and plays back from the conversation, and the app's
// spool is gone.
func TestRecordedCall(t *testing.T) {
	if testing.Short() {
		t.Skip("real media call")
	}
	hubURL, super := recordingHub(t, wire.RecordingAsk)
	stateDir := t.TempDir()
	svc, rec, cust := callAgentAt(t, hubURL, stateDir, "Can you call me?")
	if _, err := svc.Calls.Start(cust.conv, wire.CallVideo); err != nil {
		t.Fatal(err)
	}
	ringing := waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.State == wire.CallRinging })
	if ringing.Record != wire.RecordingAsk {
		t.Fatalf("customer's ringing call = %+v; want them asked (record ask)", ringing)
	}
	peer := &customerPeer{t: t, cust: cust, record: true}
	peer.answer(true)
	v := waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool {
		return v.State == "active" && v.RemoteFrames && v.Consent
	}))
	if v.Recording || v.Record != wire.RecordingAsk {
		t.Errorf("view before recording = %+v; want asked, consent, not recording", v)
	}
	if err := svc.Calls.SetRecording(true); err != nil {
		t.Fatalf("SetRecording(true) with consent = %v", err)
	}
	waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.Recording }))
	waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.Recording })
	time.Sleep(3 * time.Second) // three seconds of call recorded
	if err := svc.Calls.End(); err != nil {
		t.Fatal(err)
	}

	list := hubURL + "/api/v1/orgs/demo/conversations/" + string(cust.conv) + "/recordings"
	var recs []wire.Recording
	eventually(t, "both sides uploaded", func() bool {
		_, body := hubDo(t, "GET", list, super, nil)
		recs = nil
		_ = json.Unmarshal([]byte(body), &recs)
		return len(recs) == 2
	})
	got := map[wire.RecordingTrack]wire.Recording{}
	for _, r := range recs {
		got[r.Track] = r
	}
	for track, magic := range map[wire.RecordingTrack]string{wire.TrackAgent: "\x1a\x45\xdf\xa3", wire.TrackCustomer: "\x1a\x45\xdf\xa3"} {
		r, ok := got[track]
		if !ok || r.Agent == "" || r.Bytes < 2000 {
			t.Errorf("%s: %+v; want an uploaded file of some size", track, r)
			continue
		}
		st, body := hubDo(t, "GET", hubURL+r.URL, super, nil)
		if st != 200 || !strings.HasPrefix(body, magic) || int64(len(body)) != r.Bytes {
			t.Errorf("playing %s = %d, %d bytes starting %q; want the %s file", track, st, len(body), body[:min(4, len(body))], magic)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(stateDir, "recordings", "*")); len(left) != 0 {
		t.Errorf("spool after the upload = %v; want it emptied", left)
	}

	// A supervisor's team view finds them and opens the hub's playback page; the agent may not.
	if _, err := svc.Supervisor.Recordings(cust.conv); wire.ErrorCode(err) != wire.EFORBIDDEN {
		t.Errorf("an agent listing recordings: %v; want EFORBIDDEN", err)
	}
	opened := make(chan string, 1)
	sup := app.New(app.Config{Logger: testLogger(t), OpenURL: func(u string) error { opened <- u; return nil }})
	t.Cleanup(func() { _ = sup.Close() })
	if _, err := sup.Session.SignIn(hubURL, "demo", "super1", "demo"); err != nil {
		t.Fatal(err)
	}
	if got, err := sup.Supervisor.Recordings(cust.conv); err != nil || len(got) != 2 {
		t.Errorf("supervisor's Recordings = %v, %v; want both sides", got, err)
	}
	if err := sup.Supervisor.OpenRecordings(cust.conv); err != nil {
		t.Fatal(err)
	}
	if u, want := <-opened, hubURL+"/admin/demo/recordings/"+string(cust.conv); u != want {
		t.Errorf("opened %q; want the playback page %q", u, want)
	}
	if err := sup.Supervisor.OpenRecordedCalls(); err != nil {
		t.Fatal(err)
	}
	if u, want := <-opened, hubURL+"/admin/demo/recordings/"; u != want {
		t.Errorf("opened %q; want the list of recorded calls %q", u, want)
	}
}

// TestCustomerDeclinesRecording: without the customer's yes the agent's start is refused with
// ENOCONSENT, nothing records and nothing is uploaded.
func TestCustomerDeclinesRecording(t *testing.T) {
	if testing.Short() {
		t.Skip("real media call")
	}
	hubURL, super := recordingHub(t, wire.RecordingAsk)
	stateDir := t.TempDir()
	svc, rec, cust := callAgentAt(t, hubURL, stateDir, "Call me, but no recording")
	if _, err := svc.Calls.Start(cust.conv, wire.CallVoice); err != nil {
		t.Fatal(err)
	}
	peer := &customerPeer{t: t, cust: cust}
	peer.answer(false)
	waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.State == "active" && v.Connection == "connected" }))
	if err := svc.Calls.SetRecording(true); wire.ErrorCode(err) != wire.ENOCONSENT {
		t.Fatalf("SetRecording(true) without consent = %v; want ENOCONSENT", err)
	}
	time.Sleep(time.Second)
	if err := svc.Calls.End(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rec, app.EventCall, func(v *app.CallView) bool { return v == nil })
	if _, body := hubDo(t, "GET", hubURL+"/api/v1/orgs/demo/conversations/"+string(cust.conv)+"/recordings", super, nil); body != "[]\n" {
		t.Errorf("recordings = %s; want none", body)
	}
	if _, err := os.Stat(filepath.Join(stateDir, "recordings")); err == nil {
		t.Errorf("a spool directory exists; nothing may be recorded")
	}
}
