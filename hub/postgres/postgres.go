// Package postgres implements the hub's store.Store on PostgreSQL through jackc/pgx: the store a
// cluster of hub nodes shares. It keeps hub/sqlite's promises (the same numbered migrations, the
// per-conversation seq, idempotent client ids, every write committed before it returns), checked
// by running hub/store/storetest against both engines.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
)

// DB is a store.Store on a PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
	// Engine runs the queries both engines share (hub/store/sqldb); its Now stamps rows.
	sqldb.Engine
}

var _ store.Store = (*DB)(nil)

// migrations are hub/store/sqldb's schema in PostgreSQL's words; the index + 1 is the schema
// version, and version N holds what hub/sqlite's version N holds.
var migrations = sqldb.Migrations(sqldb.PostgreSQL)

// IsDSN reports whether a -db value names a PostgreSQL database (postgres:// or postgresql://)
// rather than a SQLite file.
func IsDSN(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// defaultMaxConns is the pool's size unless the DSN sets pool_max_conns: the routing loop writes
// one transaction at a time, and HTTP requests read beside it.
const defaultMaxConns = 16

// migrationLock is the advisory lock key hubs hold while they migrate, so hubs started together
// migrate once ("parley" in ASCII).
const migrationLock = 0x7061726c6579

// Open connects to the PostgreSQL database dsn names and brings its schema up to date. now
// stamps stored rows; nil means time.Now. Errors never repeat the DSN (it may hold a password).
func Open(ctx context.Context, dsn string, now func() time.Time) (*DB, error) {
	return OpenNode(ctx, dsn, now, "")
}

// OpenNode is Open for a node of a hub cluster: every connection names node in the
// parley.node setting, which the cluster's fence reads (hub/cluster).
func OpenNode(ctx context.Context, dsn string, now func() time.Time, node string) (*DB, error) {
	if now == nil {
		now = time.Now
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("postgres: the database address is not a valid PostgreSQL URL")
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if node != "" {
		cfg.ConnConfig.RuntimeParams["parley.node"] = node
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	d := &DB{Engine: engine(pool, now), pool: pool}
	if err := d.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate %s: %w", Redact(dsn), err)
	}
	return d, nil
}

// Redact returns dsn with its password replaced by "xxxxx", for logs and errors.
func Redact(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "postgres://(unreadable address)"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// Pool is the database's connection pool, for the cluster's leases and bus (hub/cluster).
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// migrate applies the migrations the database has not seen, each in its own transaction under an
// advisory lock, so several hubs starting at once apply each migration once.
func (d *DB) migrate(ctx context.Context) error {
	// Under the migration lock: two hubs running CREATE TABLE IF NOT EXISTS at once can both
	// miss the table and one fail (on its row type, 42710, or its name, 23505).
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return err
	}
	for {
		done, err := d.migrateOne(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration, if any; done is true when there was none.
func (d *DB) migrateOne(ctx context.Context) (done bool, err error) {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return false, err
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return false, err
	}
	if have > len(migrations) {
		return false, fmt.Errorf("database schema version %d is newer than this hub (%d)", have, len(migrations))
	}
	if have == len(migrations) {
		return true, nil
	}
	v := have + 1
	if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
		return false, fmt.Errorf("migration %d: %w", v, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, v, d.Now().UnixMilli()); err != nil {
		return false, err
	}
	return false, tx.Commit(ctx)
}

// Close closes the pool.
func (d *DB) Close() error {
	d.pool.Close()
	return nil
}

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// collect scans every row with scan and closes rows.
func collect[T any](rows pgx.Rows, err error, scan func(sqldb.Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqldb.Collect(rows, scan)
}

// OpenConversationsOf lists org's waiting and active conversations, oldest first (a cluster
// node taking the organisation over).
func (d *DB) OpenConversationsOf(ctx context.Context, org wire.OrgID) ([]wire.Conversation, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.ConvCols+` FROM conversations WHERE org = $1 AND state IN ($2, $3) ORDER BY created_at, id`,
		org, wire.ConvWaiting, wire.ConvActive)
	return collect(rows, err, sqldb.ScanConv)
}

// appendSQL stores one message: a message whose client id is already stored in the conversation
// returns the stored one (dup true) and changes nothing; otherwise the conversation's next seq
// is taken (its row stays locked until the transaction ends, so seqs never clash) and the message
// inserted. A missing conversation returns no row. A message by a person moves activity_at.
const appendSQL = `WITH dup AS (
		SELECT ` + sqldb.MsgCols + ` FROM messages WHERE conv = $1 AND client_id = $5
	), bump AS (
		UPDATE conversations SET last_seq = last_seq + 1,
			activity_at = CASE WHEN $8 THEN GREATEST(activity_at, $7) ELSE activity_at END
		WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM dup) RETURNING last_seq
	), ins AS (
		INSERT INTO messages (conv, seq, author, author_name, text, client_id, at, event, internal)
		SELECT $1, last_seq, $2, $3, $4, $5, $7, $6, $9 FROM bump
		RETURNING ` + sqldb.MsgCols + `
	)
	SELECT true, * FROM dup UNION ALL SELECT false, * FROM ins`

// appendBatch is PostgreSQL's Driver.Append: the messages go to the server in one round trip (a
// pipelined batch of appendSQL), each conversation's row locked by its seq's UPDATE until the
// transaction ends, so hubs writing one conversation at once never take the same seq.
func appendBatch(ctx context.Context, t sqldb.Tx, ms []wire.Message, now func() time.Time) ([]store.Appended, error) {
	b := &pgx.Batch{}
	for _, m := range ms {
		var clientID any
		if m.ClientID != "" {
			clientID = m.ClientID
		}
		b.Queue(appendSQL, m.Conv, m.Author, m.AuthorName, m.Text, clientID, store.EncodeEvent(m.Event),
			now().UnixMilli(), m.Author != wire.AuthorSystem, m.Internal)
	}
	br := t.(txConn).tx.SendBatch(ctx, b)
	res := make([]store.Appended, 0, len(ms))
	var failed error
	for range ms {
		var a store.Appended
		var ev string
		err := br.QueryRow().Scan(&a.Dup, &a.Message.Conv, &a.Message.Seq, &a.Message.Author, &a.Message.AuthorName,
			&a.Message.Text, &a.Message.ClientID, &a.Message.At, &ev, &a.Message.Internal)
		if err != nil && failed == nil {
			failed = sqldb.NotFound(err)
		}
		a.Message.Event = store.DecodeEvent(ev)
		res = append(res, a)
	}
	if err := br.Close(); err != nil && failed == nil {
		failed = err
	}
	if failed != nil {
		return nil, failed
	}
	return res, nil
}

// Version returns the schema version of the database dsn names without changing it (0 for a
// new database), and this hub's.
func Version(ctx context.Context, dsn string) (have, want int, err error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: connecting to %s: %w", Redact(dsn), err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return 0, len(migrations), err
	}
	err = conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have)
	return have, len(migrations), err
}
