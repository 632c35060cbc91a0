package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
)

// Apply implements store.AccountStore.
func (d *DB) Apply(ctx context.Context, ch store.Change) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
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
		if _, err := tx.Exec(ctx, `DELETE FROM tokens WHERE user_id = $1`, ch.EndSessions); err != nil {
			return err
		}
	}
	if r := ch.EndSession; r != nil {
		tag, err := tx.Exec(ctx, `DELETE FROM tokens WHERE user_id = $1 AND id = $2`, r.User, r.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
	}
	if ch.RevokeLinks != "" {
		if _, err := tx.Exec(ctx, `DELETE FROM setup_links WHERE user_id = $1 AND used_at = 0`, ch.RevokeLinks); err != nil {
			return err
		}
	}
	if l := ch.CreateLink; l != nil {
		created := l.CreatedAt
		if created.IsZero() {
			created = now
		}
		_, err := tx.Exec(ctx, `INSERT INTO setup_links (hash, org, user_id, purpose, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
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
		if _, err := tx.Exec(ctx, `UPDATE users SET last_signin_at = $1 WHERE id = $2`, now.UnixMilli(), ch.SignedIn); err != nil {
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
	return tx.Commit(ctx)
}

// updateUser saves a member and refuses to leave an organisation that had an active admin without
// one. The organisation's admins are locked first, so two changes at once (from two hubs) cannot
// each remove one of the last two admins.
func updateUser(ctx context.Context, tx pgx.Tx, u store.User) error {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE org = $1 AND role = $2 AND NOT disabled FOR UPDATE`, u.Org, wire.RoleAdmin); err != nil {
		return err
	}
	var wasAdmin bool
	err := tx.QueryRow(ctx, `SELECT role = $1 AND NOT disabled FROM users WHERE id = $2 AND org = $3`, wire.RoleAdmin, u.ID, u.Org).Scan(&wasAdmin)
	if err != nil {
		return sqldb.NotFound(err)
	}
	_, err = tx.Exec(ctx, `UPDATE users SET display_name = $1, email = $2, role = $3, capacity = $4, disabled = $5, password_hash = $6, external_id = $7
		WHERE id = $8 AND org = $9`, clean(u.DisplayName), clean(u.Email), u.Role, u.Capacity, u.Disabled, u.PasswordHash, u.ExternalID, u.ID, u.Org)
	if isUnique(err) {
		return store.ErrConflict
	}
	if err != nil {
		return err
	}
	if wasAdmin && (u.Role != wire.RoleAdmin || u.Disabled) {
		var admins int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE org = $1 AND role = $2 AND NOT disabled`, u.Org, wire.RoleAdmin).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 {
			return store.ErrLastAdmin
		}
	}
	return nil
}

// auditLock is the advisory lock key that orders audit writes ("audit" in ASCII).
const auditLock = 0x6175646974

// appendAudit adds an entry under a transaction-long advisory lock: an id is drawn when a row is
// inserted, not when it commits, and hubs follow the log by id (AuditSince), so ids must commit
// in order. Account changes are rare; they wait for each other, chat never does.
func appendAudit(ctx context.Context, db querier, a store.AuditEntry, now time.Time) error {
	if a.At.IsZero() {
		a.At = now
	}
	if _, err := db.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(auditLock)); err != nil {
		return err
	}
	_, err := db.Exec(ctx, `INSERT INTO audit (org, at, actor, actor_name, action, target, detail, addr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.Org, a.At.UnixMilli(), a.Actor, clean(a.ActorName), a.Action, clean(a.Target), clean(a.Detail), clean(a.Addr))
	return err
}

// Orgs implements store.AccountStore.
func (d *DB) Orgs(ctx context.Context) ([]store.Org, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.OrgCols+` FROM orgs ORDER BY id`)
	return collect(rows, err, sqldb.ScanOrg)
}

// likePattern escapes s for a LIKE ... ESCAPE '\' that finds it anywhere.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// ListUsers implements store.AccountStore.
func (d *DB) ListUsers(ctx context.Context, org wire.OrgID, q store.UserQuery) ([]store.User, int, error) {
	where := `org = $1`
	args := []any{org}
	if s := strings.TrimSpace(q.Search); s != "" {
		args = append(args, likePattern(clean(s)))
		where += ` AND (lower(username) LIKE lower($2) ESCAPE '\' OR lower(display_name) LIKE lower($2) ESCAPE '\' OR lower(email) LIKE lower($2) ESCAPE '\')`
	}
	if q.Role != "" {
		args = append(args, q.Role)
		where += ` AND role = $` + itoa(len(args))
	}
	var total int
	if err := d.pool.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	var limit any // NULL: no limit
	if q.Limit > 0 {
		limit = q.Limit
	}
	args = append(args, limit, max(q.Offset, 0))
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.UserCols+` FROM users WHERE `+where+` ORDER BY username LIMIT $`+itoa(len(args)-1)+` OFFSET $`+itoa(len(args)), args...)
	users, err := collect(rows, err, sqldb.ScanUser)
	return users, total, err
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}

// UserByExternalID implements store.AccountStore.
func (d *DB) UserByExternalID(ctx context.Context, org wire.OrgID, externalID string) (store.User, error) {
	if externalID == "" {
		return store.User{}, store.ErrNotFound
	}
	return sqldb.ScanUser(d.pool.QueryRow(ctx, `SELECT `+sqldb.UserCols+` FROM users WHERE org = $1 AND external_id = $2`, org, externalID))
}

// SetupLink implements store.AccountStore.
func (d *DB) SetupLink(ctx context.Context, hash string) (store.SetupLink, error) {
	return sqldb.ScanLink(d.pool.QueryRow(ctx, `SELECT `+sqldb.LinkCols+` FROM setup_links WHERE hash = $1`, hash))
}

// UseSetupLink implements store.AccountStore. The link's row is locked, so a link used on two
// hubs at once works once.
func (d *DB) UseSetupLink(ctx context.Context, hash, passwordHash string, now time.Time, audit store.AuditEntry) (store.User, error) {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return store.User{}, err
	}
	defer tx.Rollback(ctx)
	l, err := sqldb.ScanLink(tx.QueryRow(ctx, `SELECT `+sqldb.LinkCols+` FROM setup_links WHERE hash = $1 FOR UPDATE`, hash))
	if err != nil {
		return store.User{}, err
	}
	switch {
	case !l.UsedAt.IsZero():
		return store.User{}, store.ErrLinkUsed
	case !now.Before(l.ExpiresAt):
		return store.User{}, store.ErrLinkExpired
	}
	u, err := sqldb.ScanUser(tx.QueryRow(ctx, `SELECT `+sqldb.UserCols+` FROM users WHERE id = $1`, l.User))
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
		{`UPDATE users SET password_hash = $1 WHERE id = $2`, []any{passwordHash, u.ID}},
		{`UPDATE setup_links SET used_at = $1 WHERE hash = $2`, []any{now.UnixMilli(), hash}},
		{`DELETE FROM setup_links WHERE user_id = $1 AND used_at = 0`, []any{u.ID}},
		{`DELETE FROM tokens WHERE user_id = $1`, []any{u.ID}},
	} {
		if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
			return store.User{}, err
		}
	}
	if err := appendAudit(ctx, tx, audit, now); err != nil {
		return store.User{}, err
	}
	return u, tx.Commit(ctx)
}

// Sessions implements store.AccountStore.
func (d *DB) Sessions(ctx context.Context, user wire.UserID, now time.Time) ([]store.Token, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.TokenCols+` FROM tokens WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, id`,
		user, now.UnixMilli())
	return collect(rows, err, sqldb.ScanToken)
}

// DeleteToken implements store.AccountStore.
func (d *DB) DeleteToken(ctx context.Context, hash string) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM tokens WHERE hash = $1`, hash)
	return err
}

// RenewToken implements store.AccountStore.
func (d *DB) RenewToken(ctx context.Context, oldHash, newHash string, expiresAt time.Time) error {
	tag, err := d.pool.Exec(ctx, `UPDATE tokens SET hash = $1, expires_at = $2 WHERE hash = $3`, newHash, expiresAt.UnixMilli(), oldHash)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ExpireConversationTokens implements store.AccountStore.
func (d *DB) ExpireConversationTokens(ctx context.Context, conv wire.ConversationID, at time.Time) error {
	_, err := d.pool.Exec(ctx, `UPDATE tokens SET expires_at = LEAST(expires_at, $1) WHERE conv = $2`, at.UnixMilli(), conv)
	return err
}

// AuditLog implements store.AccountStore.
func (d *DB) AuditLog(ctx context.Context, org wire.OrgID, q store.AuditQuery) ([]store.AuditEntry, error) {
	where := `org = $1`
	args := []any{org}
	if q.Before > 0 {
		args = append(args, q.Before)
		where += ` AND id < $` + itoa(len(args))
	}
	if !q.Since.IsZero() {
		args = append(args, q.Since.UnixMilli())
		where += ` AND at >= $` + itoa(len(args))
	}
	if !q.Until.IsZero() {
		args = append(args, q.Until.UnixMilli())
		where += ` AND at < $` + itoa(len(args))
	}
	var limit any
	if q.Limit > 0 {
		limit = q.Limit
	}
	args = append(args, limit)
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.AuditCols+` FROM audit WHERE `+where+` ORDER BY id DESC LIMIT $`+itoa(len(args)), args...)
	return collect(rows, err, sqldb.ScanAudit)
}

// AuditSince implements store.AccountStore. Audit rows commit in id order (appendAudit), so a
// reader that moves its mark past an id never skips one committed a moment later.
func (d *DB) AuditSince(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	var lim any
	if limit > 0 {
		lim = limit
	}
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.AuditCols+` FROM audit WHERE id > $1 ORDER BY id LIMIT $2`, after, lim)
	return collect(rows, err, sqldb.ScanAudit)
}

// LastAuditID implements store.AccountStore.
func (d *DB) LastAuditID(ctx context.Context) (int64, error) {
	var id int64
	err := d.pool.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM audit`).Scan(&id)
	return id, err
}

// PutGrant implements store.AccountStore.
func (d *DB) PutGrant(ctx context.Context, g store.Grant) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO grants (hash, kind, org, data, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		g.Hash, g.Kind, g.Org, clean(g.Data), g.ExpiresAt.UnixMilli())
	if isUnique(err) {
		return store.ErrConflict
	}
	return err
}

// TakeGrant implements store.AccountStore.
func (d *DB) TakeGrant(ctx context.Context, hash, kind string, now time.Time) (store.Grant, error) {
	var g store.Grant
	var exp int64
	err := d.pool.QueryRow(ctx, `DELETE FROM grants WHERE hash = $1 AND kind = $2 RETURNING hash, kind, org, data, expires_at`, hash, kind).
		Scan(&g.Hash, &g.Kind, &g.Org, &g.Data, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
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
	tag, err := d.pool.Exec(ctx, `UPDATE users SET setup_status = $1, setup_problems = $2, setup_at = $3 WHERE id = $4`,
		clean(r.Status), clean(strings.Join(r.Problems, ",")), r.At, user)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// SetupResults implements store.AccountStore.
func (d *DB) SetupResults(ctx context.Context, org wire.OrgID) (map[wire.UserID]wire.SetupResult, error) {
	rows, err := d.pool.Query(ctx, `SELECT id, setup_status, setup_problems, setup_at FROM users WHERE org = $1 AND setup_status <> ''`, org)
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
