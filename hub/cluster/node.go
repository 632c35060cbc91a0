package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parleyhq/parley/wire"
)

// NodeSetting is the PostgreSQL setting a node's connections carry its name in (a startup
// parameter set by hub/postgres OpenNode). The fence trigger below reads it: a row of an
// organisation written on a connection naming a node must be written while that node holds the
// organisation's live lease. Connections without it (parley-hub's subcommands, import) are not
// fenced.
const NodeSetting = "parley.node"

// nodeSchema: the live nodes (a heartbeat row each, with the URL the other nodes proxy to), the
// secret the nodes prove to each other that a proxied request came from one of them, and the fence
// on routing writes.
//
// The fence runs inside the writing statement's own transaction: it share-locks the lease row, so
// a takeover (which updates the row) waits for the write to commit, and once another node holds
// the lease every write of the old owner fails with SQLSTATE PF001 and commits nothing. A node's
// name carries a random part per process, so a restarted node never passes for its old self.
const nodeSchema = `
CREATE TABLE IF NOT EXISTS cluster_nodes (
	node     TEXT PRIMARY KEY,
	url      TEXT NOT NULL,
	seen_at  TIMESTAMPTZ NOT NULL,
	draining BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS cluster_secret (
	id     INT PRIMARY KEY,
	secret TEXT NOT NULL
);
CREATE OR REPLACE FUNCTION cluster_fence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	me TEXT := current_setting('parley.node', true);
BEGIN
	IF me IS NULL OR me = '' THEN
		RETURN NEW;
	END IF;
	PERFORM 1 FROM cluster_leases l
		WHERE l.org = NEW.org AND l.node = me AND l.expires_at > clock_timestamp() FOR SHARE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'parley cluster: node % does not hold organisation %''s lease (fenced)', me, NEW.org
			USING ERRCODE = 'PF001';
	END IF;
	RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER cluster_fence BEFORE INSERT OR UPDATE ON conversations
	FOR EACH ROW EXECUTE FUNCTION cluster_fence();
CREATE OR REPLACE TRIGGER cluster_fence BEFORE INSERT OR UPDATE ON calls
	FOR EACH ROW EXECUTE FUNCTION cluster_fence();
CREATE OR REPLACE TRIGGER cluster_fence BEFORE INSERT OR UPDATE ON queue_visits
	FOR EACH ROW EXECUTE FUNCTION cluster_fence();
`

// FencedCode is the SQLSTATE of a write the fence refused.
const FencedCode = "PF001"

// Nodes is the registry of live nodes, and the fence, on a hub's database (its schema must be
// migrated: the fence guards its conversations, calls and queue visits).
type Nodes struct {
	pool *pgxpool.Pool
}

// NewNodes creates the node registry and the fence when missing.
func NewNodes(ctx context.Context, pool *pgxpool.Pool) (*Nodes, error) {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, schema); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, nodeSchema)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: creating the node registry: %w", err)
	}
	return &Nodes{pool: pool}, nil
}

// Secret returns the cluster's shared secret, made by the first node.
func (n *Nodes) Secret(ctx context.Context) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	if _, err := n.pool.Exec(ctx, `INSERT INTO cluster_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`,
		hex.EncodeToString(b)); err != nil {
		return "", fmt.Errorf("cluster: storing the secret: %w", err)
	}
	var s string
	if err := n.pool.QueryRow(ctx, `SELECT secret FROM cluster_secret WHERE id = 1`).Scan(&s); err != nil {
		return "", fmt.Errorf("cluster: reading the secret: %w", err)
	}
	return s, nil
}

// Heartbeat says node is alive at url (and whether it is draining: handing its organisations over).
func (n *Nodes) Heartbeat(ctx context.Context, node, url string, draining bool) error {
	_, err := n.pool.Exec(ctx, `INSERT INTO cluster_nodes (node, url, seen_at, draining) VALUES ($1, $2, clock_timestamp(), $3)
		ON CONFLICT (node) DO UPDATE SET url = excluded.url, seen_at = excluded.seen_at, draining = excluded.draining`, node, url, draining)
	if err != nil {
		return fmt.Errorf("cluster: heartbeat: %w", err)
	}
	return nil
}

// Leave removes node from the registry (it stopped).
func (n *Nodes) Leave(ctx context.Context, node string) error {
	_, err := n.pool.Exec(ctx, `DELETE FROM cluster_nodes WHERE node = $1`, node)
	return err
}

// Node is a registered node.
type Node struct {
	Name, URL string
	Draining  bool
}

// Lookup returns node's registration; ok is false when it never registered or left.
func (n *Nodes) Lookup(ctx context.Context, node string) (Node, bool, error) {
	nd := Node{Name: node}
	err := n.pool.QueryRow(ctx, `SELECT url, draining FROM cluster_nodes WHERE node = $1`, node).Scan(&nd.URL, &nd.Draining)
	if errors.Is(err, pgx.ErrNoRows) {
		return Node{}, false, nil
	}
	if err != nil {
		return Node{}, false, fmt.Errorf("cluster: looking %s up: %w", node, err)
	}
	return nd, true, nil
}

// Share is how many organisations one node should own: every organisation over the live nodes
// that are not draining (seen within within microseconds), rounded up; at least 1.
func (n *Nodes) Share(ctx context.Context, within int64) (int, error) {
	var orgs, nodes int
	err := n.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM orgs),
		(SELECT count(*) FROM cluster_nodes WHERE NOT draining AND seen_at > clock_timestamp() - $1 * interval '1 microsecond')`,
		within).Scan(&orgs, &nodes)
	if err != nil {
		return 0, fmt.Errorf("cluster: counting: %w", err)
	}
	if nodes < 1 {
		nodes = 1
	}
	return max(1, (orgs+nodes-1)/nodes), nil
}

// Unheld lists the organisations no node holds a live lease on: never held, released by a
// draining node, or left by a node that died.
func (n *Nodes) Unheld(ctx context.Context) ([]wire.OrgID, error) {
	rows, err := n.pool.Query(ctx, `SELECT o.id FROM orgs o
		LEFT JOIN cluster_leases l ON l.org = o.id AND l.expires_at > clock_timestamp()
		WHERE l.org IS NULL ORDER BY o.id`)
	if err != nil {
		return nil, fmt.Errorf("cluster: listing unheld organisations: %w", err)
	}
	orgs, err := pgx.CollectRows(rows, pgx.RowTo[wire.OrgID])
	if err != nil {
		return nil, fmt.Errorf("cluster: listing unheld organisations: %w", err)
	}
	return orgs, nil
}
