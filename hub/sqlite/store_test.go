package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/sqlite"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/storetest"
)

// openTemp opens a new SQLite database in the test's directory.
func openTemp(t *testing.T, now func() time.Time) store.Store {
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/s.db", now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStore runs every store test (hub/store/storetest) on SQLite; hub/postgres runs the same.
func TestStore(t *testing.T) { storetest.All(t, openTemp) }
