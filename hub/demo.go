package hub

import (
	"context"
	"errors"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// DemoOrg is the organisation -demo seeds.
const DemoOrg wire.OrgID = "demo"

// DemoPassword is the password of every demo member.
const DemoPassword = "demo"

// demoMembers are the members -demo seeds: two agents who can carry three chats each, a supervisor
// and an admin.
var demoMembers = []struct {
	username, name string
	role           wire.Role
	capacity       int
}{
	{"agent1", "Agent One", wire.RoleAgent, 3},
	{"agent2", "Agent Two", wire.RoleAgent, 3},
	{"super1", "Supervisor One", wire.RoleSupervisor, 3},
	{"admin1", "Admin One", wire.RoleAdmin, 3},
}

// seedDemo creates the demo organisation (region "na", voice and video calls) and the members
// that are missing; it is safe to run on every start.
func (s *Server) seedDemo(ctx context.Context) error {
	err := s.store.CreateOrg(ctx, store.Org{ID: DemoOrg, Name: "Demo Company", Region: "na", Calls: wire.CallsVoiceVideo})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	if err != nil { // seeded before organisations had a region: give it one
		o, err := s.store.Org(ctx, DemoOrg)
		if err != nil {
			return err
		}
		if o.Region == "" {
			o.Region = "na"
			if err := s.store.UpdateOrg(ctx, o); err != nil {
				return err
			}
		}
	}
	for _, m := range demoMembers {
		_, err := s.store.UserByName(ctx, DemoOrg, m.username)
		if err == nil {
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if _, err := s.CreateMember(ctx, DemoOrg, m.username, m.name, DemoPassword, m.role, m.capacity); err != nil {
			return err
		}
	}
	return nil
}
