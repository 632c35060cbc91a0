package media

import (
	"fmt"

	"github.com/gen2brain/malgo"
	"github.com/pion/mediadevices"
)

// DeviceKind says what a device does.
type DeviceKind string

// Device kinds.
const (
	KindCamera     DeviceKind = "camera"
	KindMicrophone DeviceKind = "microphone"
	KindSpeaker    DeviceKind = "speaker"
)

// Device is one camera, microphone or speaker. ID is what OpenVideo, OpenAudio and the
// speaker option take; Label is for people.
type Device struct {
	ID      string     `json:"id"`
	Label   string     `json:"label"`
	Kind    DeviceKind `json:"kind"`
	Default bool       `json:"default"`
}

// ListDevices lists cameras, microphones and speakers, then the test sources (TestDevices)
// last. A machine with no hardware still gets the test sources.
func ListDevices() ([]Device, error) {
	var out []Device
	for _, d := range mediadevices.EnumerateDevices() {
		switch d.Kind {
		case mediadevices.VideoInput:
			out = append(out, Device{ID: d.DeviceID, Label: d.Label, Kind: KindCamera})
		case mediadevices.AudioInput:
			out = append(out, Device{ID: d.DeviceID, Label: d.Label, Kind: KindMicrophone})
		}
	}
	markFirstDefault(out, KindCamera)
	markFirstDefault(out, KindMicrophone)
	sp, err := listSpeakers()
	if err != nil {
		return nil, err
	}
	out = append(out, sp...)
	for _, d := range TestDevices() {
		d.Default = false // a real device, when there is one, is the default
		out = append(out, d)
	}
	return out, nil
}

// TestDevices are the built-in test sources: two cameras and two microphones, so a device
// switch can be seen and heard with no hardware.
func TestDevices() []Device {
	return []Device{
		{ID: TestPatternID, Label: "Test pattern", Kind: KindCamera, Default: true},
		{ID: TestPattern2ID, Label: "Test pattern (blue)", Kind: KindCamera},
		{ID: TestPatternID, Label: "Test tone (440 Hz)", Kind: KindMicrophone, Default: true},
		{ID: TestPattern2ID, Label: "Test tone (880 Hz)", Kind: KindMicrophone},
	}
}

func markFirstDefault(ds []Device, k DeviceKind) {
	for i := range ds {
		if ds[i].Kind == k {
			ds[i].Default = true
			return
		}
	}
}

func listSpeakers() ([]Device, error) {
	ctx, err := malgo.InitContext(nil, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("media: audio context: %w", err)
	}
	defer func() { _ = ctx.Uninit(); ctx.Free() }()
	infos, err := ctx.Devices(malgo.Playback)
	if err != nil {
		return nil, nil // no audio backend: no speakers, not an error for listing
	}
	out := make([]Device, 0, len(infos))
	for _, in := range infos {
		out = append(out, Device{ID: in.ID.String(), Label: in.Name(), Kind: KindSpeaker, Default: in.IsDefault != 0})
	}
	return out, nil
}
