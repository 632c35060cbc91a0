package app

import (
	"context"

	"github.com/parleyhq/parley/wire"
)

// Supervisor shows a supervisor the organisation's agents and conversations and assigns them.
type Supervisor struct {
	c *core
}

// Snapshot returns the last picture the hub sent.
func (s *Supervisor) Snapshot() (SupervisorView, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.c.supervisorView(), nil
}

// Close ends an open conversation of the organisation, e.g. one whose customer has gone; the
// transcript says a supervisor closed it.
func (s *Supervisor) Close(conv wire.ConversationID) error {
	_, err := s.c.request(wire.TypeSupervisorClose, wire.ConvRef{Conv: conv})
	if err == nil {
		s.c.log.Info("closed", "conv", conv)
	}
	return err
}

// Assign gives a conversation to an agent, even one at capacity.
func (s *Supervisor) Assign(conv wire.ConversationID, agent wire.UserID) error {
	_, err := s.c.request(wire.TypeSupervisorAssign, wire.Assign{Conv: conv, Agent: agent})
	if err == nil {
		s.c.log.Info("assigned", "conv", conv, "agent", agent)
	}
	return err
}

// Watch starts (on) or stops following a conversation live while its transcript is open: the
// app emits EventWatched with who is typing and the last message's seq at once and on every
// change. Following one conversation stops following the one before.
func (s *Supervisor) Watch(conv wire.ConversationID, on bool) error {
	s.c.mu.Lock()
	if !on && s.c.watching != conv {
		// Another transcript was opened since: that one is followed now.
		s.c.mu.Unlock()
		return nil
	}
	if on {
		s.c.watching = conv
	} else {
		s.c.watching = ""
	}
	s.c.mu.Unlock()
	_, err := s.c.request(wire.TypeSupervisorWatch, wire.Watch{Conv: conv, On: on})
	return err
}

// Transcript returns a conversation's messages after seq after (0: from the start), for a
// supervisor reading along: read-only, and nothing goes back to the customer (no receipt). The
// hub lets a supervisor or admin read any conversation of their organisation.
func (s *Supervisor) Transcript(conv wire.ConversationID, after int64) ([]MessageView, error) {
	l, err := s.c.currentLink()
	if err != nil {
		return nil, err
	}
	out := []MessageView{}
	for range 100 { // pages; bounded
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		msgs, err := l.History(ctx, conv, after)
		cancel()
		if err != nil {
			return nil, err
		}
		if len(msgs) == 0 {
			break
		}
		s.c.mu.Lock()
		off := s.c.offset
		s.c.mu.Unlock()
		for _, m := range msgs {
			out = append(out, MessageView{Conv: m.Conv, Seq: m.Seq, Author: m.Author, AuthorName: m.AuthorName, Text: m.Text, At: m.At - off, Event: m.Event})
			after = max(after, m.Seq)
		}
	}
	return out, nil
}

// Monitor listens to an agent's live call (mode listen), coaches the agent without the customer
// hearing (whisper) or joins the call (barge); asked again it changes the mode of the same leg.
// The app emits EventMonitor as the leg connects, changes and ends. The hub refuses an agent
// with no live call (ENOTFOUND), a call that has a supervisor on it already (ECONFLICT), and
// anyone but a supervisor or admin (EFORBIDDEN).
func (s *Supervisor) Monitor(agent wire.UserID, mode wire.MonitorMode) (MonitorView, error) {
	switch mode {
	case wire.MonitorListen, wire.MonitorWhisper, wire.MonitorBarge:
	default:
		return MonitorView{}, wire.Errorf(wire.EINVALID, "mode must be listen, whisper or barge")
	}
	return s.c.monitor.start(agent, mode)
}

// StopMonitor ends the supervisor's leg, if any; the call goes on.
func (s *Supervisor) StopMonitor() error {
	s.c.monitor.stop()
	return nil
}
