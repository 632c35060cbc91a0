package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
)

// Apply implements store.AccountStore.
func (d *DB) Apply(ctx context.Context, ch store.Change) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := d.now()
	if o := ch.CreateOrg; o != nil {
		org := *o
		if org.CreatedAt.IsZero() {
			org.CreatedAt = now
		}
		if err := createOrg(ctx, tx, org); err != nil {
			return err
		}
	}
	if o := ch.UpdateOrg; o != nil {
		if err := updateOrg(ctx, tx, *o); err != nil {
			return err
		}
	}
	if u := ch.CreateUser; u != nil {
		user := *u
		if user.CreatedAt.IsZero() {
			user.CreatedAt = now
		}
		if err := createUser(ctx, tx, user); err != nil {
			return err
		}
	}
	if u := ch.UpdateUser; u != nil {
		if err := updateUser(ctx, tx, *u); err != nil {
			return err
		}
	}
	if ch.EndSessions != "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE user_id = ?`, ch.EndSessions); err != nil {
			return err
		}
	}
	if r := ch.EndSession; r != nil {
		res, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE user_id = ? AND id = ?`, r.User, r.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
	}
	if ch.RevokeLinks != "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM setup_links WHERE user_id = ? AND used_at = 0`, ch.RevokeLinks); err != nil {
			return err
		}
	}
	if l := ch.CreateLink; l != nil {
		created := l.CreatedAt
		if created.IsZero() {
			created = now
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO setup_links (hash, org, user_id, purpose, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			l.Hash, l.Org, l.User, l.Purpose, l.CreatedBy, created.UnixMilli(), l.ExpiresAt.UnixMilli())
		if isUnique(err) {
			return store.ErrConflict
		}
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
	}
	if t := ch.CreateToken; t != nil {
		if err := createToken(ctx, tx, *t, now); err != nil {
			return err
		}
	}
	if ch.SignedIn != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_signin_at = ? WHERE id = ?`, now.UnixMilli(), ch.SignedIn); err != nil {
			return err
		}
	}
	if st := ch.SetSetting; st != nil {
		if err := setOrgSetting(ctx, tx, st.Org, st.Key, st.Value, now); err != nil {
			return err
		}
	}
	for _, a := range ch.Audit {
		if err := appendAudit(ctx, tx, a, now); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// updateUser saves a member and refuses to leave an organisation that had an active admin without
// one.
func updateUser(ctx context.Context, tx *sql.Tx, u store.User) error {
	var wasAdmin bool
	err := tx.QueryRowContext(ctx, `SELECT role = ? AND disabled = 0 FROM users WHERE id = ? AND org = ?`, wire.RoleAdmin, u.ID, u.Org).Scan(&wasAdmin)
	if err != nil {
		return sqldb.NotFound(err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET display_name = ?, email = ?, role = ?, capacity = ?, disabled = ?, password_hash = ?, external_id = ?
		WHERE id = ? AND org = ?`, u.DisplayName, u.Email, u.Role, u.Capacity, u.Disabled, u.PasswordHash, u.ExternalID, u.ID, u.Org)
	if isUnique(err) {
		return store.ErrConflict
	}
	if err != nil {
		return err
	}
	if wasAdmin && (u.Role != wire.RoleAdmin || u.Disabled) {
		var admins int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE org = ? AND role = ? AND disabled = 0`, u.Org, wire.RoleAdmin).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 {
			return store.ErrLastAdmin
		}
	}
	return nil
}

func appendAudit(ctx context.Context, db execer, a store.AuditEntry, now time.Time) error {
	if a.At.IsZero() {
		a.At = now
	}
	_, err := db.ExecContext(ctx, `INSERT INTO audit (org, at, actor, actor_name, action, target, detail, addr) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Org, a.At.UnixMilli(), a.Actor, a.ActorName, a.Action, a.Target, a.Detail, a.Addr)
	return err
}

// Orgs implements store.AccountStore.
func (d *DB) Orgs(ctx context.Context) ([]store.Org, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+sqldb.OrgCols+` FROM orgs ORDER BY id`)
	return collect(rows, err, sqldb.ScanOrg)
}

// likePattern escapes s for a LIKE ... ESCAPE '\' that finds it anywhere.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// ListUsers implements store.AccountStore.
func (d *DB) ListUsers(ctx context.Context, org wire.OrgID, q store.UserQuery) ([]store.User, int, error) {
	where := `org = ?`
	args := []any{org}
	if s := strings.TrimSpace(q.Search); s != "" {
		// LIKE is case-insensitive for ASCII in SQLite; lower() on both sides covers the rest.
		where += ` AND (lower(username) LIKE lower(?) ESCAPE '\' OR lower(display_name) LIKE lower(?) ESCAPE '\' OR lower(email) LIKE lower(?) ESCAPE '\')`
		p := likePattern(s)
		args = append(args, p, p, p)
	}
	if q.Role != "" {
		where += ` AND role = ?`
		args = append(args, q.Role)
	}
	var total int
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+sqldb.UserCols+` FROM users WHERE `+where+` ORDER BY username LIMIT ? OFFSET ?`,
		append(args, limit, max(q.Offset, 0))...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		u, err := sqldb.ScanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		users = append(users, u)
	}
	return users, total, rows.Err()
}

// UserByExternalID implements store.AccountStore.
func (d *DB) UserByExternalID(ctx context.Context, org wire.OrgID, externalID string) (store.User, error) {
	if externalID == "" {
		return store.User{}, store.ErrNotFound
	}
	return sqldb.ScanUser(d.db.QueryRowContext(ctx, `SELECT `+sqldb.UserCols+` FROM users WHERE org = ? AND external_id = ?`, org, externalID))
}

// SetupLink implements store.AccountStore.
func (d *DB) SetupLink(ctx context.Context, hash string) (store.SetupLink, error) {
	return sqldb.ScanLink(d.db.QueryRowContext(ctx, `SELECT `+sqldb.LinkCols+` FROM setup_links WHERE hash = ?`, hash))
}

// UseSetupLink implements store.AccountStore.
func (d *DB) UseSetupLink(ctx context.Context, hash, passwordHash string, now time.Time, audit store.AuditEntry) (store.User, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return store.User{}, err
	}
	defer tx.Rollback()
	l, err := sqldb.ScanLink(tx.QueryRowContext(ctx, `SELECT `+sqldb.LinkCols+` FROM setup_links WHERE hash = ?`, hash))
	if err != nil {
		return store.User{}, err
	}
	switch {
	case !l.UsedAt.IsZero():
		return store.User{}, store.ErrLinkUsed
	case !now.Before(l.ExpiresAt):
		return store.User{}, store.ErrLinkExpired
	}
	u, err := sqldb.ScanUser(tx.QueryRowContext(ctx, `SELECT `+sqldb.UserCols+` FROM users WHERE id = ?`, l.User))
	if err != nil {
		return store.User{}, err
	}
	if u.Disabled {
		return store.User{}, store.ErrDisabled
	}
	u.PasswordHash = passwordHash
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE users SET password_hash = ? WHERE id = ?`, []any{passwordHash, u.ID}},
		{`UPDATE setup_links SET used_at = ? WHERE hash = ?`, []any{now.UnixMilli(), hash}},
		{`DELETE FROM setup_links WHERE user_id = ? AND used_at = 0`, []any{u.ID}},
		{`DELETE FROM tokens WHERE user_id = ?`, []any{u.ID}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return store.User{}, err
		}
	}
	if err := appendAudit(ctx, tx, audit, now); err != nil {
		return store.User{}, err
	}
	return u, tx.Commit()
}

// Sessions implements store.AccountStore.
func (d *DB) Sessions(ctx context.Context, user wire.UserID, now time.Time) ([]store.Token, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+sqldb.TokenCols+` FROM tokens WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, id`,
		user, now.UnixMilli())
	return collect(rows, err, sqldb.ScanToken)
}

// DeleteToken implements store.AccountStore.
func (d *DB) DeleteToken(ctx context.Context, hash string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM tokens WHERE hash = ?`, hash)
	return err
}

// RenewToken implements store.AccountStore.
func (d *DB) RenewToken(ctx context.Context, oldHash, newHash string, expiresAt time.Time) error {
	res, err := d.db.ExecContext(ctx, `UPDATE tokens SET hash = ?, expires_at = ? WHERE hash = ?`, newHash, expiresAt.UnixMilli(), oldHash)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ExpireConversationTokens implements store.AccountStore.
func (d *DB) ExpireConversationTokens(ctx context.Context, conv wire.ConversationID, at time.Time) error {
	_, err := d.db.ExecContext(ctx, `UPDATE tokens SET expires_at = MIN(expires_at, ?) WHERE conv = ?`, at.UnixMilli(), conv)
	return err
}

func (d *DB) queryAudit(ctx context.Context, query string, args ...any) ([]store.AuditEntry, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	return collect(rows, err, sqldb.ScanAudit)
}

// AuditLog implements store.AccountStore.
func (d *DB) AuditLog(ctx context.Context, org wire.OrgID, q store.AuditQuery) ([]store.AuditEntry, error) {
	where := `org = ?`
	args := []any{org}
	if q.Before > 0 {
		where += ` AND id < ?`
		args = append(args, q.Before)
	}
	if !q.Since.IsZero() {
		where += ` AND at >= ?`
		args = append(args, q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		where += ` AND at < ?`
		args = append(args, q.Until.UnixMilli())
	}
	limit := q.Limit
	if limit <= 0 {
		limit = -1
	}
	return d.queryAudit(ctx, `SELECT `+sqldb.AuditCols+` FROM audit WHERE `+where+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
}

// AuditSince implements store.AccountStore.
func (d *DB) AuditSince(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		limit = -1
	}
	return d.queryAudit(ctx, `SELECT `+sqldb.AuditCols+` FROM audit WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// LastAuditID implements store.AccountStore.
func (d *DB) LastAuditID(ctx context.Context) (int64, error) {
	var id int64
	err := d.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM audit`).Scan(&id)
	return id, err
}

// PutGrant implements store.AccountStore.
func (d *DB) PutGrant(ctx context.Context, g store.Grant) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO grants (hash, kind, org, data, expires_at) VALUES (?, ?, ?, ?, ?)`,
		g.Hash, g.Kind, g.Org, g.Data, g.ExpiresAt.UnixMilli())
	if isUnique(err) {
		return store.ErrConflict
	}
	return err
}

// TakeGrant implements store.AccountStore.
func (d *DB) TakeGrant(ctx context.Context, hash, kind string, now time.Time) (store.Grant, error) {
	var g store.Grant
	var exp int64
	err := d.db.QueryRowContext(ctx, `DELETE FROM grants WHERE hash = ? AND kind = ? RETURNING hash, kind, org, data, expires_at`, hash, kind).
		Scan(&g.Hash, &g.Kind, &g.Org, &g.Data, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return g, store.ErrNotFound
	}
	if err != nil {
		return g, err
	}
	g.ExpiresAt = time.UnixMilli(exp)
	if !now.Before(g.ExpiresAt) {
		return store.Grant{}, store.ErrNotFound
	}
	return g, nil
}

// SetSetupResult implements store.AccountStore.
func (d *DB) SetSetupResult(ctx context.Context, user wire.UserID, r wire.SetupResult) error {
	res, err := d.db.ExecContext(ctx, `UPDATE users SET setup_status = ?, setup_problems = ?, setup_at = ? WHERE id = ?`,
		r.Status, strings.Join(r.Problems, ","), r.At, user)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// SetupResults implements store.AccountStore.
func (d *DB) SetupResults(ctx context.Context, org wire.OrgID) (map[wire.UserID]wire.SetupResult, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, setup_status, setup_problems, setup_at FROM users WHERE org = ? AND setup_status != ''`, org)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[wire.UserID]wire.SetupResult{}
	for rows.Next() {
		id, r, err := sqldb.ScanSetupResult(rows)
		if err != nil {
			return nil, err
		}
		out[id] = r
	}
	return out, rows.Err()
}
