package sqldb

import (
	"context"
	"fmt"
	"strings"
)

// Catalog is where an engine lists its tables, for moving a database to another engine
// (store.Mover). Each query takes a table's name as its one argument, except Tables.
type Catalog struct {
	// Schema is this hub's schema version: the number of its migrations.
	Schema int
	// Tables selects the names of the hub's tables, the engine's own bookkeeping left out.
	Tables string
	// Columns selects a table's column names, in the table's order.
	Columns string
	// PrimaryKey selects a table's primary-key column names, in key order.
	PrimaryKey string
	// NoKey orders the rows of a table without a primary key: SQLite's rowid; empty leaves them
	// unordered (PostgreSQL).
	NoKey string
}

// Quote quotes an identifier.
func Quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

// SchemaVersion implements store.Mover.
func (e *Engine) SchemaVersion(ctx context.Context) (have, want int, err error) {
	err = e.DB.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have)
	return have, e.Catalog.Schema, err
}

// TableNames implements store.Mover.
func (e *Engine) TableNames(ctx context.Context) ([]string, error) {
	return queryAll(ctx, e.DB, ScanString, e.Catalog.Tables)
}

// TableColumns implements store.Mover.
func (e *Engine) TableColumns(ctx context.Context, table string) ([]string, error) {
	return queryAll(ctx, e.DB, ScanString, e.Catalog.Columns, table)
}

// ReadTable implements store.Mover. Values come as int64, string, bool or nil whatever the
// engine's driver hands out (SQLite's text as bytes, PostgreSQL's smaller integers).
func (e *Engine) ReadTable(ctx context.Context, table string, row func(cols []string, vals []any) error) error {
	cols, err := e.TableColumns(ctx, table)
	if err != nil {
		return err
	}
	pk, err := queryAll(ctx, e.DB, func(r Row) (string, error) {
		c, err := ScanString(r)
		return Quote(c), err
	}, e.Catalog.PrimaryKey, table)
	if err != nil {
		return err
	}
	if len(pk) == 0 && e.Catalog.NoKey != "" {
		pk = []string{e.Catalog.NoKey}
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = Quote(c)
	}
	order := ""
	if len(pk) > 0 {
		order = ` ORDER BY ` + strings.Join(pk, ", ")
	}
	rows, err := e.DB.Query(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+Quote(table)+order)
	if err != nil {
		return err
	}
	defer rows.Close()
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
			case nil, int64, string, bool:
				out[i] = v
			case []byte:
				out[i] = string(v)
			case int32:
				out[i] = int64(v)
			case int16:
				out[i] = int64(v)
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
