// Package nettest checks the network path an agent's calls take before the first call: the hub
// over WebSocket, the organisation's relay over UDP and over TCP with credentials issued for the
// test, and a short media-like flow through each relay of the plan to itself (round trip, loss,
// bitrate).
// For a government-cloud organisation it checks the relay reached is a North-American one.
//
// Each finding is a [Line]: pass, warn or fail, with a code the UI turns into a translated
// sentence that says what it means for calls and what to do.
package nettest

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
)

// Status is how a check went.
type Status string

// Statuses.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Check names what a line is about.
type Check string

// Checks, in the order a report lists them.
const (
	CheckHub      Check = "hub"       // the hub over WebSocket
	CheckRelayUDP Check = "relay_udp" // the relay over UDP
	CheckRelayTCP Check = "relay_tcp" // the relay over TCP
	CheckMedia    Check = "media"     // a media-like flow through the relay
	CheckRegion   Check = "region"    // a government organisation's relay is North-American
)

// Codes of lines; the UI has a sentence for each (frontend/src/locales, "setup.net.*").
const (
	CodeHubOK          = "hub_ok"          // the hub answers over WebSocket
	CodeHubSlow        = "hub_slow"        // it answers, slowly
	CodeHubUnreachable = "hub_unreachable" // no answer over WebSocket
	CodeNoPlan         = "no_plan"         // the hub gave no test plan: relays untested
	CodeNoRelay        = "no_relay"        // the hub has no relay: calls need a direct path
	CodeGovNoRelay     = "gov_no_relay"    // a government organisation with no relay: no calls
	CodeUDPOK          = "udp_ok"          // relay reached over UDP
	CodeUDPBlocked     = "udp_blocked"     // UDP blocked, TCP works: calls use TCP
	CodeTCPOK          = "tcp_ok"          // relay reached over TCP
	CodeTCPBlocked     = "tcp_blocked"     // TCP blocked, UDP works
	CodeTCPNotOffered  = "tcp_not_offered" // the relay offers no TCP
	CodeRelayDown      = "relay_down"      // the relay answers over neither
	CodeMediaOK        = "media_ok"        // the flow came back well
	CodeMediaPoor      = "media_poor"      // it came back with loss, delay or little bitrate
	CodeMediaFailed    = "media_failed"    // nothing came back
	CodeRegionNA       = "region_na"       // a government organisation reached a North-American relay
	CodeRegionWrong    = "region_wrong"    // it reached another one
	CodeCancelled      = "cancelled"       // a newer test replaced this one
)

// Line is one finding of a test.
type Line struct {
	Check  Check  `json:"check"`
	Status Status `json:"status"`
	Code   string `json:"code"`
	// RTTMS is a round trip, milliseconds (hub, relay and media lines).
	RTTMS int `json:"rtt_ms,omitempty"`
	// LossPct is the share of the flow that did not come back, in percent (media).
	LossPct float64 `json:"loss_pct,omitempty"`
	// Kbps is the bitrate that went up to the relay and came back down, kbit/s (media).
	Kbps int `json:"kbps,omitempty"`
	// Transport is "udp" or "tcp": how the media flow reached the relay.
	Transport string `json:"transport,omitempty"`
	// Relay and Region name the relay tested.
	Relay  string `json:"relay,omitempty"`
	Region string `json:"region,omitempty"`
}

// Report is what one test found.
type Report struct {
	Lines []Line `json:"lines"`
	// StartedAt and EndedAt are Unix milliseconds.
	StartedAt int64 `json:"started_at"`
	EndedAt   int64 `json:"ended_at"`
}

// Worst returns the worst status of the report's lines.
func (r Report) Worst() Status {
	worst := Pass
	for _, l := range r.Lines {
		switch {
		case l.Status == Fail:
			return Fail
		case l.Status == Warn:
			worst = Warn
		}
	}
	return worst
}

// Hub is what the test needs from the hub: the signed-in session's WebSocket and its HTTP API.
type Hub interface {
	// Ping makes one round trip over the session's WebSocket.
	Ping(ctx context.Context) error
	// Plan asks for a network-test plan (wire.NetworkTest).
	Plan(ctx context.Context) (wire.NetworkTest, error)
	// End ends the test on the hub: whatever it still holds on the relay closes.
	End(ctx context.Context, id string) error
}

// Options tune a test; the zero value is the default.
type Options struct {
	// Flow is how long the media-like flow runs (default 2 s).
	Flow time.Duration
	// Kbps is the flow's bitrate, about a 640x480 video call's (default 1500).
	Kbps int
	// StepTimeout bounds each allocation (default 4 s).
	StepTimeout time.Duration
	// Log receives what the test did; nil discards it.
	Log *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Flow <= 0 {
		o.Flow = 2 * time.Second
	}
	if o.Kbps <= 0 {
		o.Kbps = 1500
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 4 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Thresholds for warnings.
const (
	slowHub   = 400 * time.Millisecond // a WebSocket round trip slower than this warns
	slowMedia = 300 * time.Millisecond // a media round trip slower than this warns
	lossyPct  = 5.0                    // more loss than this warns
	lowKbps   = 600                    // less bitrate through the relay than this warns
)

// Tester runs one test at a time: starting one cancels the one running and waits until it has
// closed what it held, so a test started twice leaves no allocation behind.
type Tester struct {
	hub Hub
	opt Options

	mu      sync.Mutex
	cancel  context.CancelFunc // ends the running test; nil when none runs
	running chan struct{}      // closed when the running test has cleaned up
}

// NewTester returns a tester against hub.
func NewTester(hub Hub, opt Options) *Tester {
	opt.defaults()
	return &Tester{hub: hub, opt: opt}
}

// Run runs a test, cancelling one already running, and returns its report. A test a newer one
// cancelled reports one line, CodeCancelled.
func (t *Tester) Run(ctx context.Context) Report {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	t.mu.Lock()
	prevCancel, prevDone := t.cancel, t.running
	t.cancel, t.running = cancel, done
	t.mu.Unlock()
	if prevCancel != nil {
		prevCancel()
		<-prevDone
	}
	defer func() {
		t.mu.Lock()
		if t.running == done {
			t.cancel, t.running = nil, nil
		}
		t.mu.Unlock()
		cancel()
		close(done)
	}()
	r := run(ctx, t.hub, t.opt)
	if t.replaced(done) {
		return Report{Lines: []Line{{Check: CheckHub, Status: Fail, Code: CodeCancelled}}, StartedAt: r.StartedAt, EndedAt: r.EndedAt}
	}
	return r
}

// replaced reports whether a newer test took over from the one whose done channel this is.
func (t *Tester) replaced(done chan struct{}) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.running != done
}

// run is one test.
func run(ctx context.Context, hub Hub, opt Options) Report {
	rep := Report{StartedAt: opt.Now().UnixMilli()}
	defer func() { rep.EndedAt = opt.Now().UnixMilli() }()

	rep.Lines = append(rep.Lines, hubLine(ctx, hub, opt))

	plan, err := hub.Plan(ctx)
	if err != nil {
		opt.Log.Info("network test: no plan", "code", wire.ErrorCode(err), "err", err)
		rep.Lines = append(rep.Lines, Line{Check: CheckRelayUDP, Status: Fail, Code: CodeNoPlan})
		return rep
	}
	defer func() {
		// The relay frees what this test held even if a Close below did not reach it.
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		if err := hub.End(ectx, plan.ID); err != nil {
			opt.Log.Info("network test: end", "err", err)
		}
	}()
	relays := pickRelays(plan)
	if len(relays) == 0 {
		code, status := CodeNoRelay, Warn
		if plan.Government {
			code, status = CodeGovNoRelay, Fail
		}
		rep.Lines = append(rep.Lines, Line{Check: CheckRelayUDP, Status: status, Code: code})
		return rep
	}
	// Every relay of the plan, one after the other: a call falls back on any of them, so a
	// relay that fails is worth knowing about even when the first one works.
	perRelay := make([][]Line, len(relays))
	anyMedia := false
	for i, rl := range relays {
		if ctx.Err() != nil {
			break
		}
		perRelay[i] = relayLines(ctx, rl, opt)
		if plan.Government {
			l := Line{Check: CheckRegion, Status: Pass, Code: CodeRegionNA, Relay: rl.ID, Region: rl.Region}
			if relay.Region(rl.Region).Geo() != relay.NorthAmerica {
				l.Status, l.Code = Fail, CodeRegionWrong
			}
			perRelay[i] = append(perRelay[i], l)
		}
		anyMedia = anyMedia || slices.ContainsFunc(perRelay[i], func(l Line) bool { return l.Check == CheckMedia && l.Status != Fail })
	}
	for _, lines := range perRelay {
		for _, l := range lines {
			// Calls have a relay that works: one that does not only warns (they fall back).
			if anyMedia && l.Status == Fail && l.Check != CheckRegion {
				l.Status = Warn
			}
			rep.Lines = append(rep.Lines, l)
		}
	}
	return rep
}

// hubLine times a few round trips over the session's WebSocket.
func hubLine(ctx context.Context, hub Hub, opt Options) Line {
	var rtts []time.Duration
	for range 3 {
		pctx, cancel := context.WithTimeout(ctx, opt.StepTimeout)
		start := opt.Now()
		err := hub.Ping(pctx)
		cancel()
		if err != nil {
			opt.Log.Info("network test: hub ping", "err", err)
			return Line{Check: CheckHub, Status: Fail, Code: CodeHubUnreachable}
		}
		rtts = append(rtts, opt.Now().Sub(start))
	}
	rtt := median(rtts)
	l := Line{Check: CheckHub, Status: Pass, Code: CodeHubOK, RTTMS: ms(rtt)}
	if rtt > slowHub {
		l.Status, l.Code = Warn, CodeHubSlow
	}
	return l
}

// pickRelays returns the plan's relays with TURN credentials, in the plan's order (the first
// is the one calls prefer).
func pickRelays(plan wire.NetworkTest) []wire.NetworkTestRelay {
	var out []wire.NetworkTestRelay
	for _, r := range plan.Relays {
		if r.Username != "" && slices.ContainsFunc(r.URLs, func(u string) bool { _, err := parseTURN(u); return err == nil }) {
			out = append(out, r)
		}
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) int {
	if d > 0 && d < time.Millisecond {
		return 1
	}
	return int(d / time.Millisecond)
}
