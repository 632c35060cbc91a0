package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
)

// auditLock is the advisory lock key that orders audit writes ("audit" in ASCII).
const auditLock = 0x6175646974

// engine is what the queries both engines share (hub/store/sqldb) need of PostgreSQL: hubs
// write at the same time, so rows are locked FOR UPDATE, audit ids commit in order under an
// advisory lock and messages take their seqs under their conversation's row lock
// (appendBatch); NULL as "no limit"; text without NUL bytes; errors known by their SQLSTATE.
func engine(pool *pgxpool.Pool, now func() time.Time) sqldb.Engine {
	return sqldb.Engine{Now: now, Driver: sqldb.Driver{
		DB: conn{pool},
		Begin: func(ctx context.Context) (sqldb.Tx, error) {
			tx, err := pool.Begin(ctx)
			if err != nil {
				return nil, err
			}
			return txConn{conn{tx}, tx}, nil
		},
		IsUnique:     isUnique,
		IsForeignKey: isForeignKey,
		Text:         clean,
		NoLimit:      nil,
		ForUpdate:    " FOR UPDATE",
		Least:        "LEAST",
		Greatest:     "GREATEST",
		// The cluster's bookkeeping (cluster_*: leases) is not moved: it belongs to the running
		// nodes, not to the hub's data.
		Catalog: sqldb.Catalog{
			Schema: len(migrations),
			Tables: `SELECT table_name FROM information_schema.tables
				WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name != 'schema_migrations'
				AND table_name NOT LIKE 'cluster\_%' ORDER BY table_name`,
			Columns: `SELECT column_name FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
			PrimaryKey: `SELECT a.attname FROM pg_index i
				JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
				WHERE i.indrelid = quote_ident(?)::regclass AND i.indisprimary
				ORDER BY array_position(i.indkey, a.attnum)`,
		},
		LockAudit: `SELECT pg_advisory_xact_lock(` + strconv.FormatInt(auditLock, 10) + `)`,
		Append: func(ctx context.Context, tx sqldb.Tx, ms []wire.Message) ([]store.Appended, error) {
			return appendBatch(ctx, tx, ms, now)
		},
	}}
}

// pgCode is the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return ""
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool { return pgCode(err) == "23505" }

// isForeignKey reports whether err is a foreign-key violation (a row naming one that is missing).
func isForeignKey(err error) bool { return pgCode(err) == "23503" }

// clean is store.Clean.
var clean = store.Clean

// conn is a pool or a transaction as a sqldb.Conn: it numbers the shared queries' ? placeholders.
type conn struct{ q querier }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, sqldb.Renumber(query), args...)
	return tag.RowsAffected(), err
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqldb.ResultRows, error) {
	rows, err := c.q.Query(ctx, sqldb.Renumber(query), args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	return c.q.QueryRow(ctx, sqldb.Renumber(query), args...)
}

// txConn is a pgx.Tx as a sqldb.Tx.
type txConn struct {
	conn
	tx pgx.Tx
}

func (t txConn) Commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t txConn) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }
