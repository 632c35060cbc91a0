package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Tables lists every table of a hub's database, in the order an import writes them (a table
// comes after those its rows name). A table an engine holds that is missing here makes export
// refuse, so a new table is never left behind by a move: add it here with its migration.
var Tables = []string{
	"orgs", "users", "tokens", "conversations", "messages", "receipts", "org_settings", "calls",
	"setup_links", "audit", "grants", "queues", "queue_members", "member_skills", "quick_replies",
	"conv_routing", "queue_visits", "consultants",
}

// Mover is implemented by engines whose databases can be moved to another engine, table by
// table (parley-hub export, import and copy).
type Mover interface {
	// SchemaVersion returns the database's schema version and this hub's.
	SchemaVersion(ctx context.Context) (have, want int, err error)
	// TableNames lists the database's tables, the engine's own bookkeeping left out.
	TableNames(ctx context.Context) ([]string, error)
	// TableColumns lists a table's columns.
	TableColumns(ctx context.Context, table string) ([]string, error)
	// ReadTable calls row for each row of table, in primary-key order; vals holds int64, string,
	// bool or nil, in cols' order.
	ReadTable(ctx context.Context, table string, row func(cols []string, vals []any) error) error
	// WriteTables runs fill in one transaction, fill calling put for each row to insert; an
	// error from fill or put rolls everything back. Values are as ReadTable gives them (an
	// engine converts what its columns need, e.g. 0/1 to a boolean).
	WriteTables(ctx context.Context, fill func(put func(table string, cols []string, vals []any) error) error) error
}

// ErrNotEmpty indicates an import into a database that already holds organisations.
var ErrNotEmpty = errors.New("the target database is not empty: import only into a new database")

// exportHeader is an export's first line.
type exportHeader struct {
	// Format names the file: "parley-export".
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Schema is the schema version of the exported database.
	Schema int `json:"schema"`
}

// tableLine starts a table's rows in an export.
type tableLine struct {
	Table   string   `json:"table"`
	Columns []string `json:"columns"`
}

// endLine is an export's last line: how many rows each table had, so an import can tell a cut
// file from a whole one.
type endLine struct {
	End  bool           `json:"end"`
	Rows map[string]int `json:"rows"`
}

// Export writes every table of src to w as JSON lines: a header, then for each table a line
// naming its columns followed by one JSON array per row, then the row counts. It refuses a
// database with a table it does not know (see Tables).
func Export(ctx context.Context, src Mover, w io.Writer) (map[string]int, error) {
	have, want, err := src.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if have != want {
		return nil, fmt.Errorf("the database's schema is version %d, this parley-hub's %d: run parley-hub migrate first", have, want)
	}
	if err := checkTables(ctx, src); err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(exportHeader{Format: "parley-export", Version: 1, Schema: have}); err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, table := range Tables {
		started := false
		err := src.ReadTable(ctx, table, func(cols []string, vals []any) error {
			if !started {
				started = true
				if err := enc.Encode(tableLine{Table: table, Columns: cols}); err != nil {
					return err
				}
			}
			counts[table]++
			return enc.Encode(vals)
		})
		if err != nil {
			return nil, fmt.Errorf("exporting %s: %w", table, err)
		}
	}
	if err := enc.Encode(endLine{End: true, Rows: counts}); err != nil {
		return nil, err
	}
	return counts, bw.Flush()
}

// checkTables refuses a database holding a table not in Tables.
func checkTables(ctx context.Context, m Mover) error {
	names, err := m.TableNames(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		if !slices.Contains(Tables, n) {
			return fmt.Errorf("the database has a table this parley-hub does not know how to move: %s", n)
		}
	}
	return nil
}

// Import reads an export made by Export into dst, a database with the same schema version and
// no organisation yet, in one transaction: a cut or damaged file, or any refused row, leaves dst
// as it was. It returns how many rows each table received.
func Import(ctx context.Context, dst Mover, r io.Reader) (map[string]int, error) {
	have, want, err := dst.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if have != want {
		return nil, fmt.Errorf("the target database's schema is version %d, this parley-hub's %d", have, want)
	}
	if err := checkEmpty(ctx, dst); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	dec.UseNumber()
	var h exportHeader
	if err := dec.Decode(&h); err != nil || h.Format != "parley-export" {
		return nil, errors.New("the input is not a parley-hub export")
	}
	if h.Version != 1 {
		return nil, fmt.Errorf("the export's format version %d is not one this parley-hub reads", h.Version)
	}
	if h.Schema != have {
		return nil, fmt.Errorf("the export is of schema version %d, this parley-hub's is %d: import with the parley-hub that exported it, or migrate the source first", h.Schema, have)
	}
	counts := map[string]int{}
	err = dst.WriteTables(ctx, func(put func(string, []string, []any) error) error {
		var table string
		var cols []string
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				if errors.Is(err, io.EOF) {
					return errors.New("the export is cut short: its last line (the row counts) is missing")
				}
				return fmt.Errorf("reading the export: %w", err)
			}
			if len(raw) > 0 && raw[0] == '[' {
				if table == "" {
					return errors.New("the export has a row before any table line")
				}
				var vals []any
				d := json.NewDecoder(bytes.NewReader(raw))
				d.UseNumber()
				if err := d.Decode(&vals); err != nil {
					return fmt.Errorf("reading a row of %s: %w", table, err)
				}
				if len(vals) != len(cols) {
					return fmt.Errorf("a row of %s has %d values for %d columns", table, len(vals), len(cols))
				}
				for i, v := range vals {
					if vals[i], err = fromJSON(v); err != nil {
						return fmt.Errorf("%s.%s: %w", table, cols[i], err)
					}
				}
				if err := put(table, cols, vals); err != nil {
					return fmt.Errorf("importing into %s: %w", table, err)
				}
				counts[table]++
				continue
			}
			var line struct {
				tableLine
				endLine
			}
			if err := json.Unmarshal(raw, &line); err != nil {
				return fmt.Errorf("reading the export: %w", err)
			}
			switch {
			case line.End:
				for t, n := range line.Rows {
					if counts[t] != n {
						return fmt.Errorf("the export says %s had %d rows, but it holds %d", t, n, counts[t])
					}
				}
				for t, n := range counts {
					if line.Rows[t] != n {
						return fmt.Errorf("the export holds %d rows of %s, but says it had %d", n, t, line.Rows[t])
					}
				}
				return nil
			case line.Table != "":
				if !slices.Contains(Tables, line.Table) {
					return fmt.Errorf("the export has a table this parley-hub does not know: %s", line.Table)
				}
				table, cols = line.Table, line.Columns
			default:
				return errors.New("the export has a line that is neither a table, a row nor its end")
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// Copy moves every row of src into dst (same schema version, no organisation yet) in one
// transaction on dst, without a file between them.
func Copy(ctx context.Context, src, dst Mover) (map[string]int, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := Export(ctx, src, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	counts, err := Import(ctx, dst, pr)
	pr.CloseWithError(errImportStopped)
	if eerr := <-done; err != nil && eerr != nil && !errors.Is(eerr, errImportStopped) {
		return nil, eerr // the export's failure is the cause
	}
	return counts, err
}

var errImportStopped = errors.New("the import stopped")

// checkEmpty refuses a database that holds any organisation.
func checkEmpty(ctx context.Context, m Mover) error {
	empty := true
	err := m.ReadTable(ctx, "orgs", func([]string, []any) error {
		empty = false
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if !empty {
		return ErrNotEmpty
	}
	return nil
}

var errStop = errors.New("stop")

// fromJSON turns a decoded JSON value into what WriteTables takes: int64, string, bool or nil.
func fromJSON(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool:
		return v, nil
	case json.Number:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s is not a whole number", v)
		}
		return n, nil
	default:
		return nil, fmt.Errorf("unexpected value %v", v)
	}
}
