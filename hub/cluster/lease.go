// Package cluster holds what lets several hub nodes share one PostgreSQL database. This file is
// the first piece: organisation ownership leases with fencing epochs (docs/cluster.md describes
// the whole design; the hub does not use this package yet).
//
// Each organisation's routing loop must run on exactly one node at a time. A node owns an
// organisation while it holds that organisation's lease: a row of cluster_leases naming the
// node, an epoch, and when the lease expires by the database's clock (so nodes' clocks never
// matter). The owner renews the lease well before it expires; a node that dies or pauses stops
// renewing, and once the lease has expired another node acquires it with the epoch plus one.
//
// A paused old owner may wake up still believing it owns the organisation. Fence makes that
// harmless: every routing write runs in a transaction that first calls Fence with the lease it
// was made under, which fails with ErrFenced unless that very lease (node and epoch) is still the
// live one, and holds the row shared until the write commits, so a takeover waits for writes in
// flight and no write of the old epoch can commit after it.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parleyhq/parley/wire"
)

var (
	// ErrHeld: another node holds a live lease on the organisation.
	ErrHeld = errors.New("cluster: another node owns the organisation")
	// ErrLost: the lease expired or another node took the organisation over; the node must
	// stop routing it (and may Acquire it again, with a new epoch, after rebuilding its state).
	ErrLost = errors.New("cluster: the organisation's lease was lost")
	// ErrFenced: a write made under a lease that is no longer the live one was refused.
	ErrFenced = errors.New("cluster: the write's lease is no longer the organisation's (fenced)")
)

// Lease is a node's ownership of an organisation.
type Lease struct {
	Org  wire.OrgID
	Node string
	// Epoch grows by one at every change of owner (and every re-acquire): writes carry it.
	Epoch int64
	// Expires is when the lease runs out unless renewed, by the database's clock.
	Expires time.Time
}

// Leases acquires, renews and releases one node's leases.
type Leases struct {
	pool *pgxpool.Pool
	node string
	ttl  time.Duration
}

// schemaLock is the advisory lock key under which nodes create the lease table once.
const schemaLock = 0x7061726c6c73

// Schema creates the lease table when missing. Its name starts with cluster_: it is the
// cluster's bookkeeping, left out of parley-hub export (hub/postgres TableNames).
const schema = `CREATE TABLE IF NOT EXISTS cluster_leases (
	org        TEXT PRIMARY KEY,
	node       TEXT NOT NULL,
	epoch      BIGINT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
)`

// New returns node's leases on the database pool reaches, creating the lease table if needed.
// node must be unique among the running nodes (a hub names itself by host, process and a random
// suffix); ttl is how long a lease lasts unless renewed (renew every ttl/3).
func New(ctx context.Context, pool *pgxpool.Pool, node string, ttl time.Duration) (*Leases, error) {
	if node == "" || ttl < 10*time.Millisecond {
		return nil, fmt.Errorf("cluster: a node name and a lease time of at least 10 ms are needed")
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schema)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: creating the lease table: %w", err)
	}
	return &Leases{pool: pool, node: node, ttl: ttl}, nil
}

// Node is the name the leases are held under.
func (l *Leases) Node() string { return l.node }

// TTL is how long a lease lasts unless renewed.
func (l *Leases) TTL() time.Duration { return l.ttl }

// Acquire takes the organisation's lease when nobody holds a live one (or this node does: a
// re-acquire starts a new epoch, fencing the node's own older writes). ErrHeld otherwise. Of
// nodes racing for an expired lease exactly one wins.
func (l *Leases) Acquire(ctx context.Context, org wire.OrgID) (Lease, error) {
	le := Lease{Org: org, Node: l.node}
	err := l.pool.QueryRow(ctx, `INSERT INTO cluster_leases (org, node, epoch, expires_at)
		VALUES ($1, $2, 1, clock_timestamp() + $3 * interval '1 microsecond')
		ON CONFLICT (org) DO UPDATE SET node = excluded.node, epoch = cluster_leases.epoch + 1, expires_at = excluded.expires_at
		WHERE cluster_leases.expires_at <= clock_timestamp() OR cluster_leases.node = excluded.node
		RETURNING epoch, expires_at`, org, l.node, l.ttl.Microseconds()).Scan(&le.Epoch, &le.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return Lease{}, ErrHeld
	}
	if err != nil {
		return Lease{}, fmt.Errorf("cluster: acquiring %s: %w", org, err)
	}
	return le, nil
}

// Renew extends a live lease by the lease time. ErrLost when it expired or moved on: the node
// must stop routing the organisation at once.
func (l *Leases) Renew(ctx context.Context, le Lease) (Lease, error) {
	err := l.pool.QueryRow(ctx, `UPDATE cluster_leases SET expires_at = clock_timestamp() + $4 * interval '1 microsecond'
		WHERE org = $1 AND node = $2 AND epoch = $3 AND expires_at > clock_timestamp()
		RETURNING expires_at`, le.Org, le.Node, le.Epoch, l.ttl.Microseconds()).Scan(&le.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return Lease{}, ErrLost
	}
	if err != nil {
		return Lease{}, fmt.Errorf("cluster: renewing %s: %w", le.Org, err)
	}
	return le, nil
}

// Release gives a lease up at once (a graceful drain), so another node can acquire it without
// waiting for it to expire. Releasing a lease already lost is not an error.
func (l *Leases) Release(ctx context.Context, le Lease) error {
	_, err := l.pool.Exec(ctx, `UPDATE cluster_leases SET expires_at = clock_timestamp() - interval '1 microsecond'
		WHERE org = $1 AND node = $2 AND epoch = $3`, le.Org, le.Node, le.Epoch)
	if err != nil {
		return fmt.Errorf("cluster: releasing %s: %w", le.Org, err)
	}
	return nil
}

// Holder returns the organisation's current lease and whether it is live; a zero Lease when
// no node ever held it.
func (l *Leases) Holder(ctx context.Context, org wire.OrgID) (Lease, bool, error) {
	le := Lease{Org: org}
	var live bool
	err := l.pool.QueryRow(ctx, `SELECT node, epoch, expires_at, expires_at > clock_timestamp() FROM cluster_leases WHERE org = $1`,
		org).Scan(&le.Node, &le.Epoch, &le.Expires, &live)
	if errors.Is(err, pgx.ErrNoRows) {
		return Lease{Org: org}, false, nil
	}
	if err != nil {
		return Lease{}, false, fmt.Errorf("cluster: reading %s's lease: %w", org, err)
	}
	return le, live, nil
}

// Expired lists the organisations whose leases ran out without being released or taken over:
// those of a node that died or paused, for a live node to acquire.
func (l *Leases) Expired(ctx context.Context) ([]wire.OrgID, error) {
	rows, err := l.pool.Query(ctx, `SELECT org FROM cluster_leases WHERE expires_at <= clock_timestamp() ORDER BY org`)
	if err != nil {
		return nil, fmt.Errorf("cluster: listing expired leases: %w", err)
	}
	orgs, err := pgx.CollectRows(rows, pgx.RowTo[wire.OrgID])
	if err != nil {
		return nil, fmt.Errorf("cluster: listing expired leases: %w", err)
	}
	return orgs, nil
}

// Fence checks, inside a write transaction, that le is still the organisation's live lease, and
// keeps the lease row share-locked until the transaction ends: a takeover (which updates the row)
// waits for the write to commit, and once it has committed every write fenced with the old epoch
// fails here with ErrFenced and commits nothing.
func Fence(ctx context.Context, tx pgx.Tx, le Lease) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM cluster_leases
		WHERE org = $1 AND node = $2 AND epoch = $3 AND expires_at > clock_timestamp() FOR SHARE`,
		le.Org, le.Node, le.Epoch).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrFenced
	}
	if err != nil {
		return fmt.Errorf("cluster: fencing %s: %w", le.Org, err)
	}
	return nil
}
