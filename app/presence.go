package app

import "github.com/parleyhq/parley/wire"

// Presence reads and changes the agent's availability.
type Presence struct {
	c *core
}

// Current returns the agent's presence, load and capacity.
func (p *Presence) Current() (wire.AgentState, error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return p.c.agent, nil
}

// Set changes the agent's presence to available, busy or away (offline is not a choice: it is
// what an agent without a connection is). The hub confirms with an agent.state event.
func (p *Presence) Set(presence wire.Presence) error {
	switch presence {
	case wire.PresenceAvailable, wire.PresenceBusy, wire.PresenceAway:
	default:
		return wire.Errorf(wire.EINVALID, "unknown presence %q", presence)
	}
	_, err := p.c.request(wire.TypePresenceSet, wire.PresenceSet{Presence: presence})
	return err
}
