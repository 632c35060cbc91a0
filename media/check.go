package media

import (
	"context"
	"time"

	"github.com/parleyhq/parley/media/codec/opus"
)

// The pre-call check's speaker test ("Test my setup" in the agent app): a short tone on the
// output device calls use, through the same player as a call's received audio.

// PlayTone plays a hz tone (440 Hz when 0) on the output device with the given id ("" for the
// default) for d, then returns. It returns ErrNoSpeaker when the device cannot be opened, and
// ctx's error when ctx ends first (the device is closed either way).
func PlayTone(ctx context.Context, id string, hz float64, d time.Duration) error {
	p, err := newPlayer(id)
	if err != nil {
		return err
	}
	defer p.close()
	tone := &Tone{Hz: hz}
	pcm := make([]int16, opus.FrameSamples)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	// The player starts once its jitter buffer holds 60 ms; feed it at real time from there.
	for range 3 {
		tone.Next(pcm)
		p.push(pcm)
	}
	for end := time.Now().Add(d); time.Now().Before(end); {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		tone.Next(pcm)
		p.push(pcm)
	}
	// Let the queued tail play out.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(100 * time.Millisecond):
	}
	return nil
}
