package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley/hub/store"
)

var _ store.Mover = (*DB)(nil)

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
