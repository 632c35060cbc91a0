package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
)

var _ store.Mover = (*DB)(nil)

// TableNames implements store.Mover. The cluster's bookkeeping (cluster_*: leases) is left out:
// it belongs to the running nodes, not to the hub's data.
func (d *DB) TableNames(ctx context.Context) ([]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name != 'schema_migrations'
		AND table_name NOT LIKE 'cluster\_%' ORDER BY table_name`)
	return collect(rows, err, sqldb.ScanString)
}

// TableColumns implements store.Mover.
func (d *DB) TableColumns(ctx context.Context, table string) ([]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	return collect(rows, err, sqldb.ScanString)
}

// primaryKey returns table's primary-key columns, in key order.
func (d *DB) primaryKey(ctx context.Context, table string) ([]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = $1::regclass AND i.indisprimary
		ORDER BY array_position(i.indkey, a.attnum)`, pgx.Identifier{table}.Sanitize())
	return collect(rows, err, func(row sqldb.Row) (string, error) {
		var n string
		err := row.Scan(&n)
		return pgx.Identifier{n}.Sanitize(), err
	})
}

// ReadTable implements store.Mover.
func (d *DB) ReadTable(ctx context.Context, table string, row func(cols []string, vals []any) error) error {
	pk, err := d.primaryKey(ctx, table)
	if err != nil {
		return err
	}
	order := ""
	if len(pk) > 0 {
		order = ` ORDER BY ` + strings.Join(pk, ", ")
	}
	rows, err := d.pool.Query(ctx, `SELECT * FROM `+pgx.Identifier{table}.Sanitize()+order)
	if err != nil {
		return err
	}
	defer rows.Close()
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		for i, v := range vals {
			switch v := v.(type) {
			case nil, int64, string, bool:
			case int32:
				vals[i] = int64(v)
			case int16:
				vals[i] = int64(v)
			default:
				return fmt.Errorf("%s.%s holds a %T", table, cols[i], v)
			}
		}
		if err := row(cols, vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// copyChunk is how many rows WriteTables sends in one COPY.
const copyChunk = 2000

// WriteTables implements store.Mover. Rows go in with COPY, in chunks; a boolean column takes
// SQLite's 0 and 1; identity columns continue after the highest id written.
func (d *DB) WriteTables(ctx context.Context, fill func(put func(table string, cols []string, vals []any) error) error) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var (
		table string
		cols  []string
		types map[string]string
		rows  [][]any
	)
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		rows = rows[:0]
		return err
	}
	err = fill(func(t string, cs []string, vals []any) error {
		if t != table || !slices.Equal(cs, cols) {
			if err := flush(); err != nil {
				return err
			}
			table, cols = t, cs
			if types, err = columnTypes(ctx, tx, t); err != nil {
				return err
			}
			for _, c := range cs {
				if types[c] == "" {
					return fmt.Errorf("the database has no column %s.%s", t, c)
				}
			}
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = v
			if n, ok := v.(int64); ok && types[cols[i]] == "boolean" {
				row[i] = n != 0
			}
			if s, ok := v.(string); ok {
				row[i] = clean(s)
			}
		}
		rows = append(rows, row)
		if len(rows) >= copyChunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('audit', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM audit`); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// columnTypes maps table's columns to their data types.
func columnTypes(ctx context.Context, tx pgx.Tx, table string) (map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			return nil, err
		}
		types[c] = t
	}
	return types, rows.Err()
}
