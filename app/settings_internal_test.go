package app

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/app/policy"
	"github.com/parleyhq/parley/media"
)

func TestFilterDevices(t *testing.T) {
	all := []DeviceView{
		{ID: "v0", Label: "Integrated Camera", Kind: "camera"},
		{ID: "v1", Label: "Logitech BRIO", Kind: "camera"},
		{ID: media.TestPatternID, Label: "Test pattern", Kind: "camera"},
		{ID: "m0", Label: "Built-in Audio Analog Stereo", Kind: "microphone"},
		{ID: "m1", Label: "Jabra Evolve2 65", Kind: "microphone"},
		{ID: "s0", Label: "Built-in Audio", Kind: "speaker"},
	}
	tests := []struct {
		name    string
		devices policy.Devices
		want    []string
	}{
		{"no policy: everything", policy.Devices{}, []string{"v0", "v1", media.TestPatternID, "m0", "m1", "s0"}},
		{"patterns, case-insensitive", policy.Devices{Cameras: []string{"logitech*"}, Microphones: []string{"*JABRA*"}},
			[]string{"v1", media.TestPatternID, "m1", "s0"}},
		{"empty list: none of that kind", policy.Devices{Cameras: []string{}, Speakers: []string{}},
			[]string{media.TestPatternID, "m0", "m1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &core{policy: policy.Policy{Path: "p", AllowedDevices: tt.devices}}
			var got []string
			for _, d := range c.filterDevices(slices.Clone(all)) {
				got = append(got, d.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("filterDevices = %v; want %v", got, tt.want)
			}
		})
	}
}
