package relay

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRegionGeo(t *testing.T) {
	tests := []struct {
		r   Region
		geo string
		gov bool
	}{
		{"na", "na", false},
		{"na-east", "na", false},
		{"eu-west", "eu", false},
		{"gcc-na", "na", true},
		{"gcc", "", true},
		{"gcc-high", "high", true},
		{"gccx", "x", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.r), func(t *testing.T) {
			if g := tt.r.Geo(); g != tt.geo {
				t.Errorf("Region(%q).Geo() = %q; want %q", tt.r, g, tt.geo)
			}
			if g := tt.r.Government(); g != tt.gov {
				t.Errorf("Region(%q).Government() = %v; want %v", tt.r, g, tt.gov)
			}
		})
	}
}

func relays(specs ...string) []Relay {
	var out []Relay
	for _, s := range specs {
		id, region, _ := strings.Cut(s, "@")
		out = append(out, Relay{ID: id, Region: Region(region), URLs: []string{"turn:" + id + ":3478"}, Secret: "s"})
	}
	return out
}

func ids(rs []Relay) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestChoose(t *testing.T) {
	world := relays("na1@na-east", "na2@na-west", "eu1@eu", "ap1@apac", "gov1@gcc-na")
	commercial := relays("na1@na-east", "eu1@eu", "ap1@apac")
	tests := []struct {
		name      string
		relays    []Relay
		org, near Region
		want      []string
		policy    TransportPolicy
		err       error
	}{
		{"gcc org, customer in Europe: government NA relay only", world, "gcc", "eu", []string{"gov1"}, PolicyRelay, nil},
		{"gcc org, agent in NA", world, "gcc", "na", []string{"gov1"}, PolicyRelay, nil},
		{"gcc org, location unknown", world, "gcc", "", []string{"gov1"}, PolicyRelay, nil},
		{"gcc org without government relays: commercial NA relays", commercial, "gcc", "eu", []string{"na1"}, PolicyRelay, nil},
		{"gcc org, no NA relay: refused", relays("eu1@eu", "ap1@apac"), "gcc", "na", nil, PolicyRelay, ErrNoRelay},
		{"gcc org, no relays at all: refused", nil, "gcc", "", nil, PolicyRelay, ErrNoRelay},
		{"gcc-high org counts as government", world, "gcc-high", "apac", []string{"gov1"}, PolicyRelay, nil},
		{"commercial org, customer in Europe", world, "na", "eu", []string{"eu1"}, PolicyAll, nil},
		{"commercial org, agent in NA: both NA relays, never the government one", world, "eu", "na-west", []string{"na1", "na2"}, PolicyAll, nil},
		{"commercial org, unknown location: org's geography", world, "apac", "", []string{"ap1"}, PolicyAll, nil},
		{"commercial org, no relay near anyone: all commercial", world, "sa", "af", []string{"na1", "na2", "eu1", "ap1"}, PolicyAll, nil},
		{"commercial org, only government relays: none, direct only", relays("gov1@gcc-na"), "na", "na", nil, PolicyAll, nil},
		{"commercial org, no relays: direct only", nil, "eu", "eu", nil, PolicyAll, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, policy, err := Choose(tt.relays, tt.org, tt.near)
			if !errors.Is(err, tt.err) || policy != tt.policy || !slices.Equal(ids(got), tt.want) {
				t.Errorf("Choose(%q, %q) = %v, %q, %v; want %v, %q, %v",
					tt.org, tt.near, ids(got), policy, err, tt.want, tt.policy, tt.err)
			}
		})
	}
}

func TestDirectoryPlan(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	d, err := NewDirectory(append(relays("na1@na", "eu1@eu"),
		Relay{ID: "stun", Region: "eu", URLs: []string{"stun:stun.example.com:3478"}}),
		time.Hour, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Plan("eu", "", "call-1/customer")
	if err != nil {
		t.Fatal(err)
	}
	if p.Policy != PolicyAll || len(p.Servers) != 2 || len(p.Route) != 2 {
		t.Fatalf("Plan = %+v; want policy all with eu1 and stun", p)
	}
	if p.Servers[0].Username != "1700003600:call-1/customer" || p.Servers[0].Credential != Password("s", p.Servers[0].Username) {
		t.Errorf("eu1 credentials = %q/%q", p.Servers[0].Username, p.Servers[0].Credential)
	}
	if p.Servers[1].Username != "" || p.Servers[1].Credential != "" {
		t.Errorf("a STUN server got credentials: %+v", p.Servers[1])
	}
	if p.Route[0] != (Hop{ID: "eu1", Region: "eu"}) {
		t.Errorf("Route[0] = %+v", p.Route[0])
	}

	if _, err := d.Plan("gcc", "eu", "call-2/agent"); err != nil {
		t.Errorf("Plan(gcc) = %v; want the NA relay", err)
	}
	d2, _ := NewDirectory(relays("eu1@eu"), 0, nil)
	if p, err := d2.Plan("gcc", "na", "call-3/agent"); !errors.Is(err, ErrNoRelay) || len(p.Servers) != 0 {
		t.Errorf("Plan(gcc) with no NA relay = %+v, %v; want ErrNoRelay", p, err)
	}
}

func TestLoadRelays(t *testing.T) {
	tests := []struct {
		name, json string
		ok         bool
	}{
		{"good", `[{"id":"na-1","region":"na","urls":["turn:na1.example.com:3478?transport=udp","turns:na1.example.com:5349?transport=tcp"],"secret":"x"}]`, true},
		{"stun only", `[{"id":"g","region":"na","urls":["stun:stun.example.com:3478"]}]`, true},
		{"turn without secret", `[{"id":"na-1","region":"na","urls":["turn:h:3478"]}]`, false},
		{"no region", `[{"id":"na-1","urls":["turn:h:3478"],"secret":"x"}]`, false},
		{"region without geography", `[{"id":"g","region":"gcc","urls":["turn:h:3478"],"secret":"x"}]`, false},
		{"http url", `[{"id":"na-1","region":"na","urls":["https://h/"],"secret":"x"}]`, false},
		{"unknown field", `[{"id":"na-1","region":"na","urls":["turn:h:3478"],"secret":"x","sekret":"y"}]`, false},
		{"not json", `id=na-1`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := LoadRelays(strings.NewReader(tt.json))
			if (err == nil) != tt.ok {
				t.Fatalf("LoadRelays(%s) = %v, %v; want ok=%v", tt.json, rs, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v is not ErrInvalidConfig", err)
			}
		})
	}
	if _, err := NewDirectory(relays("a@na", "a@eu"), 0, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("NewDirectory with a duplicate id = %v; want ErrInvalidConfig", err)
	}
}
