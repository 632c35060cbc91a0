package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
)

var _ store.Mover = (*DB)(nil)

// SchemaVersion implements store.Mover.
func (d *DB) SchemaVersion(ctx context.Context) (have, want int, err error) {
	err = d.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have)
	return have, len(migrations), err
}

// TableNames implements store.Mover.
func (d *DB) TableNames(ctx context.Context) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name != 'schema_migrations' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	return collect(rows, err, sqldb.ScanString)
}

// TableColumns implements store.Mover.
func (d *DB) TableColumns(ctx context.Context, table string) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	return collect(rows, err, sqldb.ScanString)
}

// quote quotes an identifier.
func quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

// primaryKey returns table's primary-key columns, in key order.
func (d *DB) primaryKey(ctx context.Context, table string) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, quote(c))
	}
	if len(cols) == 0 {
		cols = []string{"rowid"}
	}
	return cols, rows.Err()
}

// ReadTable implements store.Mover.
func (d *DB) ReadTable(ctx context.Context, table string, row func(cols []string, vals []any) error) error {
	pk, err := d.primaryKey(ctx, table)
	if err != nil {
		return err
	}
	rows, err := d.db.QueryContext(ctx, `SELECT * FROM `+quote(table)+` ORDER BY `+strings.Join(pk, ", "))
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case nil, int64, string:
				out[i] = v
			case []byte:
				out[i] = string(v)
			case bool:
				out[i] = v
			default:
				return fmt.Errorf("%s.%s holds a %T", table, cols[i], v)
			}
		}
		if err := row(cols, out); err != nil {
			return err
		}
	}
	return rows.Err()
}

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
				q[i], names[i] = "?", quote(c)
			}
			var err error
			st, err = tx.PrepareContext(ctx, `INSERT INTO `+quote(table)+` (`+strings.Join(names, ", ")+`) VALUES (`+strings.Join(q, ", ")+`)`)
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
