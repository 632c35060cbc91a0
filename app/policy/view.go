package policy

import (
	"fmt"
	"io"
	"strings"
)

// View is the policy as the UI sees it (bind it, or embed it in a settings view): what is fixed,
// what is locked, and where it came from.
type View struct {
	// Managed is true when a policy file applies to this machine.
	Managed bool `json:"managed"`
	// Path is the policy file, to show as "set by your organisation (PATH)".
	Path string `json:"path,omitempty"`
	// HubURL, Region and Provider are the policy's values, empty where it sets none.
	HubURL   string `json:"hub_url,omitempty"`
	Org      string `json:"org,omitempty"`
	Region   string `json:"region,omitempty"`
	Provider string `json:"provider,omitempty"`
	// Locked lists the settings the UI must show as locked.
	Locked []string `json:"locked"`
}

// View returns the UI's view of p.
func (p Policy) View() View {
	v := View{Managed: p.Managed(), Path: p.Path, HubURL: p.HubURL, Org: p.Org, Region: p.Region, Provider: p.Provider, Locked: []string{}}
	for _, s := range p.Locked {
		v.Locked = append(v.Locked, string(s))
	}
	return v
}

// WriteSummary writes what p does, one setting a line, for IT to read back (parley-policy check,
// the app's -check-policy).
func (p Policy) WriteSummary(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: valid\n", p.Path)
	show := func(name, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-16s %s\n", name, v)
		}
	}
	show("hub_url", p.HubURL)
	show("org", p.Org)
	show("region", p.Region)
	show("provider", p.Provider)
	devs := func(name string, l []string) {
		switch {
		case l == nil:
		case len(l) == 0:
			fmt.Fprintf(&b, "  %-16s none allowed\n", name)
		default:
			fmt.Fprintf(&b, "  %-16s %s\n", name, strings.Join(l, " | "))
		}
	}
	devs("cameras", p.AllowedDevices.Cameras)
	devs("microphones", p.AllowedDevices.Microphones)
	devs("speakers", p.AllowedDevices.Speakers)
	if len(p.Locked) > 0 {
		show("locked", strings.Join(p.View().Locked, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
