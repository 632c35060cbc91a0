package sqlite

import (
	"context"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"

	"github.com/parleyhq/parley/wire"
)

// OrgSetting implements store.Store.
func (d *DB) OrgSetting(ctx context.Context, org wire.OrgID, key string) (string, error) {
	var v string
	err := d.db.QueryRowContext(ctx, `SELECT value FROM org_settings WHERE org = ? AND key = ?`, org, key).Scan(&v)
	return v, sqldb.NotFound(err)
}

// SetOrgSetting implements store.Store.
func (d *DB) SetOrgSetting(ctx context.Context, org wire.OrgID, key, value string) error {
	return setOrgSetting(ctx, d.db, org, key, value, d.now())
}

func setOrgSetting(ctx context.Context, db execer, org wire.OrgID, key, value string, now time.Time) error {
	_, err := db.ExecContext(ctx, `INSERT INTO org_settings (org, key, value, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		org, key, value, now.UnixMilli())
	if isForeignKey(err) {
		return store.ErrNotFound
	}
	return err
}
