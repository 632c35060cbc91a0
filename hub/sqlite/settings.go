package sqlite

import (
	"context"

	"github.com/parleyhq/parley/wire"
)

// OrgSetting implements store.Store.
func (d *DB) OrgSetting(ctx context.Context, org wire.OrgID, key string) (string, error) {
	var v string
	err := d.db.QueryRowContext(ctx, `SELECT value FROM org_settings WHERE org = ? AND key = ?`, org, key).Scan(&v)
	return v, notFound(err)
}

// SetOrgSetting implements store.Store.
func (d *DB) SetOrgSetting(ctx context.Context, org wire.OrgID, key, value string) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO org_settings (org, key, value, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		org, key, value, d.now().UnixMilli())
	return err
}
