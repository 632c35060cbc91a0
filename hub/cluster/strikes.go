package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// strikesSchema: failures remembered for a while, by key (the hub's sign-in limits: one row per
// address and account, and per address; keys hold NUL bytes, so they are stored as bytes). A row is forgotten once expires_at (its last failure
// plus the forget time) has passed; rows past it are deleted now and then. Times are the hub's
// clock in Unix milliseconds, as the memory state counts them.
const strikesSchema = `CREATE TABLE IF NOT EXISTS cluster_strikes (
	key        BYTEA PRIMARY KEY,
	n          INTEGER NOT NULL,
	last_at    BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS cluster_strikes_expires ON cluster_strikes(expires_at)`

// prunePeriod is how often Strike deletes forgotten rows.
const prunePeriod = time.Minute

// Strikes counts failures by key in the cluster's database, so that every node sees the same
// count whichever node a failure reached, and a node that takes an organisation over goes on
// counting where the last one stopped.
type Strikes struct {
	pool *pgxpool.Pool
	// pruned is when forgotten rows were last deleted (Unix ms of the callers' clock).
	pruned atomic.Int64
}

// NewStrikes creates the failures table when missing.
func NewStrikes(ctx context.Context, pool *pgxpool.Pool) (*Strikes, error) {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, strikesSchema)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: creating the failures table: %w", err)
	}
	return &Strikes{pool: pool}, nil
}

// Strike records one failure under key at now and returns how many key has had within forget of
// the last one, this one included (a key whose last failure is older than forget starts at 1).
func (s *Strikes) Strike(ctx context.Context, key string, now time.Time, forget time.Duration) (int, error) {
	ms := now.UnixMilli()
	if last := s.pruned.Load(); ms-last > prunePeriod.Milliseconds() && s.pruned.CompareAndSwap(last, ms) {
		if _, err := s.pool.Exec(ctx, `DELETE FROM cluster_strikes WHERE expires_at < $1`, ms); err != nil {
			return 0, fmt.Errorf("cluster: forgetting old failures: %w", err)
		}
	}
	var n int
	err := s.pool.QueryRow(ctx, `INSERT INTO cluster_strikes (key, n, last_at, expires_at) VALUES ($1, 1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET
			n = CASE WHEN cluster_strikes.expires_at < excluded.last_at THEN 1 ELSE cluster_strikes.n + 1 END,
			last_at = excluded.last_at, expires_at = excluded.expires_at
		RETURNING n`, []byte(key), ms, ms+forget.Milliseconds()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("cluster: counting a failure: %w", err)
	}
	return n, nil
}

// Get returns key's failures and when the last one was (0 once forget has passed since).
func (s *Strikes) Get(ctx context.Context, key string, now time.Time) (n int, last time.Time, err error) {
	var lastMS int64
	err = s.pool.QueryRow(ctx, `SELECT n, last_at FROM cluster_strikes WHERE key = $1 AND expires_at >= $2`,
		[]byte(key), now.UnixMilli()).Scan(&n, &lastMS)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("cluster: reading failures: %w", err)
	}
	return n, time.UnixMilli(lastMS), nil
}

// Clear forgets key's failures.
func (s *Strikes) Clear(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM cluster_strikes WHERE key = $1`, []byte(key)); err != nil {
		return fmt.Errorf("cluster: clearing failures: %w", err)
	}
	return nil
}
