package media

import (
	"testing"
	"time"
)

func TestLevelMeter(t *testing.T) {
	at := time.Unix(0, 0)
	m := &LevelMeter{now: func() time.Time { return at }}
	loud := make([]int16, 960)
	for i := range loud {
		loud[i] = 8000
	}
	quiet := make([]int16, 960)
	if _, ok := m.Add(quiet); ok {
		t.Fatal("Add gave a level before a tenth of a second")
	}
	at = at.Add(40 * time.Millisecond)
	if _, ok := m.Add(loud); ok {
		t.Fatal("Add gave a level after 40 ms")
	}
	at = at.Add(60 * time.Millisecond)
	peak, ok := m.Add(quiet)
	if !ok || peak < 0.24 || peak > 0.25 {
		t.Fatalf("Add after 100 ms = %v, %v; want the loud frame's 0.244, true", peak, ok)
	}
	at = at.Add(100 * time.Millisecond)
	if peak, ok := m.Add(quiet); !ok || peak != 0 {
		t.Fatalf("Add of silence = %v, %v; want 0, true (the peak starts again)", peak, ok)
	}
	if got := MeterLevel(0.244); got < 0.97 || got > 0.98 {
		t.Errorf("MeterLevel(0.244) = %v; want 0.976", got)
	}
	if got := MeterLevel(0.5); got != 1 {
		t.Errorf("MeterLevel(0.5) = %v; want 1", got)
	}
}
