package main

// The headless agent's built-in co-browse (-cobrowse): after a conversation's first customer
// message it invites the customer to co-browse and shares the PIN in the chat. Once the customer
// accepts, it reassembles the recorded page (and appends every batch to -cobrowse-record, so a
// test can check what reached the agent), points the laser at a quarter across and half down
// whenever the page changes (at most once a second),
// and, when the customer grants control, types -cobrowse-type into the element whose id is
// -cobrowse-field (each of a comma-separated list). After the customer takes control back it tries once more and logs the refusal.
// With -screenshare it invites to the built-in screen share instead and logs the share's state
// and first frame. The loopback MJPEG URL carries a token that lets anyone on the machine watch
// the customer's screen: the log shows it without the token, and -screenshare-urls writes it
// whole to a file only the agent's user can read.

import (
	"encoding/json"
	"flag"
	"os"
	"strings"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/wire"
)

// cobrowse is the -cobrowse mode's flags and state; it lives on the Run goroutine only.
type cobrowse struct {
	on     bool
	screen bool
	record string
	field  string
	text   string
	urls   string // -screenshare-urls

	out     *os.File
	invited map[wire.ConversationID]bool
	// parts are the chunks of the batch being received, per engagement.
	parts map[wire.VisualID][]string
	// nodes maps element id attributes to the recorder's node ids, from what was received.
	nodes map[string]int64
	// control is the last control state seen, and typed whether we typed, per engagement.
	control map[wire.VisualID]bool
	typed   map[wire.VisualID]bool
	// pointed is when the laser was last moved, per engagement.
	pointed map[wire.VisualID]time.Time
	// written are the screen shares whose URL went to -screenshare-urls.
	written map[wire.VisualID]bool
}

// withoutToken is a loopback MJPEG URL with its token (the last path segment) left out, for logs.
func withoutToken(u string) string {
	if i := strings.LastIndexByte(u, '/'); i >= 0 && strings.HasPrefix(u, "http") {
		return u[:i+1] + "…"
	}
	return u
}

// appendLine appends line to the file at path, creating it readable by its owner only.
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (m *Main) cobrowseFlags(fl *flag.FlagSet) {
	fl.BoolVar(&m.cb.on, "cobrowse", false, "invite each conversation's customer to a built-in co-browse after their first message")
	fl.BoolVar(&m.cb.screen, "screenshare", false, "invite each conversation's customer to a built-in screen share after their first message (logs the first frame)")
	fl.StringVar(&m.cb.urls, "screenshare-urls", "", "append each screen share's loopback MJPEG URL (it holds the stream's token) to this file, mode 0600, as \"visual url\" lines")
	fl.StringVar(&m.cb.record, "cobrowse-record", "", "append every co-browse batch received to this file (JSON lines)")
	fl.StringVar(&m.cb.field, "cobrowse-field", "name", "id of the element to type into once the customer grants control (a comma-separated list types into each; the first is tried again after control is taken back)")
	fl.StringVar(&m.cb.text, "cobrowse-type", " via agent", "what to type into it")
}

// cobrowseEvent acts on one event of the services, before Run's own handling.
func (m *Main) cobrowseEvent(data any, states map[wire.ConversationID]wire.ConvState) {
	cb := &m.cb
	if !cb.on && !cb.screen {
		return
	}
	if cb.invited == nil {
		cb.invited, cb.parts, cb.nodes = map[wire.ConversationID]bool{}, map[wire.VisualID][]string{}, map[string]int64{}
		cb.control, cb.typed, cb.pointed = map[wire.VisualID]bool{}, map[wire.VisualID]bool{}, map[wire.VisualID]time.Time{}
		cb.written = map[wire.VisualID]bool{}
		if cb.record != "" {
			f, err := os.OpenFile(cb.record, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				m.log.Warn("cobrowse record", "err", err)
			} else {
				cb.out = f
			}
		}
	}
	switch d := data.(type) {
	case app.MessageView:
		if d.Author != wire.AuthorCustomer || cb.invited[d.Conv] || states[d.Conv] != wire.ConvActive {
			return
		}
		cb.invited[d.Conv] = true
		kind, label := wire.VisualCobrowse, "Co-browse"
		if cb.screen {
			kind, label = wire.VisualScreenShare, "Screen share"
		}
		v, err := m.svc.Visual.Start(d.Conv, kind)
		if err != nil {
			m.log.Warn("visual invite failed", "conv", d.Conv, "kind", kind, "code", wire.ErrorCode(err))
			return
		}
		m.log.Info("visual invited", "conv", d.Conv, "visual", v.ID, "kind", kind)
		if _, err := m.svc.Visual.SharePIN(d.Conv, label+" PIN: {pin}"); err != nil {
			m.log.Warn("cobrowse pin not shared", "conv", d.Conv, "code", wire.ErrorCode(err))
		}
	case wire.VisualEvent:
		cb.chunk(m, d)
	case app.ScreenShareView:
		m.log.Info("screenshare", "visual", d.Visual, "connection", d.Connection, "frames", d.Frames, "width", d.Width, "height", d.Height, "url", withoutToken(d.URL))
		if d.Frames && cb.urls != "" && !cb.written[d.Visual] {
			cb.written[d.Visual] = true
			if err := appendLine(cb.urls, string(d.Visual)+" "+d.URL); err != nil {
				m.log.Warn("screenshare urls", "err", err)
			}
		}
	case app.VisualView:
		for _, e := range d.Engagements {
			if e.Kind != wire.VisualCobrowse {
				continue
			}
			was := cb.control[e.ID]
			cb.control[e.ID] = e.Control
			if e.State != wire.VisualActive || was == e.Control {
				continue
			}
			m.log.Info("cobrowse control", "visual", e.ID, "granted", e.Control)
			switch {
			case e.Control && !cb.typed[e.ID]:
				cb.typed[e.ID] = true
				for _, f := range strings.Split(cb.field, ",") {
					cb.typeInto(m, e.ID, f, cb.text)
				}
			case !e.Control && cb.typed[e.ID]:
				// Taken back: the hub must refuse this.
				first, _, _ := strings.Cut(cb.field, ",")
				cb.typeInto(m, e.ID, first, "!")
			}
		}
	}
}

// typeInto sends a type command into the element with the given id attribute. The page may
// still refuse it (a protected field): the app logs the visual.result that says so.
func (cb *cobrowse) typeInto(m *Main, id wire.VisualID, field, text string) {
	node := cb.nodes[field]
	if node == 0 {
		m.log.Warn("cobrowse field not in the page", "field", field)
		return
	}
	err := m.svc.Visual.Command(wire.VisualCommand{Visual: id, Action: wire.ActionType, Node: node, Text: text})
	if err != nil {
		m.log.Info("cobrowse command refused", "visual", id, "code", wire.ErrorCode(err))
		return
	}
	m.log.Info("cobrowse typed", "visual", id, "field", field, "node", node, "bytes", len(text))
}

// chunk adds one frame; a complete batch is recorded and its nodes learnt.
func (cb *cobrowse) chunk(m *Main, ev wire.VisualEvent) {
	if ev.Part == 0 {
		cb.parts[ev.Visual] = nil
	} else if len(cb.parts[ev.Visual]) != ev.Part {
		m.log.Warn("cobrowse chunk out of order", "visual", ev.Visual, "seq", ev.Seq, "part", ev.Part)
		cb.parts[ev.Visual] = nil
		return
	}
	cb.parts[ev.Visual] = append(cb.parts[ev.Visual], ev.Data)
	if len(cb.parts[ev.Visual]) < ev.Parts {
		return
	}
	text := strings.Join(cb.parts[ev.Visual], "")
	cb.parts[ev.Visual] = nil
	var events []json.RawMessage
	if err := json.Unmarshal([]byte(text), &events); err != nil {
		m.log.Warn("cobrowse batch malformed", "visual", ev.Visual, "seq", ev.Seq, "code", wire.EINVALID)
		return
	}
	full := false
	for _, e := range events {
		var head struct {
			Type int             `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(e, &head) != nil {
			continue
		}
		if head.Type == 2 {
			full = true
		}
		learnNodes(head.Data, cb.nodes)
	}
	m.log.Info("cobrowse batch", "visual", ev.Visual, "seq", ev.Seq, "events", len(events), "bytes", len(text), "full_snapshot", full)
	// The page is there: point at it (again at most once a second, so the dot stays lit).
	if time.Since(cb.pointed[ev.Visual]) > time.Second {
		cb.pointed[ev.Visual] = time.Now()
		err := m.svc.Visual.Pointer(wire.VisualPointer{Visual: ev.Visual, X: 0.25, Y: 0.5, Visible: true})
		m.log.Info("cobrowse pointed", "visual", ev.Visual, "x", 0.25, "y", 0.5, "code", wire.ErrorCode(err))
	}
	if cb.out != nil {
		line, _ := json.Marshal(map[string]any{"visual": ev.Visual, "seq": ev.Seq, "data": text})
		_, _ = cb.out.Write(append(line, '\n'))
	}
}

// learnNodes walks serialized rrweb nodes anywhere in v (full snapshots, added nodes) and maps
// their id attributes to node ids.
func learnNodes(raw json.RawMessage, nodes map[string]int64) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return
	}
	var walk func(any, int)
	walk = func(x any, depth int) {
		if depth > 200 {
			return
		}
		switch t := x.(type) {
		case map[string]any:
			if attrs, ok := t["attributes"].(map[string]any); ok {
				if elID, ok := attrs["id"].(string); ok {
					if n, ok := t["id"].(float64); ok && n > 0 {
						nodes[elID] = int64(n)
					}
				}
			}
			for _, c := range t {
				walk(c, depth+1)
			}
		case []any:
			for _, c := range t {
				walk(c, depth+1)
			}
		}
	}
	walk(v, 0)
}
