package media

import "time"

// LevelMeter turns microphone audio into what a level meter shows: the loudest frame's energy
// over each tenth of a second. "Test my setup" and a call's device menu both read it.
type LevelMeter struct {
	peak float64
	last time.Time
	now  func() time.Time // time.Now; tests swap it
}

// MeterEvery is how often a LevelMeter gives a level.
const MeterEvery = 100 * time.Millisecond

// Add takes one frame of audio and, once a tenth of a second has gone by since the last level,
// returns the loudest frame's energy (0..1 of full scale) since then and true.
func (m *LevelMeter) Add(pcm []int16) (peak float64, ok bool) {
	now := time.Now
	if m.now != nil {
		now = m.now
	}
	t := now()
	if m.last.IsZero() {
		m.last = t
	}
	m.peak = max(m.peak, Energy(pcm))
	if t.Sub(m.last) < MeterEvery {
		return 0, false
	}
	peak, m.peak, m.last = m.peak, 0, t
	return peak, true
}

// MeterLevel scales a LevelMeter's peak to the meter's 0..1: the test tone (-12 dBFS) shows
// near full, speech in the upper half.
func MeterLevel(peak float64) float64 {
	return min(1, peak*4)
}
