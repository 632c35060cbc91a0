package media

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestPlayToneNoSpeaker: a speaker that is not there is ErrNoSpeaker at once, never a hang.
func TestPlayToneNoSpeaker(t *testing.T) {
	start := time.Now()
	err := PlayTone(context.Background(), "no-such-output-device", 440, time.Second)
	if !errors.Is(err, ErrNoSpeaker) {
		t.Fatalf("PlayTone on a missing device = %v; want ErrNoSpeaker", err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("PlayTone took %v to give up; want it at once", d)
	}
}
