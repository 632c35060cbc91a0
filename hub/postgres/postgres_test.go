package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/postgres"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/storetest"
	"github.com/parleyhq/parley/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// openTemp opens a new, empty database in the test's PostgreSQL cluster.
func openTemp(t *testing.T, now func() time.Time) store.Store {
	db, err := postgres.Open(context.Background(), pgtest.DSN(t), now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStore runs every store test (hub/store/storetest) on PostgreSQL; hub/sqlite runs the same.
func TestStore(t *testing.T) { storetest.All(t, openTemp) }

// Hubs started at the same moment on a new database migrate it once between them.
func TestHubsStartingTogetherMigrateOnce(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	const hubs = 4
	errs := make(chan error, hubs)
	dbs := make(chan *postgres.DB, hubs)
	for range hubs {
		go func() {
			db, err := postgres.Open(ctx, dsn, nil)
			errs <- err
			dbs <- db
		}()
	}
	for range hubs {
		if err := <-errs; err != nil {
			t.Errorf("Open: %v", err)
		}
		if db := <-dbs; db != nil {
			defer db.Close()
		}
	}
	db, err := postgres.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	have, want, err := db.SchemaVersion(ctx)
	if err != nil || have != want {
		t.Fatalf("SchemaVersion = %d, %d, %v", have, want, err)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != want {
		t.Errorf("schema_migrations holds %d rows, %v; want %d (each migration once)", n, err, want)
	}
	// A database migrated by a newer hub is refused, not damaged.
	if _, err := db.Pool().Exec(ctx, `INSERT INTO schema_migrations VALUES ($1, 0)`, want+1); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, dsn, nil); err == nil || !strings.Contains(err.Error(), "newer than this hub") {
		t.Errorf("Open on a newer schema = %v; want it refused", err)
	}
}

// A DSN's password never reaches an error or a log line.
func TestErrorsKeepThePasswordOut(t *testing.T) {
	c, err := pgtest.Shared()
	if err != nil {
		t.Fatal(err)
	}
	dsn := fmt.Sprintf("postgres://parley:s3cret-pw@127.0.0.1:%d/no_such_db?sslmode=disable&connect_timeout=5", c.Port)
	_, err = postgres.Open(context.Background(), dsn, nil)
	if err == nil {
		t.Fatal("Open of a missing database succeeded")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("the error shows the password: %v", err)
	}
	if r := postgres.Redact(dsn); strings.Contains(r, "s3cret") || !strings.Contains(r, "no_such_db") {
		t.Errorf("Redact(%q) = %q", dsn, r)
	}
	if _, err := postgres.Open(context.Background(), "postgres://x:pw@[bad", nil); err == nil || strings.Contains(err.Error(), "pw") {
		t.Errorf("Open of a malformed address = %v", err)
	}
}
