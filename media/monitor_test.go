package media

import (
	"sync"
	"testing"
	"time"
)

// The three voices of a supervised call, told apart by pitch.
const (
	customerHz   = 660
	agentHz      = 440
	supervisorHz = 880
)

// toneMeter keeps, for each pitch, the loudest level heard in each 20 ms frame, with its time.
type toneMeter struct {
	mu     sync.Mutex
	frames []toneFrame
}

type toneFrame struct {
	at     time.Time
	levels map[float64]float64
}

func (tm *toneMeter) add(pcm []int16) {
	f := toneFrame{at: time.Now(), levels: map[float64]float64{}}
	for _, hz := range []float64{customerHz, agentHz, supervisorHz} {
		f.levels[hz] = ToneLevel(pcm, hz)
	}
	tm.mu.Lock()
	tm.frames = append(tm.frames, f)
	tm.mu.Unlock()
}

// peak is the loudest level of hz heard since t, and how many frames came since t.
func (tm *toneMeter) peak(hz float64, since time.Time) (float64, int) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	var p float64
	n := 0
	for _, f := range tm.frames {
		if f.at.After(since) {
			p = max(p, f.levels[hz])
			n++
		}
	}
	return p, n
}

// Levels: the test tones arrive at about 0.24 of full scale; another voice's pitch, or silence,
// measures under 0.01.
const (
	heard  = 0.08
	silent = 0.015
)

// minFrames is how many 20 ms frames a measure needs: 10 of the 100 in 2 s, 3 under -race (which
// slows the three peers' audio to a few frames a second here).
func minFrames() int {
	if raceDetector {
		return 3
	}
	return 10
}

// listenFor waits d, then checks what meter heard in that time: each pitch of loud over heard,
// each of quiet under silent.
func listenFor(t *testing.T, who string, tm *toneMeter, d time.Duration, loud, quiet []float64) {
	t.Helper()
	since := time.Now()
	time.Sleep(d)
	for _, hz := range loud {
		if p, n := tm.peak(hz, since); p < heard || n < minFrames() {
			t.Errorf("%s: %v Hz peaked at %.3f over %d frames; want it heard (> %v)", who, hz, p, n, heard)
		}
	}
	for _, hz := range quiet {
		if p, n := tm.peak(hz, since); p > silent || n < minFrames() {
			t.Errorf("%s: %v Hz peaked at %.3f over %d frames; want silence there (< %v)", who, hz, p, n, silent)
		}
	}
}

func TestToneLevel(t *testing.T) {
	pcm := make([]int16, 960)
	tone := Tone{Hz: 440}
	tone.Next(pcm)
	if l := ToneLevel(pcm, 440); l < 0.2 || l > 0.3 {
		t.Errorf("ToneLevel(440 Hz tone, 440) = %.3f; want about 0.24", l)
	}
	for _, hz := range []float64{660, 880} {
		if l := ToneLevel(pcm, hz); l > 0.005 {
			t.Errorf("ToneLevel(440 Hz tone, %v) = %.4f; want about 0", hz, l)
		}
	}
}

// TestMonitor: a customer (660 Hz), an agent (440 Hz) and a supervisor (880 Hz), three real pion
// peers. Listening, the supervisor hears both and nobody hears the supervisor (who sends anyway);
// whispering, the agent hears the supervisor and the customer measures silence at 880 Hz;
// barging, the customer hears the supervisor too (and the supervisor does not hear themself back).
// The supervisor vanishing without a word, and the leg's end, leave the call as it was.
func TestMonitor(t *testing.T) {
	checkLeaks(t)
	cust := testOptions(false)
	p := newPair(t, cust, testOptions(false))
	customer, agent := p.a, p.b
	toneTo(t, customer, customerHz)

	var atCustomer, atAgent, atSupervisor, agentHearsSup toneMeter
	customer.OnRemoteAudio(atCustomer.add)
	agent.OnRemoteAudio(atAgent.add)
	eventually(t, 10*time.Second, "the call's audio", func() bool {
		c, _ := atCustomer.peak(agentHz, time.Now().Add(-time.Second))
		a, _ := atAgent.peak(customerHz, time.Now().Add(-time.Second))
		return c > heard && a > heard
	})
	plainStart, plainBytes := time.Now(), agent.BytesSent()
	time.Sleep(2 * time.Second)
	plainRate := float64(agent.BytesSent()-plainBytes) * 8 / time.Since(plainStart).Seconds()

	sup, err := NewCall(testOptions(false))
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	toneTo(t, sup, supervisorHz)
	sup.OnRemoteAudio(atSupervisor.add)
	m, err := agent.StartMonitor(MonitorOptions{Mode: MonitorListen, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := agent.StartMonitor(MonitorOptions{LoopbackOnly: true}); err != ErrMonitored {
		t.Errorf("second StartMonitor: %v; want ErrMonitored", err)
	}
	m.OnVoice(agentHearsSup.add)
	m.OnLocalCandidate(func(c Candidate) { _ = sup.AddRemoteCandidate(c) })
	sup.OnLocalCandidate(func(c Candidate) { _ = m.AddRemoteCandidate(c) })
	offer, err := m.CreateOffer()
	if err != nil {
		t.Fatal(err)
	}
	answer, err := sup.HandleOffer(offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.HandleAnswer(answer); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the supervisor hears the call", func() bool {
		c, _ := atSupervisor.peak(customerHz, time.Now().Add(-time.Second))
		a, _ := atSupervisor.peak(agentHz, time.Now().Add(-time.Second))
		return c > heard && a > heard
	})

	t.Run("listen", func(t *testing.T) {
		monStart, callBytes, monBytes := time.Now(), agent.BytesSent(), m.BytesSent()
		var wg sync.WaitGroup
		for _, c := range []struct {
			who         string
			tm          *toneMeter
			loud, quiet []float64
		}{
			{"supervisor", &atSupervisor, []float64{customerHz, agentHz}, nil},
			{"customer", &atCustomer, []float64{agentHz}, []float64{supervisorHz}},
			{"agent", &atAgent, []float64{customerHz}, []float64{supervisorHz}},
		} {
			wg.Add(1)
			go func() { defer wg.Done(); listenFor(t, c.who, c.tm, 2*time.Second, c.loud, c.quiet) }()
		}
		wg.Wait()
		if p, _ := agentHearsSup.peak(supervisorHz, monStart); p > 0 {
			t.Errorf("the agent heard the listening supervisor (%.3f)", p)
		}
		dt := time.Since(monStart).Seconds()
		callRate := float64(agent.BytesSent()-callBytes) * 8 / dt
		monRate := float64(m.BytesSent()-monBytes) * 8 / dt
		t.Logf("agent's upstream: plain call %.0f kbit/s; with one supervisor listening %.0f + %.0f kbit/s",
			plainRate/1000, callRate/1000, monRate/1000)
		if !raceDetector && (monRate < 30_000 || monRate > 200_000) {
			t.Errorf("the supervisor's leg sends %.0f bit/s; want two Opus streams' worth", monRate)
		}
	})

	t.Run("whisper", func(t *testing.T) {
		m.SetMode(MonitorWhisper)
		time.Sleep(300 * time.Millisecond)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			listenFor(t, "customer", &atCustomer, 2*time.Second, []float64{agentHz}, []float64{supervisorHz})
		}()
		go func() {
			defer wg.Done()
			listenFor(t, "agent (the supervisor's voice)", &agentHearsSup, 2*time.Second, []float64{supervisorHz}, []float64{customerHz})
		}()
		wg.Wait()
	})

	t.Run("barge", func(t *testing.T) {
		m.SetMode(MonitorBarge)
		time.Sleep(300 * time.Millisecond)
		var wg sync.WaitGroup
		wg.Add(3)
		go func() {
			defer wg.Done()
			listenFor(t, "customer", &atCustomer, 2*time.Second, []float64{agentHz, supervisorHz}, nil)
		}()
		go func() {
			defer wg.Done()
			listenFor(t, "agent (the supervisor's voice)", &agentHearsSup, 2*time.Second, []float64{supervisorHz}, nil)
		}()
		go func() {
			defer wg.Done()
			listenFor(t, "supervisor", &atSupervisor, 2*time.Second, []float64{customerHz, agentHz}, []float64{supervisorHz})
		}()
		wg.Wait()
	})

	t.Run("back to whisper", func(t *testing.T) {
		m.SetMode(MonitorWhisper)
		time.Sleep(300 * time.Millisecond)
		listenFor(t, "customer", &atCustomer, time.Second, []float64{agentHz}, []float64{supervisorHz})
	})

	t.Run("supervisor vanishes", func(t *testing.T) {
		// The supervisor's machine goes without a word: the call goes on, and so does it once
		// the agent's app closes the leg.
		_ = sup.Close()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			listenFor(t, "customer", &atCustomer, 2*time.Second, []float64{agentHz}, []float64{supervisorHz})
		}()
		go func() { defer wg.Done(); listenFor(t, "agent", &atAgent, 2*time.Second, []float64{customerHz}, nil) }()
		wg.Wait()
		if err := m.Close(); err != nil {
			t.Errorf("Monitor.Close: %v", err)
		}
		listenFor(t, "customer after the leg closed", &atCustomer, time.Second, []float64{agentHz}, []float64{supervisorHz})
		listenFor(t, "agent after the leg closed", &atAgent, time.Second, []float64{customerHz}, nil)
		if s := agent.State(); s.Connection != ConnectionConnected {
			t.Errorf("agent's call state = %v; want connected", s)
		}
	})
}

// toneTo makes c's microphone a test tone of hz.
func toneTo(t *testing.T, c *Call, hz float64) {
	t.Helper()
	src := newToneSource()
	src.t.Hz = hz
	c.mu.Lock()
	a := c.audio
	c.mu.Unlock()
	if err := a.swap(src); err != nil {
		t.Fatal(err)
	}
}
