package media

import (
	"encoding/binary"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startPulse starts a private PulseAudio with a null sink, as CI has no sound card; what is
// played into the sink can be recorded from its monitor.
func startPulse(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("pulseaudio"); err != nil {
		t.Fatalf("pulseaudio missing (make deps installs it): %v", err)
	}
	dir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv("PULSE_RUNTIME_PATH", dir+"/pulse")
	cmd := exec.Command("pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n",
		"--load=module-native-protocol-unix", "--load=module-null-sink sink_name=parley_null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pulseaudio: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("pulseaudio", "--kill").Run() })
	for i := 0; i < 50; i++ {
		if exec.Command("pactl", "info").Run() == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("pulseaudio did not come up")
}

func TestPlaybackToChosenSpeaker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts pulseaudio")
	}
	startPulse(t)
	devs, err := ListDevices()
	if err != nil {
		t.Fatal(err)
	}
	var speaker string
	for _, d := range devs {
		if d.Kind == KindSpeaker && strings.Contains(d.Label, "Null") {
			speaker = d.ID
		}
	}
	if speaker == "" {
		t.Fatalf("no null sink among %+v", devs)
	}

	// Record the sink's monitor while a call plays the other side's tone into it.
	rec := t.TempDir() + "/rec.raw"
	f, err := os.Create(rec)
	if err != nil {
		t.Fatal(err)
	}
	parec := exec.Command("parec", "-d", "parley_null.monitor", "--raw", "--format=s16le", "--rate=48000", "--channels=1", "--latency-msec=20")
	parec.Stdout = f
	var perr strings.Builder
	parec.Stderr = &perr
	if err := parec.Start(); err != nil {
		t.Fatal(err)
	}
	bOpts := testOptions(false)
	bOpts.Speaker = speaker
	p := newPair(t, testOptions(false), bOpts)
	if s := p.b.State(); s.SpeakerError != "" {
		t.Fatalf("SpeakerError = %q", s.SpeakerError)
	}
	eventually(t, 10*time.Second, "b receives the tone", func() bool { return p.b.Stats().AudioLevel > 0.05 })
	// The null sink's clock is not real time here: wait for a second of recorded audio.
	eventually(t, 15*time.Second, "audio recorded from the speaker", func() bool {
		st, err := os.Stat(rec)
		return err == nil && st.Size() >= 2*48000
	})
	_ = parec.Process.Signal(os.Interrupt) // parec flushes what it has on SIGINT
	_ = parec.Wait()
	_ = f.Close()
	raw, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(raw)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	if e := Energy(pcm[len(pcm)/2:]); e < 0.02 {
		t.Errorf("parec: %s", perr.String())
		t.Errorf("recorded %d samples with energy %.4f from the speaker; want the tone (about 0.17)", len(pcm), e)
	}

	t.Run("missing speaker is not fatal", func(t *testing.T) {
		o := testOptions(false)
		o.Speaker = "no-such-device"
		c, err := NewCall(o)
		if err != nil {
			t.Fatalf("NewCall with a missing speaker: %v; want the call anyway", err)
		}
		defer c.Close()
		if s := c.State(); !strings.Contains(s.SpeakerError, "no audio output") {
			t.Errorf("SpeakerError = %q; want it to say there is no audio output", s.SpeakerError)
		}
	})
}
