package hub

import (
	"context"

	"github.com/parleyhq/parley/wire"
)

// VerifyIDToken runs the hub's check of an ID token for org's provider, for tests that bring a
// token the provider issued to someone else.
func (s *Server) VerifyIDToken(ctx context.Context, org wire.OrgID, raw, nonce string) error {
	c, err := s.ssoSettings(ctx, org)
	if err != nil {
		return err
	}
	p, err := s.provider(ctx, org, c, false)
	if err != nil {
		return err
	}
	_, err = s.verifyIDToken(ctx, org, c, p, raw, nonce)
	return err
}

// RelayURLs lists the URLs of the relays calls are handed, first preferred.
func (s *Server) RelayURLs() []string {
	d := s.relays.Load()
	if d == nil {
		return nil
	}
	var out []string
	for _, r := range d.Relays() {
		out = append(out, r.URLs...)
	}
	return out
}

// ICEPlan is the ICE configuration this hub hands one party of a call in org's region.
func (s *Server) ICEPlan(id wire.CallID, side wire.Author) (*wire.ICEConfig, error) {
	return s.icePlan("", id, side)
}

// PlaybackLinkTTL is how long a signed playback link works.
const PlaybackLinkTTL = playbackLinkTTL

// ExpireRecordings runs the retention sweep once.
func (s *Server) ExpireRecordings(ctx context.Context) { s.expireRecordings(ctx) }
