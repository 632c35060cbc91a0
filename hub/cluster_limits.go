package hub

import (
	"log/slog"
	"time"

	"github.com/parleyhq/parley/hub/cluster"
)

// clusterLimits is a cluster node's LimitState: failures (the sign-in limits, signin.go) are
// counted in the cluster's database, so they hold whichever node a sign-in reaches and across a
// takeover; rates and connections held stay in the node's memory. Those are counted where the
// connection or request is served: an organisation's on its owner (relayed to it with the
// client's address), the connections that have not said hello yet on the node holding the
// socket (docs/cluster.md, "Limits").
type clusterLimits struct {
	LimitState
	strikes *cluster.Strikes
	log     *slog.Logger
}

// Strike counts a failure in the database. When the database does not answer the failure is
// counted in this node's memory instead (the sign-in it follows has failed anyway).
func (c clusterLimits) Strike(key string, now time.Time, forget time.Duration) int {
	ctx, cancel := dbctx()
	defer cancel()
	n, err := c.strikes.Strike(ctx, key, now, forget)
	if err != nil {
		c.log.Warn("failed sign-in counted on this node only", "err", err)
		return c.LimitState.Strike(key, now, forget)
	}
	return n
}

// Strikes reads a key's failures from the database, or from this node's memory when the
// database does not answer.
func (c clusterLimits) Strikes(key string, now time.Time, forget time.Duration) (int, time.Time) {
	ctx, cancel := dbctx()
	defer cancel()
	n, last, err := c.strikes.Get(ctx, key, now)
	if err != nil {
		c.log.Warn("reading failed sign-ins from the database", "err", err)
		return c.LimitState.Strikes(key, now, forget)
	}
	return n, last
}

// Clear forgets a key's failures in the database and in this node's memory.
func (c clusterLimits) Clear(key string) {
	c.LimitState.Clear(key)
	ctx, cancel := dbctx()
	defer cancel()
	if err := c.strikes.Clear(ctx, key); err != nil {
		c.log.Warn("clearing failed sign-ins", "err", err)
	}
}
