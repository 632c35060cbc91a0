package app_test

import (
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// pitchMeter keeps the loudest level of one pitch heard in each 20 ms frame, with its time.
type pitchMeter struct {
	hz     float64
	mu     sync.Mutex
	levels []float64
	at     []time.Time
}

func (pm *pitchMeter) add(pcm []int16) {
	l := media.ToneLevel(pcm, pm.hz)
	pm.mu.Lock()
	pm.levels, pm.at = append(pm.levels, l), append(pm.at, time.Now())
	pm.mu.Unlock()
}

// peak is the loudest level since t and the number of frames since t.
func (pm *pitchMeter) peak(since time.Time) (float64, int) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	var p float64
	n := 0
	for i, at := range pm.at {
		if at.After(since) {
			p, n = max(p, pm.levels[i]), n+1
		}
	}
	return p, n
}

// TestMonitorCall: the agent app on a call with a pion customer (660 Hz); a supervisor app
// (880 Hz microphone) listens, whispers and barges in through the hub. Listening, it hears both
// sides and nobody hears it; whispering, the agent hears it and the customer measures silence at
// 880 Hz; barging, the customer hears it and is told a supervisor joined. The supervisor signing
// out ends the leg and the call goes on.
func TestMonitorCall(t *testing.T) {
	if testing.Short() {
		t.Skip("real media call")
	}
	hubURL := startHub(t, hub.Config{})
	svc, rec, cust := callAgent(t, hubURL)
	if _, err := svc.Calls.Start(cust.conv, wire.CallVoice); err != nil {
		t.Fatal(err)
	}
	peer := &customerPeer{t: t, cust: cust}
	peer.answer(false)
	if err := peer.mc.SetMicrophone(media.TestPattern3ID); err != nil {
		t.Fatal(err)
	}
	supTone := &pitchMeter{hz: 880}
	agentTone := &pitchMeter{hz: 440}
	peer.mc.OnRemoteAudio(func(pcm []int16) { supTone.add(pcm); agentTone.add(pcm) })
	call := waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.State == "active" && v.Connection == "connected" }))
	sv, err := svc.Session.Current()
	if err != nil || sv.User == nil {
		t.Fatalf("Session.Current() = %+v, %v", sv, err)
	}
	agentID := sv.User.ID

	supRec := newRecorder()
	sup := app.New(app.Config{Emitter: supRec, Devices: app.DevicesTestPattern, Logger: testLogger(t)})
	t.Cleanup(func() { _ = sup.Close() })
	if _, err := sup.Session.SignIn(hubURL, "demo", "super1", "demo"); err != nil {
		t.Fatal(err)
	}
	if err := sup.Calls.SelectDevice(media.KindMicrophone, media.TestPattern2ID); err != nil {
		t.Fatal(err)
	}
	// An agent may not monitor.
	if _, err := svc.Supervisor.Monitor(agentID, wire.MonitorListen); wire.ErrorCode(err) != wire.EFORBIDDEN {
		t.Errorf("an agent's Monitor = %v; want EFORBIDDEN", err)
	}

	v, err := sup.Supervisor.Monitor(agentID, wire.MonitorListen)
	if err != nil {
		t.Fatalf("Monitor(listen) = %v", err)
	}
	if v.ID == "" || v.Call != call.ID {
		t.Errorf("Monitor(listen) = %+v; want the leg on call %s", v, call.ID)
	}
	waitFor(t, supRec, app.EventMonitor, func(v app.MonitorView) bool {
		return v.Connection == media.ConnectionConnected && v.CustomerLevel > 0.05 && v.AgentLevel > 0.05
	})
	since := time.Now()
	time.Sleep(time.Second)
	if p, n := supTone.peak(since); p > 0.015 || n < 10 {
		t.Errorf("listening: the customer heard 880 Hz at %.3f over %d frames; want silence", p, n)
	}
	if cv, _ := svc.Calls.Current(); cv == nil || cv.Coach != "" || cv.Supervisor != "" {
		t.Errorf("listening: the agent's call view = %+v; want nobody told", cv)
	}

	// Whisper: the agent hears the supervisor; the customer does not.
	if _, err := sup.Supervisor.Monitor(agentID, wire.MonitorWhisper); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.Coach == "Supervisor One" && v.Supervisor == "" }))
	waitFor(t, rec, app.EventCallQuality, func(q app.QualityView) bool { return q.CoachLevel > 0.05 })
	since = time.Now()
	time.Sleep(1500 * time.Millisecond)
	if p, n := supTone.peak(since); p > 0.015 || n < 10 {
		t.Errorf("whispering: the customer heard 880 Hz at %.3f over %d frames; want silence", p, n)
	}
	if p, _ := agentTone.peak(since); p < 0.08 {
		t.Errorf("whispering: the customer hears the agent at %.3f; want the 440 Hz tone", p)
	}

	// Barge: the customer hears the supervisor and is told.
	if _, err := sup.Supervisor.Monitor(agentID, wire.MonitorBarge); err != nil {
		t.Fatal(err)
	}
	waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.Supervisor == "Supervisor One" })
	waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.Supervisor == "Supervisor One" }))
	eventually(t, "the customer hears the supervisor", func() bool {
		p, _ := supTone.peak(time.Now().Add(-500 * time.Millisecond))
		return p > 0.08
	})

	// The supervisor goes: the leg ends, the customer is told, and the call goes on.
	_ = sup.Close()
	waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.State == wire.CallActive && c.Supervisor == "" })
	waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.Coach == "" && v.Supervisor == "" && v.State == "active" }))
	since = time.Now()
	time.Sleep(1500 * time.Millisecond)
	if p, _ := agentTone.peak(since); p < 0.08 {
		t.Errorf("after the supervisor left: the customer hears the agent at %.3f; want the call going on", p)
	}
	if p, _ := supTone.peak(since.Add(300 * time.Millisecond)); p > 0.015 {
		t.Errorf("after the supervisor left: 880 Hz at %.3f; want silence", p)
	}
	if cv, _ := svc.Calls.Current(); cv == nil || cv.State != "active" || cv.Connection != "connected" {
		t.Errorf("the call after the supervisor left = %+v", cv)
	}
}
