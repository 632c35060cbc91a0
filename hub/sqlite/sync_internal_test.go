package sqlite

import (
	"context"
	"testing"
)

// Acknowledged messages must survive a power loss: the write connection fsyncs every commit
// (synchronous=FULL, 2) unless the operator chose NORMAL (1) for speed.
func TestSynchronous(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		mode string
		want int
	}{{"", 2}, {SyncFull, 2}, {SyncNormal, 1}} {
		d, err := OpenWith(ctx, t.TempDir()+"/s.db", Options{Synchronous: tt.mode})
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := d.db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("OpenWith(synchronous %q): PRAGMA synchronous = %d; want %d", tt.mode, got, tt.want)
		}
		_ = d.Close()
	}
	if _, err := OpenWith(ctx, t.TempDir()+"/s.db", Options{Synchronous: "off"}); err == nil {
		t.Error("OpenWith(synchronous off) succeeded; want an error")
	}
}
