package app

import "github.com/parleyhq/parley/wire"

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
