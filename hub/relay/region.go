package relay

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Region names where a data centre, an organisation or a participant is: a geography ("na",
// "eu", "apac", "sa"...), optionally narrowed ("na-east", "eu-west"). A "gcc-" prefix marks
// government-cloud data centres ("gcc-na"); an organisation in the government cloud has region
// "gcc" (or "gcc-" something).
type Region string

// NorthAmerica is the geography that carries a GCC organisation's media.
const NorthAmerica = "na"

// Government reports whether r is in the government cloud: "gcc" or "gcc-...".
func (r Region) Government() bool {
	return r == "gcc" || strings.HasPrefix(string(r), "gcc-")
}

// Geo returns r's geography: "na" for "na", "na-east" and "gcc-na"; "" for "gcc" and "".
func (r Region) Geo() string {
	s := strings.TrimPrefix(string(r), "gcc")
	s = strings.TrimPrefix(s, "-")
	geo, _, _ := strings.Cut(s, "-")
	return geo
}

// Relay is a STUN/TURN server clients may be sent to: the embedded one or an external one (e.g.
// coturn with static-auth-secret set to Secret).
type Relay struct {
	// ID names the relay in logs and in the call's route, e.g. "na-1".
	ID string `json:"id"`
	// Region is where the relay's data centre is, e.g. "na", "eu-west", "gcc-na".
	Region Region `json:"region"`
	// URLs are the relay's turn:, turns: or stun: URLs.
	URLs []string `json:"urls"`
	// Secret is the TURN REST shared secret; empty for a STUN-only relay.
	Secret string `json:"secret,omitempty"`
}

// Issue returns ICE server credentials for this relay, valid from now for ttl and naming id.
func (r Relay) Issue(now time.Time, ttl time.Duration, id string) ICEServer {
	if r.Secret == "" {
		return ICEServer{URLs: append([]string(nil), r.URLs...)}
	}
	return Issue(r.Secret, r.URLs, now, ttl, id)
}

// validate checks what a client or a relay would otherwise fail on later, mid-call.
func (r Relay) validate() error {
	if r.ID == "" {
		return fmt.Errorf("%w: relay without id", ErrInvalidConfig)
	}
	if r.Region == "" || r.Region.Geo() == "" {
		return fmt.Errorf("%w: relay %q: region %q names no geography", ErrInvalidConfig, r.ID, r.Region)
	}
	if len(r.URLs) == 0 {
		return fmt.Errorf("%w: relay %q has no urls", ErrInvalidConfig, r.ID)
	}
	for _, raw := range r.URLs {
		u, err := url.Parse(raw)
		if err != nil || u.Opaque == "" {
			return fmt.Errorf("%w: relay %q: url %q is not scheme:host:port", ErrInvalidConfig, r.ID, raw)
		}
		switch u.Scheme {
		case "turn", "turns":
			if r.Secret == "" {
				return fmt.Errorf("%w: relay %q: %s needs a secret", ErrInvalidConfig, r.ID, raw)
			}
		case "stun", "stuns":
		default:
			return fmt.Errorf("%w: relay %q: url %q is not stun: or turn:", ErrInvalidConfig, r.ID, raw)
		}
	}
	return nil
}

// TransportPolicy is RTCConfiguration.iceTransportPolicy.
type TransportPolicy string

// Transport policies.
const (
	// PolicyAll lets ICE use direct paths and fall back to relays.
	PolicyAll TransportPolicy = "all"
	// PolicyRelay makes every media path go through a relay.
	PolicyRelay TransportPolicy = "relay"
)

// Choose is the region policy: which relays carry an organisation's call for a participant who is
// near the given region ("" when unknown), and with which ICE transport policy.
//
// A government-cloud organisation gets relay-only ICE through North-American relays, wherever the
// agent and the customer are; if some of those are government data centres ("gcc-na"), only those.
// With no such relay it gets ErrNoRelay: the call must not leave North America, so it must not
// start. Any other organisation goes direct when it can (policy "all") and falls back to the
// commercial relays in the participant's geography (else the organisation's; else all of them).
// Government relays are never handed to commercial organisations.
func Choose(relays []Relay, org, near Region) ([]Relay, TransportPolicy, error) {
	if org.Government() {
		var na, gov []Relay
		for _, r := range relays {
			if r.Region.Geo() != NorthAmerica {
				continue
			}
			na = append(na, r)
			if r.Region.Government() {
				gov = append(gov, r)
			}
		}
		if len(gov) > 0 {
			na = gov
		}
		if len(na) == 0 {
			return nil, PolicyRelay, ErrNoRelay
		}
		return na, PolicyRelay, nil
	}

	var commercial []Relay
	for _, r := range relays {
		if !r.Region.Government() {
			commercial = append(commercial, r)
		}
	}
	for _, geo := range []string{near.Geo(), org.Geo()} {
		if geo == "" {
			continue
		}
		var nearest []Relay
		for _, r := range commercial {
			if r.Region.Geo() == geo {
				nearest = append(nearest, r)
			}
		}
		if len(nearest) > 0 {
			return nearest, PolicyAll, nil
		}
	}
	return commercial, PolicyAll, nil
}

// Plan is what a participant's peer connection is configured with for one call.
type Plan struct {
	// Policy is the ICE transport policy.
	Policy TransportPolicy `json:"policy"`
	// Servers are the ICE servers, with credentials for this call only.
	Servers []ICEServer `json:"servers"`
	// Route names the relays handed out, for the call-quality details.
	Route []Hop `json:"route"`
}

// Hop names a relay in a call's route without its secret.
type Hop struct {
	ID     string `json:"id"`
	Region Region `json:"region"`
}

// DefaultTTL is how long issued credentials last. A TURN allocation and its permissions are
// refreshed with the same credentials every few minutes, so once they expire a relay stops
// relaying for them within a permission lifetime (5 minutes): a call that lasts longer needs new
// ones and an ICE restart that uses them (the hub renews them). Short, so that credentials a
// customer kept stop working soon after the call.
const DefaultTTL = 10 * time.Minute

// Directory holds the declared relays and issues per-call plans from them.
type Directory struct {
	relays []Relay          // declared relays, in configuration order (first preferred)
	ttl    time.Duration    // lifetime of issued credentials
	now    func() time.Time // clock, injected for tests
}

// NewDirectory checks the relays and returns a directory that issues credentials lasting ttl
// (DefaultTTL if zero), timed by now (time.Now if nil).
func NewDirectory(relays []Relay, ttl time.Duration, now func() time.Time) (*Directory, error) {
	seen := map[string]bool{}
	for _, r := range relays {
		if err := r.validate(); err != nil {
			return nil, err
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("%w: relay id %q declared twice", ErrInvalidConfig, r.ID)
		}
		seen[r.ID] = true
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Directory{relays: append([]Relay(nil), relays...), ttl: ttl, now: now}, nil
}

// Relays returns the declared relays.
func (d *Directory) Relays() []Relay { return append([]Relay(nil), d.relays...) }

// Plan chooses relays for an organisation's call (see [Choose]) and issues credentials naming id
// (e.g. "<call>/<participant>") for them.
func (d *Directory) Plan(org, near Region, id string) (Plan, error) {
	return d.PlanFor(org, near, id, d.ttl)
}

// PlanFor is [Directory.Plan] with credentials lasting ttl: a network test's ([TestTTL]).
func (d *Directory) PlanFor(org, near Region, id string, ttl time.Duration) (Plan, error) {
	chosen, policy, err := Choose(d.relays, org, near)
	if err != nil {
		return Plan{Policy: policy}, err
	}
	now := d.now()
	p := Plan{Policy: policy, Servers: []ICEServer{}, Route: []Hop{}}
	for _, r := range chosen {
		p.Servers = append(p.Servers, r.Issue(now, ttl, id))
		p.Route = append(p.Route, Hop{ID: r.ID, Region: r.Region})
	}
	return p, nil
}

// LoadRelays reads a JSON array of relays, e.g.
//
//	[{"id": "na-1", "region": "na", "urls": ["turn:na1.example.com:3478?transport=udp"], "secret": "..."}]
func LoadRelays(r io.Reader) ([]Relay, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var relays []Relay
	if err := dec.Decode(&relays); err != nil {
		return nil, fmt.Errorf("%w: relays file: %w", ErrInvalidConfig, err)
	}
	for _, rl := range relays {
		if err := rl.validate(); err != nil {
			return nil, err
		}
	}
	return relays, nil
}
