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

// demoActor is who the audit log says made the demo organisation.
var demoActor = Actor{Name: "demo seed"}

// demoMembers are the members -demo seeds: two agents who can carry three chats each, a supervisor
// and an admin. admin1 comes first: it is the organisation's first admin.
var demoMembers = []NewMember{
	{Username: "admin1", DisplayName: "Admin One", Role: wire.RoleAdmin, Capacity: 3},
	{Username: "agent1", DisplayName: "Agent One", Role: wire.RoleAgent, Capacity: 3},
	{Username: "agent2", DisplayName: "Agent Two", Role: wire.RoleAgent, Capacity: 3},
	{Username: "super1", DisplayName: "Supervisor One", Role: wire.RoleSupervisor, Capacity: 3},
}

// seedDemo creates the demo organisation (region "na", voice and video calls) and the members
// that are missing, through the same code as `parley-hub init` and the admin console's
// invitations (with the demo password instead of setup links); it is safe to run on every start.
func (s *Server) seedDemo(ctx context.Context) error {
	_, err := s.store.Org(ctx, DemoOrg)
	switch {
	case errors.Is(err, store.ErrNotFound):
		admin := demoMembers[0]
		admin.Password, admin.weakOK = DemoPassword, true
		if _, _, err := s.CreateOrganisation(ctx, demoActor, NewOrg{ID: DemoOrg, Name: "Demo Company", Region: "na", Calls: wire.CallsVoiceVideo}, &admin, ""); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if err := s.upgradeDemoOrg(ctx); err != nil {
			return err
		}
	}
	for _, m := range demoMembers[1:] {
		_, err := s.store.UserByName(ctx, DemoOrg, m.Username)
		if err == nil {
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		m.Password, m.weakOK = DemoPassword, true
		if _, err := s.InviteMember(ctx, demoActor, DemoOrg, m, ""); err != nil {
			return err
		}
	}
	return s.seedDemoRouting(ctx)
}

// upgradeDemoOrg gives a demo organisation seeded before organisations had a region one.
func (s *Server) upgradeDemoOrg(ctx context.Context) error {
	o, err := s.store.Org(ctx, DemoOrg)
	if err != nil || o.Region != "" {
		return err
	}
	o.Region = "na"
	return s.store.UpdateOrg(ctx, o)
}
