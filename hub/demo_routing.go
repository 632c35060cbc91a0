package hub

import (
	"context"

	"github.com/parleyhq/parley/wire"
)

// The demo organisation's routing: three queues (General, the default; Sales; Billing, which
// needs the billing skill), a pre-chat question that picks one, both agents in all three (Agent
// One good at billing and Spanish, Agent Two at sales) and a few quick replies. Seeded once: an
// admin's later changes stay.

// demoQueues are the demo organisation's queues.
var demoQueues = []wire.Queue{
	{ID: DefaultQueue, Name: "General", Default: true},
	{ID: "sales", Name: "Sales"},
	{ID: "billing", Name: "Billing", Calls: wire.CallsVoiceOnly, Skills: []wire.Skill{{Name: "billing", Level: 1}}, MaxWaitS: 600},
}

// demoSkills are each demo agent's skills.
var demoSkills = map[string][]wire.Skill{
	"agent1": {{Name: "billing", Level: 2}, {Name: "es", Level: 3}},
	"agent2": {{Name: "sales", Level: 2}},
}

// demoPrechat is the demo organisation's pre-chat question.
var demoPrechat = wire.Prechat{Question: "What is it about?", Choices: []wire.PrechatChoice{
	{ID: "sales", Label: "Buying something", Queue: "sales"},
	{ID: "billing", Label: "Billing", Queue: "billing"},
	{ID: "other", Label: "Something else", Queue: DefaultQueue},
}}

// demoReplies are the demo organisation's quick replies.
var demoReplies = []wire.QuickReply{
	{Scope: wire.QuickReplyOrg, Shortcut: "hello", Text: "Hi {customer_name}, I'm {agent_name}. How can I help?"},
	{Scope: wire.QuickReplyOrg, Shortcut: "bye", Text: "Thanks for chatting with us, {customer_name}. Have a good day!"},
	{Scope: wire.QuickReplyQueue, Queue: "billing", Shortcut: "refund", Text: "I have started your refund: it reaches your account in 3 to 5 working days."},
}

// seedDemoRouting seeds the demo organisation's routing when it has none stored yet.
func (s *Server) seedDemoRouting(ctx context.Context) error {
	stored, err := s.store.Queues(ctx, DemoOrg)
	if err != nil || len(stored) > 0 {
		return err
	}
	for _, q := range demoQueues {
		if _, err := s.SaveQueue(ctx, demoActor, DemoOrg, q); err != nil {
			return err
		}
	}
	queues := make([]wire.QueueID, len(demoQueues))
	for i, q := range demoQueues {
		queues[i] = q.ID
	}
	for _, username := range []string{"agent1", "agent2"} {
		u, err := s.store.UserByName(ctx, DemoOrg, username)
		if err != nil {
			return err
		}
		if err := s.SetMemberRouting(ctx, demoActor, DemoOrg, wire.MemberRouting{User: u.ID, Queues: queues, Skills: demoSkills[username]}); err != nil {
			return err
		}
	}
	if err := s.SetPrechat(ctx, demoActor, DemoOrg, demoPrechat); err != nil {
		return err
	}
	admin, err := s.store.UserByName(ctx, DemoOrg, "admin1")
	if err != nil {
		return err
	}
	for _, q := range demoReplies {
		if _, err := s.SaveQuickReply(ctx, Actor{User: admin.ID, Name: demoActor.Name}, DemoOrg, wire.RoleAdmin, q); err != nil {
			return err
		}
	}
	return nil
}
