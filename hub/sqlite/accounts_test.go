package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/sqlite"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/storetest"
)

func TestAccounts(t *testing.T) {
	storetest.Accounts(t, func(t *testing.T, now func() time.Time) store.Store {
		db, err := sqlite.Open(context.Background(), t.TempDir()+"/a.db", now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestRouting(t *testing.T) {
	storetest.Routing(t, func(t *testing.T, now func() time.Time) store.Store {
		db, err := sqlite.Open(context.Background(), t.TempDir()+"/r.db", now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
