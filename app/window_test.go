package app_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

// windowAgent is callAgent with a short window timeout, in a voice call the customer answered.
func windowAgent(t *testing.T, timeout time.Duration) (*app.Services, *recorder, *customer) {
	t.Helper()
	hubURL := startHub(t, hub.Config{})
	rec := newRecorder()
	svc := app.New(app.Config{Emitter: rec, Devices: app.DevicesTestPattern, Logger: testLogger(t), WindowTimeout: timeout})
	t.Cleanup(func() { _ = svc.Close() })
	if _, err := svc.Session.SignIn(hubURL, "demo", "agent1", "demo"); err != nil {
		t.Fatalf("SignIn = %v", err)
	}
	cust := newCustomer(t, hubURL, "Wendy")
	cust.send(t, "Call me please")
	offers := waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 })
	if _, err := svc.Offers.Accept(offers[0].ID); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if _, err := svc.Calls.Start(cust.conv, wire.CallVoice); err != nil {
		t.Fatalf("Start(voice) = %v", err)
	}
	(&customerPeer{t: t, cust: cust}).answer(false)
	waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.State == "active" }))
	return svc, rec, cust
}

func TestWindowRecoversWithTheCallGoingOn(t *testing.T) {
	if testing.Short() {
		t.Skip("real media call")
	}
	svc, rec, _ := windowAgent(t, time.Minute)
	if err := svc.Window.Ready(); err != nil { // a first load: nothing to say
		t.Fatal(err)
	}
	before, _ := svc.Calls.Current()
	if before == nil || before.RemoteVideoURL == "" {
		t.Fatalf("the call's view before = %+v; want its render bridge URLs", before)
	}
	if !svc.WindowGone("crashed") {
		t.Fatal("WindowGone after one crash = false; want a reload")
	}
	// The reloaded page's pictures come from the render bridge's new port: the dead page's
	// loads, which the web engine may keep, hold connections to the old one.
	after := waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.RemoteVideoURL != "" && v.RemoteVideoURL != before.RemoteVideoURL }))
	if port(t, after.RemoteVideoURL) == port(t, before.RemoteVideoURL) {
		t.Errorf("render bridge URL after the crash: %q; before %q", after.RemoteVideoURL, before.RemoteVideoURL)
	}
	if err := svc.Window.Ready(); err != nil {
		t.Fatal(err)
	}
	n := waitFor(t, rec, app.EventWindow, func(app.WindowNotice) bool { return true })
	if !n.Recovered || !n.Call {
		t.Errorf("window notice = %+v; want recovered with the call going on", n)
	}
	if v, err := svc.Calls.Current(); err != nil || v == nil || v.State != "active" {
		t.Errorf("Calls.Current() after the recovery = %+v, %v; want the active call", v, err)
	}
	if s, _ := svc.Session.Current(); !s.SignedIn {
		t.Error("signed out by a window that came back")
	}
}

func TestWindowNotBackEndsTheCallAndSignsOut(t *testing.T) {
	if testing.Short() {
		t.Skip("real media call")
	}
	svc, rec, cust := windowAgent(t, 300*time.Millisecond)
	if !svc.WindowGone("crashed") {
		t.Fatal("WindowGone after one crash = false; want a reload")
	}
	// Nobody calls Ready: the customer is told the call ended, and the agent is signed out.
	st := waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.State == wire.CallEnded })
	if st.EndedBy != wire.AuthorAgent {
		t.Errorf("call ended by %q; want the agent's side", st.EndedBy)
	}
	waitFor(t, rec, app.EventSession, func(s app.SessionView) bool { return !s.SignedIn })
	if v, err := svc.Calls.Current(); err == nil && v != nil {
		t.Errorf("a call is left after giving up on the window: %+v", v)
	}
}

func TestWindowCrashLoopStopsReloading(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	rec := newRecorder()
	svc := app.New(app.Config{Emitter: rec, WindowTimeout: time.Minute})
	t.Cleanup(func() { _ = svc.Close() })
	if _, err := svc.Session.SignIn(hubURL, "demo", "agent1", "demo"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		if !svc.WindowGone("crashed") {
			t.Fatalf("WindowGone #%d = false; want a reload", i)
		}
	}
	if svc.WindowGone("crashed") {
		t.Fatal("WindowGone #5 within two minutes = true; want no more reloads")
	}
	waitFor(t, rec, app.EventSession, func(s app.SessionView) bool { return !s.SignedIn })
}

// port is the port of URL u.
func port(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || p.Port() == "" {
		t.Fatalf("URL %q: %v", u, err)
	}
	return p.Port()
}
