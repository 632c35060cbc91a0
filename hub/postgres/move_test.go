package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/hub/postgres"
	"github.com/parleyhq/parley/hub/sqlite"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/storetest"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/wire"
)

func openPG(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.DSN(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openSQLite(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/hub.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// tableRows reads every table of m as text lines (booleans as 0/1, the way SQLite keeps them),
// sorted by key, so two engines' databases compare.
func tableRows(t *testing.T, m store.Mover) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range store.Tables {
		err := m.ReadTable(context.Background(), table, func(cols []string, vals []any) error {
			var b strings.Builder
			for i, v := range vals {
				if bv, ok := v.(bool); ok {
					v = map[bool]int64{false: 0, true: 1}[bv]
				}
				fmt.Fprintf(&b, "%s=%#v ", cols[i], v)
			}
			out[table] = append(out[table], b.String())
			return nil
		})
		if err != nil {
			t.Fatalf("reading %s: %v", table, err)
		}
	}
	return out
}

// An SQLite hub moves into PostgreSQL and back with nothing missing or changed: every row of
// every table, and the moved database works on (seq goes on, a resent client id is a duplicate,
// the audit log's ids go on, a member signs in with their password hash).
func TestMoveSQLiteToPostgresAndBack(t *testing.T) {
	ctx := context.Background()
	src := openSQLite(t)
	storetest.Fill(t, src)
	want := tableRows(t, src)
	for _, table := range store.Tables {
		if len(want[table]) == 0 {
			t.Errorf("storetest.Fill left %s empty: a move of it is not tested", table)
		}
	}
	names, _ := src.TableNames(ctx)
	if len(names) != len(store.Tables) {
		t.Errorf("SQLite has tables %v; store.Tables lists %v", names, store.Tables)
	}

	pg := openPG(t)
	var export bytes.Buffer
	counts, err := store.Export(ctx, src, &export)
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.Import(ctx, pg, bytes.NewReader(export.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, counts) {
		t.Errorf("imported %v; exported %v", got, counts)
	}
	if moved := tableRows(t, pg); !reflect.DeepEqual(moved, want) {
		for _, table := range store.Tables {
			if !reflect.DeepEqual(moved[table], want[table]) {
				t.Errorf("%s in PostgreSQL:\n%s\nwant:\n%s", table, strings.Join(moved[table], "\n"), strings.Join(want[table], "\n"))
			}
		}
	}

	// The moved database goes on where SQLite left off.
	m, dup, err := pg.AppendMessage(ctx, wire.Message{Conv: "c_open", Author: wire.AuthorCustomer, Text: "again", ClientID: "c_open-k2"})
	if err != nil || !dup || m.Seq != 3 {
		t.Errorf("a resent client id after the move: seq %d dup %v, %v; want the stored seq 3", m.Seq, dup, err)
	}
	if m, _, err := pg.AppendMessage(ctx, wire.Message{Conv: "c_open", Author: wire.AuthorCustomer, Text: "next"}); err != nil || m.Seq != 8 {
		t.Errorf("the next message after the move: seq %d, %v; want 8 (after Fill's seven, the internal note included)", m.Seq, err)
	}
	last, _ := src.LastAuditID(ctx)
	if err := pg.Apply(ctx, store.Change{Audit: []store.AuditEntry{{Org: "acme", Action: "after.move"}}}); err != nil {
		t.Fatal(err)
	}
	if id, _ := pg.LastAuditID(ctx); id != last+1 {
		t.Errorf("the first audit entry after the move has id %d; want %d", id, last+1)
	}
	if u, err := pg.UserByName(ctx, "acme", "agent1"); err != nil || u.PasswordHash != "$2a$10$chosen" || u.LastSignIn.IsZero() {
		t.Errorf("agent1 after the move = %+v, %v", u, err)
	}
	if u, _ := pg.User(ctx, "u_a2"); !u.Disabled {
		t.Errorf("a disabled member came out enabled: %+v", u)
	}
	if open, _ := pg.OpenConversations(ctx); len(open) != 2 {
		t.Errorf("open conversations after the move: %d; want 2", len(open))
	}
	if st, _ := pg.Stats(ctx, "acme", 0); st.WithCall != 1 || st.Calls[wire.OutcomeDeclined] != 1 {
		t.Errorf("supervisor figures after the move: %+v", st)
	}

	// And back, with no file between (parley-hub copy): a way back if PostgreSQL disappoints.
	back := openSQLite(t)
	if _, err := store.Copy(ctx, pg, back); err != nil {
		t.Fatal(err)
	}
	again := tableRows(t, back)
	if len(again["messages"]) != len(want["messages"])+1 || len(again["audit"]) != len(want["audit"])+1 {
		t.Errorf("copied back %d messages and %d audit entries; want %d and %d", len(again["messages"]), len(again["audit"]), len(want["messages"])+1, len(want["audit"])+1)
	}
	if !reflect.DeepEqual(again["users"], want["users"]) || !reflect.DeepEqual(again["calls"], want["calls"]) {
		t.Errorf("members or calls changed on the way back")
	}
}

// An import refuses what it cannot take whole, and leaves the target as it was.
func TestImportRefuses(t *testing.T) {
	ctx := context.Background()
	src := openSQLite(t)
	storetest.Fill(t, src)
	var export bytes.Buffer
	if _, err := store.Export(ctx, src, &export); err != nil {
		t.Fatal(err)
	}
	full := export.String()
	lines := strings.SplitAfter(full, "\n")
	for _, tc := range []struct {
		name, input, want string
	}{
		{"cut short", strings.Join(lines[:len(lines)/2], ""), "cut short"},
		{"without its counts", strings.Join(lines[:len(lines)-2], ""), "cut short"},
		{"a row lost", strings.Join(append(append([]string{}, lines[:len(lines)-3]...), lines[len(lines)-2:]...), ""), "rows"},
		{"not an export", "hello\n", "not a parley-hub export"},
		{"another schema", strings.Replace(full, `"schema":`, `"schema":9`, 1), "schema version"},
		{"a foreign table", strings.Replace(full, `{"table":"grants"`, `{"table":"secrets"`, 1), "does not know"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pg := openPG(t)
			if _, err := store.Import(ctx, pg, strings.NewReader(tc.input)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Import = %v; want an error saying %q", err, tc.want)
			}
			for table, rows := range tableRows(t, pg) {
				if len(rows) > 0 {
					t.Errorf("a refused import left %d rows in %s", len(rows), table)
				}
			}
		})
	}
	t.Run("into a database in use", func(t *testing.T) {
		pg := openPG(t)
		if err := pg.CreateOrg(ctx, store.Org{ID: "mine", Name: "Mine"}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Import(ctx, pg, strings.NewReader(full)); !errors.Is(err, store.ErrNotEmpty) {
			t.Fatalf("Import into a database with an organisation = %v; want ErrNotEmpty", err)
		}
	})
}

// Both engines build the same tables with the same columns: what moves from one fits the other.
func TestSchemasMatch(t *testing.T) {
	ctx := context.Background()
	lite, pg := openSQLite(t), openPG(t)
	cols := func(m store.Mover) map[string][]string {
		out := map[string][]string{}
		names, err := m.TableNames(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if out[n], err = m.TableColumns(ctx, n); err != nil {
				t.Fatal(err)
			}
			slices.Sort(out[n])
		}
		return out
	}
	if a, b := cols(lite), cols(pg); !reflect.DeepEqual(a, b) {
		t.Errorf("SQLite has tables and columns\n%v\nPostgreSQL\n%v", a, b)
	}
	lh, lw, _ := lite.SchemaVersion(ctx)
	ph, pw, _ := pg.SchemaVersion(ctx)
	if lh != lw || ph != pw || lw != pw {
		t.Errorf("schema versions: SQLite %d of %d, PostgreSQL %d of %d; want the same", lh, lw, ph, pw)
	}
}
