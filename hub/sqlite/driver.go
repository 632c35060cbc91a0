package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/parleyhq/parley/hub/store/sqldb"
)

// engine is what the queries both engines share (hub/store/sqldb) need of SQLite: one writer at
// a time, so no row locks; -1 as "no limit"; errors known by their text.
func engine(db *sql.DB, now func() time.Time) sqldb.Engine {
	return sqldb.Engine{Now: now, Driver: sqldb.Driver{
		DB: conn{db},
		Begin: func(ctx context.Context) (sqldb.Tx, error) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return nil, err
			}
			return txConn{conn{tx}, tx}, nil
		},
		IsUnique:     isUnique,
		IsForeignKey: isForeignKey,
		Text:         func(s string) string { return s },
		NoLimit:      -1,
		Least:        "MIN",
		Greatest:     "MAX",
		Catalog: sqldb.Catalog{
			Schema: len(migrations),
			Tables: `SELECT name FROM sqlite_master WHERE type = 'table'
				AND name != 'schema_migrations' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`,
			Columns:    `SELECT name FROM pragma_table_info(?) ORDER BY cid`,
			PrimaryKey: `SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`,
			NoKey:      "rowid",
		},
	}}
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "UNIQUE constraint failed") || strings.Contains(err.Error(), "PRIMARY KEY"))
}

// isForeignKey reports whether err is a foreign-key violation (a row naming one that is missing).
func isForeignKey(err error) bool {
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// sqlRunner is a *sql.DB or a *sql.Tx.
type sqlRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn is a *sql.DB or *sql.Tx as a sqldb.Conn.
type conn struct{ c sqlRunner }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.c.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected() // SQLite always knows
	return n, nil
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqldb.ResultRows, error) {
	rows, err := c.c.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return resultRows{rows}, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	return c.c.QueryRowContext(ctx, query, args...)
}

// resultRows are *sql.Rows as sqldb.ResultRows.
type resultRows struct{ *sql.Rows }

func (r resultRows) Close() { _ = r.Rows.Close() }

// txConn is a *sql.Tx as a sqldb.Tx.
type txConn struct {
	conn
	tx *sql.Tx
}

func (t txConn) Commit(context.Context) error   { return t.tx.Commit() }
func (t txConn) Rollback(context.Context) error { return t.tx.Rollback() }
