package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

// parley-hub queue ...: an organisation's queues, members' queues and skills, and the pre-chat
// question, on the hub's database (docs/routing.md). Same conventions as the other subcommands.

const queueUsage = `Usage:
  parley-hub queue list --org ID
  parley-hub queue set --org ID QUEUE [--name NAME] [--default] [--calls voice_video|voice|none|org]
        [--recording off|ask|always|org] [--language en|es] [--skills billing:2,es:1] [--hours "mon-fri 09:00-17:00, sat 10:00-14:00"]
        [--tz Europe/Madrid] [--closed-message TEXT] [--max-wait 10m] [--widen-after 60s]
        [--service-level 80%/30s]
  parley-hub queue delete --org ID QUEUE
  parley-hub queue member --org ID USER [--queues sales,billing] [--skills billing:2,es:3]
  parley-hub queue prechat --org ID [--question TEXT] [--choice 'ID|Label|QUEUE[|skill:level,...]']...

queue set creates the queue or changes only the settings given. --hours "" means always open;
--calls org and --recording org keep the organisation's setting. queue member replaces the member's queues or skills
(whichever is given). queue prechat with no --choice removes the question. A running hub applies
the changes within two seconds.
`

// runQueue runs parley-hub queue SUBCOMMAND.
func runQueue(ctx context.Context, a *admin, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, queueUsage)
		return exitUsage
	}
	cmd := args[0]
	fs := flag.NewFlagSet("parley-hub queue "+cmd, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() { fmt.Fprint(a.stderr, queueUsage) }
	fs.StringVar(&a.db, "db", envOr("PARLEY_DB", "parley.db"), "the hub's database (PARLEY_DB)")
	fs.BoolVar(&a.json, "json", false, "print JSON")
	fs.StringVar(&a.publicURL, "public-url", os.Getenv("PARLEY_PUBLIC_URL"), "unused by queue (accepted like the other subcommands)")
	var (
		org, name, calls, recording, language, skills, hours, tz, closed, queues, question, sl string
		isDefault                                                                              bool
		maxWait, widen                                                                         time.Duration
		choices                                                                                multiFlag
	)
	fs.StringVar(&org, "org", "", "organisation id")
	fs.StringVar(&name, "name", "", "the queue's name")
	fs.BoolVar(&isDefault, "default", false, "make it the organisation's default queue")
	fs.StringVar(&calls, "calls", "", "calls in this queue: voice_video, voice, none, or org")
	fs.StringVar(&recording, "recording", "", "recording in this queue: off, ask, always, or org")
	fs.StringVar(&language, "language", "", "the language the queue serves in: en or es")
	fs.StringVar(&skills, "skills", "", "skills with levels, e.g. billing:2,es:1")
	fs.StringVar(&hours, "hours", "", `opening hours, e.g. "mon-fri 09:00-17:00, sat 10:00-14:00"`)
	fs.StringVar(&tz, "tz", "", "the opening hours' time zone, e.g. Europe/Madrid")
	fs.StringVar(&closed, "closed-message", "", "what customers read outside the hours")
	fs.DurationVar(&maxWait, "max-wait", 0, "offer to leave a message after this wait (0: never)")
	fs.DurationVar(&widen, "widen-after", 0, "after this wait any member may take a conversation")
	fs.StringVar(&sl, "service-level", "", "the target, e.g. 80%/30s")
	fs.StringVar(&queues, "queues", "", "the member's queues, e.g. sales,billing")
	fs.StringVar(&question, "question", "", "the pre-chat question")
	fs.Var(&choices, "choice", "a pre-chat answer: 'ID|Label|QUEUE[|skill:level,...]' (repeat)")
	pos, set, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	usage := func(msg string) int {
		fmt.Fprintf(a.stderr, "parley-hub queue %s: %s\n", cmd, msg)
		return exitUsage
	}
	if org == "" {
		return usage("--org is required")
	}
	switch cmd {
	case "list", "prechat":
		if len(pos) != 0 {
			return usage("takes no arguments")
		}
	case "set", "delete", "member":
		if len(pos) != 1 {
			return usage("needs one argument: " + map[string]string{"set": "the queue's id", "delete": "the queue's id", "member": "the username"}[cmd])
		}
	default:
		fmt.Fprintf(a.stderr, "parley-hub queue: unknown subcommand %q\n\n%s", cmd, queueUsage)
		return exitUsage
	}
	// Parse the values before touching the database: a typo is a usage error.
	var skillList []wire.Skill
	if set["skills"] {
		if skillList, err = parseSkills(skills); err != nil {
			return usage(err.Error())
		}
	}
	var intervals []wire.OpenInterval
	if set["hours"] {
		if intervals, err = parseHours(hours); err != nil {
			return usage(err.Error())
		}
	}
	var level wire.ServiceLevel
	if set["service-level"] {
		if level, err = parseServiceLevel(sl); err != nil {
			return usage(err.Error())
		}
	}
	var prechat wire.Prechat
	if cmd == "prechat" {
		prechat.Question = question
		for _, c := range choices {
			ch, err := parseChoice(c)
			if err != nil {
				return usage(err.Error())
			}
			prechat.Choices = append(prechat.Choices, ch)
		}
	}

	if err := dropToOwner(a.db); err != nil {
		return a.fail(err)
	}
	a.m, err = hub.OpenManager(ctx, hub.Config{DB: a.db})
	if err != nil {
		return a.fail(err)
	}
	defer a.m.Close()
	oid := wire.OrgID(org)
	by := hub.CommandLine
	switch cmd {
	case "list":
		rt, err := a.m.Routing(ctx, oid)
		if err != nil {
			return a.fail(err)
		}
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "QUEUE\tNAME\tDEFAULT\tCALLS\tRECORDING\tLANGUAGE\tSKILLS\tHOURS\tMAX WAIT\tMEMBERS")
		for _, q := range rt.Queues {
			var members []string
			for _, m := range rt.Members {
				for _, id := range m.Queues {
					if id == q.ID {
						members = append(members, m.Username)
					}
				}
			}
			if len(members) == 0 {
				members = []string{"(every agent)"}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", q.ID, q.Name, yes(q.Default), orDash(string(q.Calls)), orDash(string(q.Recording)), orDash(q.Language),
				orDash(skillText(q.Skills)), hoursText(q.Hours), waitText(q.MaxWaitS), strings.Join(members, ","))
		}
		tw.Flush()
		if len(rt.Prechat.Choices) > 0 {
			fmt.Fprintf(&b, "\nPre-chat question: %s\n", rt.Prechat.Question)
			for _, c := range rt.Prechat.Choices {
				fmt.Fprintf(&b, "  %s: %s → %s %s\n", c.ID, c.Label, c.Queue, skillText(c.Skills))
			}
		}
		return a.print(rt, b.String())
	case "set":
		qs, err := a.m.Queues(ctx, oid)
		if err != nil {
			return a.fail(err)
		}
		q := wire.Queue{ID: wire.QueueID(pos[0])}
		for _, x := range qs {
			if x.ID == q.ID {
				q = x
			}
		}
		if set["name"] {
			q.Name = name
		} else if q.Name == "" {
			q.Name = pos[0]
		}
		if set["default"] {
			q.Default = isDefault
		}
		if set["calls"] {
			q.Calls = wire.CallsAllowed(calls)
			if calls == "org" {
				q.Calls = ""
			}
		}
		if set["recording"] {
			q.Recording = wire.RecordingMode(recording)
			if recording == "org" {
				q.Recording = ""
			}
		}
		if set["language"] {
			q.Language = language
		}
		if set["skills"] {
			q.Skills = skillList
		}
		if set["hours"] {
			q.Hours.Intervals = intervals
		}
		if set["tz"] {
			q.Hours.TimeZone = tz
		}
		if set["closed-message"] {
			q.ClosedMessage = closed
		}
		if set["max-wait"] {
			q.MaxWaitS = int(maxWait / time.Second)
		}
		if set["widen-after"] {
			q.WidenAfterS = int(widen / time.Second)
		}
		if set["service-level"] {
			q.ServiceLevel = level
		}
		q, err = a.m.SaveQueue(ctx, by, oid, q)
		if err != nil {
			return a.fail(err)
		}
		return a.print(map[string]any{"queue": q}, fmt.Sprintf("Queue %s (%s) saved: calls %s, recording %s, skills %s, hours %s, max wait %s.\n",
			q.ID, q.Name, orDash(string(q.Calls)), orDash(string(q.Recording)), orDash(skillText(q.Skills)), hoursText(q.Hours), waitText(q.MaxWaitS)))
	case "delete":
		if err := a.m.DeleteQueue(ctx, by, oid, wire.QueueID(pos[0])); err != nil {
			return a.fail(err)
		}
		return a.print(map[string]any{"deleted": pos[0]}, fmt.Sprintf("Queue %s removed; its waiting conversations go to the default queue.\n", pos[0]))
	case "member":
		u, err := a.m.Member(ctx, oid, pos[0])
		if err != nil {
			return a.fail(err)
		}
		rt, err := a.m.Routing(ctx, oid)
		if err != nil {
			return a.fail(err)
		}
		m := wire.MemberRouting{User: u.ID}
		for _, x := range rt.Members {
			if x.User == u.ID {
				m.Queues, m.Skills = x.Queues, x.Skills
			}
		}
		if set["queues"] {
			m.Queues = nil
			for _, id := range splitList(queues) {
				m.Queues = append(m.Queues, wire.QueueID(id))
			}
		}
		if set["skills"] {
			m.Skills = skillList
		}
		if err := a.m.SetMemberRouting(ctx, by, oid, m); err != nil {
			return a.fail(err)
		}
		qs := make([]string, len(m.Queues))
		for i, q := range m.Queues {
			qs[i] = string(q)
		}
		return a.print(map[string]any{"member": m}, fmt.Sprintf("%s: queues %s, skills %s.\n", u.Username, orDash(strings.Join(qs, ",")), orDash(skillText(m.Skills))))
	case "prechat":
		if err := a.m.SetPrechat(ctx, by, oid, prechat); err != nil {
			return a.fail(err)
		}
		if len(prechat.Choices) == 0 {
			return a.print(map[string]any{"prechat": prechat}, "No pre-chat question: customers start in the widget's queue, or the default one.\n")
		}
		return a.print(map[string]any{"prechat": prechat}, fmt.Sprintf("Pre-chat question %q with %d answers saved.\n", prechat.Question, len(prechat.Choices)))
	}
	return exitUsage
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, "; ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// splitList splits "a, b,c" into its non-empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// parseSkills reads "billing:2,es:1" (a skill without a level is level 1).
func parseSkills(s string) ([]wire.Skill, error) {
	out := []wire.Skill{}
	for _, item := range splitList(s) {
		name, lv, found := strings.Cut(item, ":")
		level := 1
		if found {
			n, err := strconv.Atoi(lv)
			if err != nil {
				return nil, fmt.Errorf("skill %q: the level after : is a number, e.g. billing:2", item)
			}
			level = n
		}
		out = append(out, wire.Skill{Name: strings.ToLower(strings.TrimSpace(name)), Level: level})
	}
	return out, nil
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// parseHours reads "mon-fri 09:00-17:00, sat 10:00-14:00" (days: sun..sat, or a range; "" is
// always open).
func parseHours(s string) ([]wire.OpenInterval, error) {
	var out []wire.OpenInterval
	for _, part := range splitList(s) {
		days, span, ok := strings.Cut(part, " ")
		from, to, ok2 := strings.Cut(strings.TrimSpace(span), "-")
		if !ok || !ok2 {
			return nil, fmt.Errorf("hours %q: write DAYS HH:MM-HH:MM, e.g. mon-fri 09:00-17:00", part)
		}
		first, last, isRange := strings.Cut(strings.ToLower(days), "-")
		d1, d2 := dayIndex(first), dayIndex(first)
		if isRange {
			d2 = dayIndex(last)
		}
		if d1 < 0 || d2 < 0 {
			return nil, fmt.Errorf("hours %q: days are sun, mon, tue, wed, thu, fri, sat", part)
		}
		for d := d1; ; d = (d + 1) % 7 {
			out = append(out, wire.OpenInterval{Day: d, From: strings.TrimSpace(from), To: strings.TrimSpace(to)})
			if d == d2 {
				break
			}
		}
	}
	return out, nil
}

func dayIndex(s string) int {
	for i, d := range weekdays {
		if strings.HasPrefix(strings.TrimSpace(s), d) {
			return i
		}
	}
	return -1
}

// parseServiceLevel reads "80%/30s".
func parseServiceLevel(s string) (wire.ServiceLevel, error) {
	p, t, ok := strings.Cut(s, "/")
	n, err1 := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(p), "%"))
	d, err2 := time.ParseDuration(strings.TrimSpace(t))
	if !ok || err1 != nil || err2 != nil {
		return wire.ServiceLevel{}, fmt.Errorf("service level %q: write PERCENT%%/WAIT, e.g. 80%%/30s", s)
	}
	return wire.ServiceLevel{Percent: n, TargetS: int(d / time.Second)}, nil
}

// parseChoice reads "ID|Label|QUEUE[|skill:level,...]".
func parseChoice(s string) (wire.PrechatChoice, error) {
	parts := strings.Split(s, "|")
	if len(parts) < 3 || len(parts) > 4 {
		return wire.PrechatChoice{}, fmt.Errorf("choice %q: write ID|Label|QUEUE or ID|Label|QUEUE|skill:level", s)
	}
	ch := wire.PrechatChoice{ID: strings.TrimSpace(parts[0]), Label: strings.TrimSpace(parts[1]), Queue: wire.QueueID(strings.TrimSpace(parts[2]))}
	if len(parts) == 4 {
		sk, err := parseSkills(parts[3])
		if err != nil {
			return ch, err
		}
		ch.Skills = sk
	}
	return ch, nil
}

func skillText(skills []wire.Skill) string {
	out := make([]string, len(skills))
	for i, s := range skills {
		out[i] = fmt.Sprintf("%s:%d", s.Name, s.Level)
	}
	return strings.Join(out, ",")
}

func hoursText(h wire.WorkingHours) string {
	if len(h.Intervals) == 0 {
		return "always"
	}
	out := make([]string, len(h.Intervals))
	for i, iv := range h.Intervals {
		out[i] = fmt.Sprintf("%s %s-%s", weekdays[iv.Day], iv.From, iv.To)
	}
	tz := h.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	return strings.Join(out, ", ") + " " + tz
}

func waitText(s int) string {
	if s == 0 {
		return "none"
	}
	return (time.Duration(s) * time.Second).String()
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
