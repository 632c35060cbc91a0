package app

import "github.com/parleyhq/parley/wire"

// Offers lists the conversations offered to the agent and takes or refuses them.
type Offers struct {
	c *core
}

// List returns the pending offers, oldest first.
func (o *Offers) List() ([]OfferView, error) {
	o.c.mu.Lock()
	defer o.c.mu.Unlock()
	return o.c.offerViews(), nil
}

// Accept takes an offer. On success the conversation becomes active and is opened.
func (o *Offers) Accept(id wire.OfferID) (ConversationView, error) {
	conv, err := o.settle(id, wire.TypeOfferAccept)
	if err != nil {
		return ConversationView{}, err
	}
	o.c.log.Info("offer accepted", "offer", id, "conv", conv)
	return (&Conversations{c: o.c}).Open(conv)
}

// Decline refuses an offer; the hub offers the conversation to someone else.
func (o *Offers) Decline(id wire.OfferID) error {
	_, err := o.settle(id, wire.TypeOfferDecline)
	if err == nil {
		o.c.log.Info("offer declined", "offer", id)
	}
	return err
}

// settle answers an offer and drops it from the pending list, whatever the hub said: an offer
// the hub refuses to settle has expired or been taken.
func (o *Offers) settle(id wire.OfferID, t wire.Type) (wire.ConversationID, error) {
	c := o.c
	c.mu.Lock()
	var convID wire.ConversationID
	var name string
	for _, of := range c.offers {
		if of.ID == id {
			convID, name = of.Conv, of.CustomerName
		}
	}
	c.mu.Unlock()
	if convID == "" {
		return "", ErrNoOffer
	}
	_, err := c.request(t, wire.OfferRef{Offer: id})
	c.mu.Lock()
	var out []emission
	if c.removeOffer(id) {
		out = append(out, emission{EventOffers, c.offerViews()})
	}
	// The hub's conv.state may come after the ack: know the conversation already, so it opens.
	if _, ok := c.convs[convID]; !ok && err == nil && t == wire.TypeOfferAccept {
		c.convs[convID] = &conv{Conversation: wire.Conversation{ID: convID, State: wire.ConvActive, CustomerName: name, AcceptedAt: c.nowMs() + c.offset}}
		out = append(out, emission{EventConversations, c.convViews()})
	}
	c.unlockEmit(out)
	return convID, err
}
