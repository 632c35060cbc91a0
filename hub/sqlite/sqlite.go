// Package sqlite implements the hub's store.Store on SQLite through the pure-Go modernc.org/sqlite
// driver, in WAL mode with a busy timeout and numbered migrations.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// migrations are hub/store/sqldb's schema in SQLite's words; the index + 1 is the schema version.
var migrations = sqldb.Migrations(sqldb.SQLite)

// DB is a store.Store on one SQLite file.
type DB struct {
	db *sql.DB
	// ckpt is a second connection that checkpoints the WAL in the background, so the fsyncs of a
	// checkpoint never stall a write on db.
	ckpt *sql.DB
	// stop ends the checkpointer; done is closed when it has.
	stop, done chan struct{}
	// Prepared statements of the chat path, the hottest.
	findClientID, bumpSeq, insertMsg *sql.Stmt
	// Engine runs the queries both engines share (hub/store/sqldb); its Now stamps rows.
	sqldb.Engine
}

// checkpointEvery is how often the background checkpointer runs.
const checkpointEvery = time.Second

var _ store.Store = (*DB)(nil)

// Synchronous modes (SQLite's PRAGMA synchronous in WAL mode).
const (
	// SyncFull fsyncs the WAL at every commit: a message the hub acknowledged survives a power
	// loss. The default; the chat path's group commit (one transaction per batch of messages)
	// keeps its cost small (see make bench-hub).
	SyncFull = "full"
	// SyncNormal fsyncs only at checkpoints: faster, but a power loss (not a crash of the hub)
	// can roll back the last acknowledged messages.
	SyncNormal = "normal"
)

// Options tune Open.
type Options struct {
	// Now stamps stored rows; nil means time.Now.
	Now func() time.Time
	// Synchronous is SyncFull (the default when empty) or SyncNormal.
	Synchronous string
}

// Open opens (creating if needed) the SQLite database at path and brings its schema up to date.
// now stamps stored rows; nil means time.Now.
func Open(ctx context.Context, path string, now func() time.Time) (*DB, error) {
	return OpenWith(ctx, path, Options{Now: now})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opt Options) (*DB, error) {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	sync := "FULL"
	switch opt.Synchronous {
	case "", SyncFull:
	case SyncNormal:
		sync = "NORMAL"
	default:
		return nil, fmt.Errorf("sqlite: synchronous must be %s or %s, not %q", SyncFull, SyncNormal, opt.Synchronous)
	}
	dsn := func(pragmas ...string) string {
		q := url.Values{}
		for _, p := range append([]string{"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(" + sync + ")", "foreign_keys(1)"}, pragmas...) {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		return "file:" + path + "?" + q.Encode()
	}
	// Writes go through one connection that never checkpoints itself: SQLite has one writer at
	// a time, and one connection keeps writes in order without SQLITE_BUSY.
	db, err := sql.Open("sqlite", dsn("wal_autocheckpoint(0)"))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ckpt, err := sql.Open("sqlite", dsn())
	if err != nil {
		db.Close()
		return nil, err
	}
	ckpt.SetMaxOpenConns(1)
	d := &DB{Engine: engine(db, now), db: db, ckpt: ckpt, stop: make(chan struct{}), done: make(chan struct{})}
	if err := d.migrate(ctx); err != nil {
		d.closeDBs()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&d.findClientID, `SELECT ` + sqldb.MsgCols + ` FROM messages WHERE conv = ? AND client_id = ?`},
		// A message by a person is activity (the auto-close waits for nobody writing); a system
		// line is not.
		{&d.bumpSeq, `UPDATE conversations SET last_seq = last_seq + 1,
			activity_at = CASE WHEN ? THEN MAX(activity_at, ?) ELSE activity_at END WHERE id = ? RETURNING last_seq`},
		{&d.insertMsg, `INSERT INTO messages (conv, seq, author, author_name, text, client_id, at, event, internal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
	} {
		if *p.stmt, err = db.PrepareContext(ctx, p.sql); err != nil {
			d.closeDBs()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
	}
	d.Append = d.appendTx
	go d.checkpointer()
	return d, nil
}

// checkpointer copies the WAL into the database every second without blocking writers
// (PASSIVE), so the WAL stays small and the chat path never waits for a checkpoint's fsync.
func (d *DB) checkpointer() {
	defer close(d.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			if _, err := d.ckpt.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
				continue // busy or closing: the next tick tries again
			}
		}
	}
}

func (d *DB) closeDBs() {
	d.ckpt.Close()
	d.db.Close()
}

// migrate applies the migrations the database has not seen.
func (d *DB) migrate(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	var have int
	if err := d.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return err
	}
	if have > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this hub (%d)", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		tx, err := d.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, d.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the checkpointer, checkpoints what is left, and closes the database.
func (d *DB) Close() error {
	select {
	case <-d.stop:
		return nil
	default:
	}
	close(d.stop)
	<-d.done
	_, _ = d.ckpt.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	d.ckpt.Close()
	return d.db.Close()
}

// appendTx is SQLite's Driver.Append: with one writer at a time, a conversation's next seq is
// its last_seq + 1, read back from the UPDATE that moves it; three prepared statements a message.
func (d *DB) appendTx(ctx context.Context, t sqldb.Tx, ms []wire.Message) ([]store.Appended, error) {
	tx := t.(txConn).tx
	find, bump, insert := tx.StmtContext(ctx, d.findClientID), tx.StmtContext(ctx, d.bumpSeq), tx.StmtContext(ctx, d.insertMsg)
	res := make([]store.Appended, 0, len(ms))
	for _, m := range ms {
		if m.ClientID != "" {
			old, err := sqldb.ScanMsg(find.QueryRowContext(ctx, m.Conv, m.ClientID))
			if err == nil {
				res = append(res, store.Appended{Message: old, Dup: true})
				continue
			}
			if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		m.At = d.Now().UnixMilli()
		if err := bump.QueryRowContext(ctx, m.Author != wire.AuthorSystem, m.At, m.Conv).Scan(&m.Seq); err != nil {
			return nil, sqldb.NotFound(err)
		}
		var clientID any
		if m.ClientID != "" {
			clientID = m.ClientID
		}
		if _, err := insert.ExecContext(ctx, m.Conv, m.Seq, m.Author, m.AuthorName, m.Text, clientID, m.At, store.EncodeEvent(m.Event), m.Internal); err != nil {
			return nil, err
		}
		res = append(res, store.Appended{Message: m})
	}
	return res, nil
}
