package nettest

import (
	"context"
	"net/http"
	"net/url"

	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// HubAPI is a [Hub] reached with a member's token: the plan and the end through the hub's HTTP
// API, the round trips through the session's WebSocket (PingFunc).
type HubAPI struct {
	// URL is the hub's base URL and Token the member's.
	URL, Token string
	// Org is the member's organisation.
	Org wire.OrgID
	// PingFunc makes one round trip over the signed-in session's WebSocket.
	PingFunc func(ctx context.Context) error
}

// Ping implements [Hub].
func (h HubAPI) Ping(ctx context.Context) error { return h.PingFunc(ctx) }

// Plan implements [Hub].
func (h HubAPI) Plan(ctx context.Context) (wire.NetworkTest, error) {
	var nt wire.NetworkTest
	err := client.API(ctx, h.URL, http.MethodPost, "/api/v1/orgs/"+url.PathEscape(string(h.Org))+"/network-test", h.Token, nil, &nt)
	return nt, err
}

// End implements [Hub].
func (h HubAPI) End(ctx context.Context, id string) error {
	return client.API(ctx, h.URL, http.MethodDelete, "/api/v1/orgs/"+url.PathEscape(string(h.Org))+"/network-test/"+url.PathEscape(id), h.Token, nil, nil)
}
