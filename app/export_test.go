package app

import (
	"context"
	"time"

	"github.com/parleyhq/parley/media"
)

// EventTypes gives the tests of package app_test the Go type of each event's data.
var EventTypes = eventTypes

// SetSetupDevices swaps how "Test my setup" opens the camera and microphone and plays its tone
// (nil keeps media's).
func SetSetupDevices(s *Setup, openVideo func(string, int, int, int) (media.VideoSource, error), openAudio func(string) (media.AudioSource, error),
	playTone func(context.Context, string, float64, time.Duration) error) {
	if openVideo != nil {
		s.openVideo = openVideo
	}
	if openAudio != nil {
		s.openAudio = openAudio
	}
	if playTone != nil {
		s.playTone = playTone
	}
}

// SetCallTone swaps how the call's speaker test plays its tone.
func SetCallTone(cs *Calls, playTone func(context.Context, string, float64, time.Duration) error) {
	cs.m.playTone = playTone
}
