package app

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// Quick replies: the organisation's, the queues' and the agent's own canned responses, found with
// "/" in the composer. The hub keeps them (hub/quickreplies.go); the UI fills the placeholders
// ({customer_name}, {agent_name}, {queue}) when the agent picks one, and shows a queue's replies
// only in that queue's conversations.

// QuickReplies returns the quick replies the agent may use, by shortcut.
func (cs *Conversations) QuickReplies() ([]wire.QuickReply, error) {
	var out []wire.QuickReply
	if err := cs.c.hubAPI("GET", "/quick-replies", nil, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []wire.QuickReply{}
	}
	return out, nil
}

// SaveQuickReply stores one of the agent's own quick replies (id "" for a new one) and returns
// it as saved. The shortcut is what follows "/": lower-case letters, digits, - and _.
func (cs *Conversations) SaveQuickReply(id wire.QuickReplyID, shortcut, text string) (wire.QuickReply, error) {
	q := wire.QuickReply{Scope: wire.QuickReplyPersonal, Shortcut: strings.TrimPrefix(strings.TrimSpace(shortcut), "/"), Text: strings.TrimSpace(text)}
	if q.Shortcut == "" || q.Text == "" {
		return wire.QuickReply{}, wire.Errorf(wire.EINVALID, "a quick reply needs a shortcut and a text")
	}
	method, path := "POST", "/quick-replies"
	if id != "" {
		method, path = "PUT", "/quick-replies/"+url.PathEscape(string(id))
	}
	var saved wire.QuickReply
	if err := cs.c.hubAPI(method, path, q, &saved); err != nil {
		return wire.QuickReply{}, err
	}
	cs.c.log.Info("quick reply saved", "shortcut", saved.Shortcut)
	return saved, nil
}

// DeleteQuickReply removes one of the agent's own quick replies.
func (cs *Conversations) DeleteQuickReply(id wire.QuickReplyID) error {
	return cs.c.hubAPI("DELETE", "/quick-replies/"+url.PathEscape(string(id)), nil, nil)
}

// hubAPI calls the organisation's HTTP API (path after /api/v1/orgs/{org}) with the session's
// token; a failure is the hub's *wire.Error or ErrHubUnreachable.
func (c *core) hubAPI(method, path string, in, out any) error {
	c.mu.Lock()
	token, hubURL, user := c.token, c.session.HubURL, c.session.User
	c.mu.Unlock()
	if token == "" || user == nil {
		return ErrNotSignedIn
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	err := client.API(ctx, hubURL, method, "/api/v1/orgs/"+url.PathEscape(string(user.Org))+path, token, in, out)
	if err != nil {
		var werr *wire.Error
		if !errors.As(err, &werr) {
			return ErrHubUnreachable
		}
		return werr
	}
	return nil
}
