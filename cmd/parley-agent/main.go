// Command parley-agent is a headless agent: it signs in to a hub with the same services as the
// desktop app (package app), logs what happens, and can accept every offer and echo every
// customer message. Tests, demos and load generators use it as a stand-in for a person.
//
// Usage:
//
//	parley-agent -hub URL -org ID -user U -password P [-accept] [-reply-echo]
//	parley-agent -hub URL -token TOKEN [-accept] [-reply-echo]
//	             [-call voice|video [-record]] [-devices test-pattern|system] [-speaker none|default|ID]
//	             [-cobrowse [-cobrowse-record FILE] [-cobrowse-field ID] [-cobrowse-type TEXT]]
//	             [-policy machine|none|FILE]
//	             [-monitor listen[,whisper,barge] [-monitor-step 6s]] [-microphone ID]
//
// With -call the agent calls the customer after the first customer message of each conversation
// it holds (one call at a time), using the test pattern and tone unless -devices system; it logs
// the call's state, the customer's mute and video changes and the first remote frame. The test
// pattern plays nothing unless -speaker picks a speaker (as the app's device menu can); with -v it
// logs the call's quality every second (frames and bits sent and received, round trip, route).
// With -record it starts recording each call once it is active, as the call control's Record
// button does (an organisation that asks the customer; without their yes the hub refuses, and the
// agent logs the refusal's code); an organisation that records every call needs no flag. Either
// way the recording is uploaded when the call ends, like the desktop app's.
// With -monitor (signed in as a supervisor) it listens to, whispers to or joins the first call
// it sees an agent on (see monitor.go).
// With -cobrowse it invites the customer to the built-in co-browse (see cobrowse.go).
// Like the desktop app it obeys this machine's policy file (see policy.go): a locked hub URL
// refuses any other hub, and a malformed file refuses sign-in.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/internal/version"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

func main() {
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "parley-agent:", err)
		os.Exit(2)
	}
	if m.ShowVersion {
		fmt.Fprintln(m.Stdout, "parley-agent", version.Version)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "parley-agent:", err)
		os.Exit(1)
	}
}

// Main is the program: flags, then Run until the context ends.
type Main struct {
	HubURL   string
	Org      string
	User     string
	Password string
	// Token is a session token made for automation (parley-hub user token), instead of a
	// password.
	Token string
	// Presence is set after sign-in ("available" by default, so offers come).
	Presence wire.Presence
	// Accept takes every offer; ReplyEcho answers each customer message with "echo: <text>".
	Accept, ReplyEcho bool
	// Call is the kind of call to start after a conversation's first customer message; "" for none.
	Call wire.CallKind
	// Record starts recording each call once it is active (the call control's Record button).
	Record bool
	// Devices is where calls take camera and microphone from (test-pattern by default).
	Devices app.DeviceMode
	// Speaker is the speaker calls play into: "" for the mode's (none with the test pattern, the
	// system's default otherwise), "none", "default", or a device ID.
	Speaker string
	// PolicyFile is the policy obeyed: "machine" (this machine's), "none", or a file.
	PolicyFile  string
	ShowVersion bool
	Verbose     bool

	Stdout io.Writer
	Stderr io.Writer
	// Ready, if set, is closed once signed in (tests wait on it).
	Ready chan struct{}

	log *slog.Logger
	svc *app.Services
	// cb is the -cobrowse mode (cobrowse.go).
	cb cobrowse
	// mon is the -monitor mode (monitor.go).
	mon monitorPlan
}

// NewMain returns a Main writing to the process's stdout and stderr.
func NewMain() *Main {
	return &Main{Presence: wire.PresenceAvailable, Devices: app.DevicesTestPattern, PolicyFile: policyMachine, Stdout: os.Stdout, Stderr: os.Stderr}
}

// ParseFlags reads the command line; the password may also come from PARLEY_PASSWORD.
func (m *Main) ParseFlags(args []string) error {
	fl := flag.NewFlagSet("parley-agent", flag.ContinueOnError)
	fl.SetOutput(m.Stderr)
	fl.StringVar(&m.HubURL, "hub", os.Getenv("PARLEY_HUB"), "hub URL, e.g. http://127.0.0.1:8080 (env PARLEY_HUB)")
	fl.StringVar(&m.Org, "org", os.Getenv("PARLEY_ORG"), "organisation (env PARLEY_ORG)")
	fl.StringVar(&m.Token, "token", os.Getenv("PARLEY_TOKEN"), "a session token for automation (parley-hub user token), instead of -org, -user and -password (env PARLEY_TOKEN)")
	fl.StringVar(&m.User, "user", "", "username")
	fl.StringVar(&m.Password, "password", os.Getenv("PARLEY_PASSWORD"), "password (env PARLEY_PASSWORD)")
	presence := fl.String("presence", string(m.Presence), "presence after sign-in: available, busy, away or offline")
	fl.BoolVar(&m.Accept, "accept", false, "accept every offer")
	fl.BoolVar(&m.ReplyEcho, "reply-echo", false, "answer each customer message with \"echo: <text>\"")
	call := fl.String("call", "", "call the customer after their first message: voice or video")
	fl.BoolVar(&m.Record, "record", false, "start recording each call once it is active (the hub refuses without the customer's consent)")
	devices := fl.String("devices", string(m.Devices), "call devices: test-pattern or system")
	fl.StringVar(&m.Speaker, "speaker", "", "speaker calls play into: none, default (the system's) or a device ID (default: none with -devices test-pattern, the system's default otherwise)")
	fl.StringVar(&m.PolicyFile, "policy", m.PolicyFile, "policy file obeyed: machine (this machine's), none, or a file")
	fl.BoolVar(&m.ShowVersion, "version", false, "print the version and exit")
	fl.BoolVar(&m.Verbose, "v", false, "debug logs")
	m.cobrowseFlags(fl)
	m.monitorFlags(fl)
	if err := fl.Parse(args); err != nil {
		return err
	}
	m.Presence = wire.Presence(*presence)
	m.Call, m.Devices = wire.CallKind(*call), app.DeviceMode(*devices)
	switch m.Call {
	case "", wire.CallVoice, wire.CallVideo:
	default:
		return fmt.Errorf("-call must be voice or video, not %q", *call)
	}
	switch m.Devices {
	case app.DevicesTestPattern, app.DevicesSystem:
	default:
		return fmt.Errorf("-devices must be test-pattern or system, not %q", *devices)
	}
	if m.ShowVersion {
		return nil
	}
	if err := checkPolicyFlag(m.PolicyFile); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fl.Args(), " "))
	}
	switch {
	case m.HubURL == "":
		return errors.New("-hub is required")
	case m.Token != "":
	case m.Org == "" || m.User == "" || m.Password == "":
		return errors.New("-org, -user and -password (or -token) are required")
	}
	return nil
}

// Run signs in, acts on the hub's events until ctx ends, then signs out.
func (m *Main) Run(ctx context.Context) error {
	level := slog.LevelInfo
	if m.Verbose {
		level = slog.LevelDebug
	}
	m.log = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level})).With("agent", m.User)
	// The services hand over events one at a time, in order, on a goroutine of their own that
	// holds none of their locks (app.Emitter): the agent reacts right there, so its reactions,
	// which may wait on the hub, never hold up the services, and the next event waits for them.
	st := &reactions{
		started: time.Now(),
		tried:   map[wire.OfferID]bool{},
		states:  map[wire.ConversationID]wire.ConvState{},
		called:  map[wire.ConversationID]bool{},
	}
	var stopped atomic.Bool
	fatal := make(chan error, 1)
	pol, polPath, polErr := m.loadPolicy()
	m.svc = app.New(app.Config{Logger: m.log, Devices: m.Devices, Policy: pol, PolicyErr: polErr, PolicyPath: polPath, Client: "agent", Emitter: app.EmitterFunc(func(e app.Event) {
		if stopped.Load() {
			return
		}
		if err := m.react(e.Data, st); err != nil {
			select {
			case fatal <- err:
			default:
			}
		}
	})})
	defer m.svc.Close()
	defer stopped.Store(true) // before Close: signing out is not news to react to
	if m.Speaker != "" {
		id := m.Speaker
		if id == "default" {
			id = ""
		}
		if err := m.svc.Calls.SelectDevice(media.KindSpeaker, id); err != nil {
			return fmt.Errorf("speaker %s: %w", m.Speaker, err)
		}
	}
	if err := m.selectMicrophone(); err != nil {
		return fmt.Errorf("microphone %s: %w", m.mon.mic, err)
	}

	if m.Token != "" {
		if _, err := m.svc.Session.SignInToken(m.HubURL, m.Token); err != nil {
			return fmt.Errorf("sign in to %s with a token: %w", m.HubURL, err)
		}
	} else if _, err := m.svc.Session.SignIn(m.HubURL, m.Org, m.User, m.Password); err != nil {
		return fmt.Errorf("sign in to %s as %s/%s: %w", m.HubURL, m.Org, m.User, err)
	}
	if m.Presence != "" {
		if err := m.svc.Presence.Set(m.Presence); err != nil {
			return fmt.Errorf("set presence %s: %w", m.Presence, err)
		}
	}
	m.log.Info("ready", "hub", m.HubURL, "presence", m.Presence, "accept", m.Accept, "reply_echo", m.ReplyEcho, "call", m.Call)
	if m.Ready != nil {
		close(m.Ready)
	}
	select {
	case <-ctx.Done():
		m.log.Info("stopping")
		return nil
	case err := <-fatal:
		return err
	}
}

// reactions is what the agent remembers between events.
type reactions struct {
	// started is when the agent started: it echoes only messages from then on.
	started time.Time
	// tried are the offers already answered.
	tried map[wire.OfferID]bool
	// states are the conversations' last known states.
	states map[wire.ConversationID]wire.ConvState
	// called are the conversations whose customer was called.
	called map[wire.ConversationID]bool
	// lastCall is what was last logged about the call.
	lastCall app.CallView
	// recordTried is the call -record last tried to record.
	recordTried wire.CallID
}

// react acts on one event: accept offers, echo, call, co-browse, and log. An error stops Run.
func (m *Main) react(data any, st *reactions) error {
	m.cobrowseEvent(data, st.states)
	m.monitorEvent(data)
	switch data := data.(type) {
	case []app.OfferView:
		for _, o := range data {
			if st.tried[o.ID] {
				continue
			}
			st.tried[o.ID] = true
			m.log.Info("offer", "offer", o.ID, "conv", o.Conv, "customer", o.CustomerName)
			if m.Accept {
				if _, err := m.svc.Offers.Accept(o.ID); err != nil {
					m.log.Warn("accept failed", "offer", o.ID, "code", wire.ErrorCode(err))
				}
			}
		}
	case []app.ConversationView:
		for _, c := range data {
			if st.states[c.ID] != c.State {
				st.states[c.ID] = c.State
				m.log.Info("conversation", "conv", c.ID, "state", c.State, "customer", c.CustomerName, "ended_by", c.EndedBy)
			}
		}
	case app.MessageView:
		m.log.Info("message", "conv", data.Conv, "seq", data.Seq, "author", data.Author, "bytes", len(data.Text))
		if m.ReplyEcho && data.Author == wire.AuthorCustomer && data.At >= st.started.UnixMilli()-1000 {
			if _, err := m.svc.Conversations.Send(data.Conv, "echo: "+data.Text); err != nil {
				m.log.Warn("echo failed", "conv", data.Conv, "code", wire.ErrorCode(err))
			}
		}
		if m.Call != "" && data.Author == wire.AuthorCustomer && !st.called[data.Conv] && st.states[data.Conv] == wire.ConvActive {
			st.called[data.Conv] = true
			if _, err := m.svc.Calls.Start(data.Conv, m.Call); err != nil {
				m.log.Warn("call failed", "conv", data.Conv, "kind", m.Call, "code", wire.ErrorCode(err))
			}
		}
	case *app.CallView:
		m.logCall(&st.lastCall, data)
		if m.Record && data != nil && data.State == "active" && data.ID != st.recordTried && !data.Recording {
			st.recordTried = data.ID
			if err := m.svc.Calls.SetRecording(true); err != nil {
				m.log.Warn("recording refused", "call", data.ID, "code", wire.ErrorCode(err))
			}
		}
	case app.QualityView:
		m.log.Debug("call quality", "call", data.Call, "level", data.Level, "route", data.Route, "rtt_ms", data.RTTMs, "loss_pct", data.LossPct,
			"send_kbps", data.SendKbps, "send_fps", data.SendFPS, "recv_kbps", data.RecvKbps, "recv_fps", data.RecvFPS, "up_kbps", data.UpKbps, "coach_level", data.CoachLevel)
	case app.SessionView:
		m.log.Info("session", "connection", data.Connection, "signed_in", data.SignedIn)
		if !data.SignedIn {
			return errors.New("signed out by the hub")
		}
	case wire.AgentState:
		m.log.Info("agent", "presence", data.Presence, "load", data.Load, "capacity", data.Capacity)
	case app.Notice:
		m.log.Info("notice", "kind", data.Kind, "reason", data.Reason, "code", data.Code)
	}
	return nil
}

// logCall logs what changed in the call since last: its state, the customer's mute and
// video, the first remote frame. E2E tests wait for these lines.
func (m *Main) logCall(last *app.CallView, v *app.CallView) {
	if v == nil {
		if last.ID != "" || last.State != "" {
			m.log.Info("call gone", "call", last.ID)
		}
		*last = app.CallView{}
		return
	}
	if v.State != last.State || v.ID != last.ID {
		m.log.Info("call", "call", v.ID, "conv", v.Conv, "kind", v.Kind, "state", v.State, "outcome", v.Outcome, "reason", v.Reason, "ended_by", v.EndedBy)
	}
	if v.Connection != last.Connection {
		m.log.Info("call connection", "call", v.ID, "connection", v.Connection)
	}
	if v.RemoteMuted != last.RemoteMuted || v.RemoteVideo != last.RemoteVideo {
		m.log.Info("call remote media", "call", v.ID, "remote_muted", v.RemoteMuted, "remote_video", v.RemoteVideo)
	}
	if v.Recording != last.Recording {
		m.log.Info("call recording", "call", v.ID, "recording", v.Recording, "consent", v.Consent)
	}
	if v.Coach != last.Coach || v.Supervisor != last.Supervisor {
		m.log.Info("call coach", "call", v.ID, "coach", v.Coach, "supervisor_joined", v.Supervisor)
	}
	if v.RemoteFrames && !last.RemoteFrames {
		m.log.Info("call first remote frame", "call", v.ID)
	}
	for _, w := range v.Warnings {
		if !slices.Contains(last.Warnings, w) {
			m.log.Warn("call warning", "call", v.ID, "code", w)
		}
	}
	*last = *v
}
