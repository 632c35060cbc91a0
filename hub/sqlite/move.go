package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
)

var _ store.Mover = (*DB)(nil)

// WriteTables implements store.Mover.
func (d *DB) WriteTables(ctx context.Context, fill func(put func(table string, cols []string, vals []any) error) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	err = fill(func(table string, cols []string, vals []any) error {
		key := table + "\x00" + strings.Join(cols, "\x00")
		st := stmts[key]
		if st == nil {
			q := make([]string, len(cols))
			names := make([]string, len(cols))
			for i, c := range cols {
				q[i], names[i] = "?", sqldb.Quote(c)
			}
			var err error
			st, err = tx.PrepareContext(ctx, `INSERT INTO `+sqldb.Quote(table)+` (`+strings.Join(names, ", ")+`) VALUES (`+strings.Join(q, ", ")+`)`)
			if err != nil {
				return err
			}
			stmts[key] = st
		}
		_, err := st.ExecContext(ctx, vals...)
		return err
	})
	if err != nil {
		return err
	}
	return tx.Commit()
}

// Version returns the schema version of the database at path without changing it (0 for a file
// that does not exist yet), and this hub's.
func Version(ctx context.Context, path string) (have, want int, err error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0, len(migrations), nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	var exists int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&exists); err != nil || exists == 0 {
		return 0, len(migrations), err
	}
	err = db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have)
	return have, len(migrations), err
}
