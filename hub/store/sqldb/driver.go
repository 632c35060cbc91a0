package sqldb

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Conn is an engine's connection pool or open transaction, as the queries the two engines share
// use it. Queries are written with ? placeholders; a Conn whose database wants $1, $2 …
// renumbers them (Renumber).
type Conn interface {
	// Exec runs a statement and says how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (affected int64, err error)
	// Query runs a query; the caller closes the rows.
	Query(ctx context.Context, query string, args ...any) (ResultRows, error)
	// QueryRow runs a query that selects one row.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// ResultRows are the rows of a Query, closed by the caller.
type ResultRows interface {
	Rows
	Close()
}

// Tx is an open transaction: Rollback after Commit does nothing.
type Tx interface {
	Conn
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// Driver is what one engine hands Engine: its pool, its transactions, and the few places where
// its SQL or its errors differ from the other engine's.
type Driver struct {
	// DB runs statements outside a transaction.
	DB Conn
	// Begin opens a transaction.
	Begin func(ctx context.Context) (Tx, error)
	// IsUnique reports a unique-constraint violation; IsForeignKey a row naming a missing one.
	IsUnique, IsForeignKey func(error) bool
	// Text readies a person's text for a text column: PostgreSQL's hold no NUL byte (store.Clean).
	Text func(string) string
	// NoLimit is the LIMIT argument that means none: -1 in SQLite, NULL in PostgreSQL.
	NoLimit any
	// ForUpdate ends a SELECT whose rows the transaction locks until it ends: " FOR UPDATE" on
	// PostgreSQL, where hubs write at the same time; empty on SQLite, which has one writer.
	ForUpdate string
	// Least is the SQL function for the smaller of two values (SQLite's MIN, PostgreSQL's LEAST).
	Least string
	// Greatest is the SQL function for the larger of two values (SQLite's MAX, PostgreSQL's
	// GREATEST).
	Greatest string
	// Catalog is where the engine lists its tables, for moving a database (store.Mover).
	Catalog Catalog
	// Append stores messages in tx, in order, each with its conversation's next seq and At
	// stamped now, or, for a client id its conversation already holds, the stored message (Dup);
	// a missing conversation is store.ErrNotFound. Engine.AppendMessages cleans their text and
	// runs it in a transaction. Here the engines differ: SQLite, one writer at a time, runs three
	// prepared statements a message; PostgreSQL, written by several hubs at once, sends all the
	// messages in one round trip, each conversation's row locked by its seq's UPDATE until the
	// transaction ends.
	Append func(ctx context.Context, tx Tx, ms []wire.Message) ([]store.Appended, error)
	// LockAudit, when set, runs in a transaction before it writes an audit row (appendAudit).
	LockAudit string
}

// Engine implements what hub/sqlite and hub/postgres store alike, on a Driver. Each engine's DB
// embeds one and keeps only what differs (opening, migrating, allocating a message's seq, reports).
type Engine struct {
	Driver
	// Now stamps rows; injected for tests.
	Now func() time.Time
}

// inTx runs f in a transaction and commits it when f returns nil.
func (e *Engine) inTx(ctx context.Context, f func(tx Tx) error) error {
	tx, err := e.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// conflict maps a unique-constraint violation to store.ErrConflict and a row naming a missing
// one to store.ErrNotFound, when the statement can break either.
func (e *Engine) conflict(err error) error {
	switch {
	case err == nil:
		return nil
	case e.IsUnique(err):
		return store.ErrConflict
	case e.IsForeignKey(err):
		return store.ErrNotFound
	}
	return err
}

// limit is n as a LIMIT argument, none when n <= 0.
func (e *Engine) limit(n int) any {
	if n <= 0 {
		return e.NoLimit
	}
	return n
}

// queryAll runs a query on c and scans every row with scan.
func queryAll[T any](ctx context.Context, c Conn, scan func(Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := c.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return Collect(rows, scan)
}

// collect scans every row of a Query with scan and closes them.
func collect[T any](rows ResultRows, err error, scan func(Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return Collect(rows, scan)
}

// Renumber rewrites a query's ? placeholders as $1, $2 … for PostgreSQL. A ? inside a quoted
// string or name stays as it is.
func Renumber(query string) string {
	if !strings.ContainsRune(query, '?') {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}
