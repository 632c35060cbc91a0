package sqldb

import (
	"context"
	"strings"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// CreateOrg implements store.Store.
func (e *Engine) CreateOrg(ctx context.Context, o store.Org) error {
	if o.CreatedAt.IsZero() {
		o.CreatedAt = e.Now()
	}
	return e.createOrg(ctx, e.DB, o)
}

func (e *Engine) createOrg(ctx context.Context, c Conn, o store.Org) error {
	_, err := c.Exec(ctx, `INSERT INTO orgs (id, name, created_at, region, calls, language) VALUES (?, ?, ?, ?, ?, ?)`,
		o.ID, e.Text(o.Name), o.CreatedAt.UnixMilli(), o.Region, CallsOrDefault(o.Calls), LanguageOrDefault(o.Language))
	if e.IsUnique(err) {
		return store.ErrConflict
	}
	return err
}

// Org implements store.Store.
func (e *Engine) Org(ctx context.Context, id wire.OrgID) (store.Org, error) {
	return ScanOrg(e.DB.QueryRow(ctx, `SELECT `+OrgCols+` FROM orgs WHERE id = ?`, id))
}

// UpdateOrg implements store.CallStore.
func (e *Engine) UpdateOrg(ctx context.Context, o store.Org) error {
	return e.updateOrg(ctx, e.DB, o)
}

func (e *Engine) updateOrg(ctx context.Context, c Conn, o store.Org) error {
	n, err := c.Exec(ctx, `UPDATE orgs SET name = ?, region = ?, calls = ?, language = ? WHERE id = ?`,
		e.Text(o.Name), o.Region, CallsOrDefault(o.Calls), LanguageOrDefault(o.Language), o.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// Orgs implements store.AccountStore.
func (e *Engine) Orgs(ctx context.Context) ([]store.Org, error) {
	return queryAll(ctx, e.DB, ScanOrg, `SELECT `+OrgCols+` FROM orgs ORDER BY id`)
}

// CreateUser implements store.Store.
func (e *Engine) CreateUser(ctx context.Context, u store.User) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = e.Now()
	}
	return e.createUser(ctx, e.DB, u)
}

func (e *Engine) createUser(ctx context.Context, c Conn, u store.User) error {
	_, err := c.Exec(ctx, `INSERT INTO users (`+UserCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Org, e.Text(u.Username), e.Text(u.DisplayName), u.Role, u.PasswordHash, u.Capacity, u.CreatedAt.UnixMilli(),
		e.Text(u.Email), u.Disabled, u.ExternalID, Millis(u.LastSignIn))
	return e.conflict(err)
}

// updateUser saves a member and refuses to leave an organisation that had an active admin without
// one. Where hubs write at once (ForUpdate), the organisation's admins are locked first, so two
// changes at once cannot each remove one of the last two admins.
func (e *Engine) updateUser(ctx context.Context, tx Tx, u store.User) error {
	if e.ForUpdate != "" {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE org = ? AND role = ? AND NOT disabled`+e.ForUpdate, u.Org, wire.RoleAdmin); err != nil {
			return err
		}
	}
	var wasAdmin bool
	err := tx.QueryRow(ctx, `SELECT role = ? AND NOT disabled FROM users WHERE id = ? AND org = ?`, wire.RoleAdmin, u.ID, u.Org).Scan(&wasAdmin)
	if err != nil {
		return NotFound(err)
	}
	_, err = tx.Exec(ctx, `UPDATE users SET display_name = ?, email = ?, role = ?, capacity = ?, disabled = ?, password_hash = ?, external_id = ?
		WHERE id = ? AND org = ?`, e.Text(u.DisplayName), e.Text(u.Email), u.Role, u.Capacity, u.Disabled, u.PasswordHash, u.ExternalID, u.ID, u.Org)
	if e.IsUnique(err) {
		return store.ErrConflict
	}
	if err != nil {
		return err
	}
	if wasAdmin && (u.Role != wire.RoleAdmin || u.Disabled) {
		var admins int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE org = ? AND role = ? AND NOT disabled`, u.Org, wire.RoleAdmin).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 {
			return store.ErrLastAdmin
		}
	}
	return nil
}

// User implements store.Store.
func (e *Engine) User(ctx context.Context, id wire.UserID) (store.User, error) {
	return ScanUser(e.DB.QueryRow(ctx, `SELECT `+UserCols+` FROM users WHERE id = ?`, id))
}

// UserByName implements store.Store.
func (e *Engine) UserByName(ctx context.Context, org wire.OrgID, username string) (store.User, error) {
	return ScanUser(e.DB.QueryRow(ctx, `SELECT `+UserCols+` FROM users WHERE org = ? AND username = ?`, org, username))
}

// Users implements store.Store.
func (e *Engine) Users(ctx context.Context, org wire.OrgID) ([]store.User, error) {
	return queryAll(ctx, e.DB, ScanUser, `SELECT `+UserCols+` FROM users WHERE org = ? ORDER BY username`, org)
}

// likePattern escapes s for a LIKE ... ESCAPE '\' that finds it anywhere.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// ListUsers implements store.AccountStore.
func (e *Engine) ListUsers(ctx context.Context, org wire.OrgID, q store.UserQuery) ([]store.User, int, error) {
	where := `org = ?`
	args := []any{org}
	if s := strings.TrimSpace(q.Search); s != "" {
		// LIKE is case-insensitive for ASCII in SQLite; lower() on both sides covers the rest.
		where += ` AND (lower(username) LIKE lower(?) ESCAPE '\' OR lower(display_name) LIKE lower(?) ESCAPE '\' OR lower(email) LIKE lower(?) ESCAPE '\')`
		p := likePattern(e.Text(s))
		args = append(args, p, p, p)
	}
	if q.Role != "" {
		where += ` AND role = ?`
		args = append(args, q.Role)
	}
	var total int
	if err := e.DB.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	users, err := queryAll(ctx, e.DB, ScanUser, `SELECT `+UserCols+` FROM users WHERE `+where+` ORDER BY username LIMIT ? OFFSET ?`,
		append(args, e.limit(q.Limit), max(q.Offset, 0))...)
	if err != nil {
		return nil, 0, err
	}
	return users, total, nil
}

// UserByExternalID implements store.AccountStore.
func (e *Engine) UserByExternalID(ctx context.Context, org wire.OrgID, externalID string) (store.User, error) {
	if externalID == "" {
		return store.User{}, store.ErrNotFound
	}
	return ScanUser(e.DB.QueryRow(ctx, `SELECT `+UserCols+` FROM users WHERE org = ? AND external_id = ?`, org, externalID))
}

// CreateToken implements store.Store.
func (e *Engine) CreateToken(ctx context.Context, t store.Token) error {
	return e.createToken(ctx, e.DB, t, e.Now())
}

func (e *Engine) createToken(ctx context.Context, c Conn, t store.Token, now time.Time) error {
	_, err := c.Exec(ctx, `INSERT INTO tokens (`+TokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, TokenValues(t, now)...)
	if e.IsUnique(err) {
		return store.ErrConflict
	}
	return err
}

// Token implements store.Store.
func (e *Engine) Token(ctx context.Context, hash string) (store.Token, error) {
	return ScanToken(e.DB.QueryRow(ctx, `SELECT `+TokenCols+` FROM tokens WHERE hash = ?`, hash))
}

// DeleteExpiredTokens implements store.Store.
func (e *Engine) DeleteExpiredTokens(ctx context.Context, now time.Time) error {
	if _, err := e.DB.Exec(ctx, `DELETE FROM tokens WHERE expires_at < ?`, now.UnixMilli()); err != nil {
		return err
	}
	_, err := e.DB.Exec(ctx, `DELETE FROM grants WHERE expires_at < ?`, now.UnixMilli())
	return err
}

// Sessions implements store.AccountStore.
func (e *Engine) Sessions(ctx context.Context, user wire.UserID, now time.Time) ([]store.Token, error) {
	return queryAll(ctx, e.DB, ScanToken, `SELECT `+TokenCols+` FROM tokens WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, id`,
		user, now.UnixMilli())
}

// DeleteToken implements store.AccountStore.
func (e *Engine) DeleteToken(ctx context.Context, hash string) error {
	_, err := e.DB.Exec(ctx, `DELETE FROM tokens WHERE hash = ?`, hash)
	return err
}

// RenewToken implements store.AccountStore.
func (e *Engine) RenewToken(ctx context.Context, oldHash, newHash string, expiresAt time.Time) error {
	n, err := e.DB.Exec(ctx, `UPDATE tokens SET hash = ?, expires_at = ? WHERE hash = ?`, newHash, expiresAt.UnixMilli(), oldHash)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ExpireConversationTokens implements store.AccountStore.
func (e *Engine) ExpireConversationTokens(ctx context.Context, conv wire.ConversationID, at time.Time) error {
	_, err := e.DB.Exec(ctx, `UPDATE tokens SET expires_at = `+e.Least+`(expires_at, ?) WHERE conv = ?`, at.UnixMilli(), conv)
	return err
}

// OrgSetting implements store.Store.
func (e *Engine) OrgSetting(ctx context.Context, org wire.OrgID, key string) (string, error) {
	var v string
	err := e.DB.QueryRow(ctx, `SELECT value FROM org_settings WHERE org = ? AND key = ?`, org, key).Scan(&v)
	return v, NotFound(err)
}

// SetOrgSetting implements store.Store.
func (e *Engine) SetOrgSetting(ctx context.Context, org wire.OrgID, key, value string) error {
	return e.setOrgSetting(ctx, e.DB, org, key, value, e.Now())
}

func (e *Engine) setOrgSetting(ctx context.Context, c Conn, org wire.OrgID, key, value string, now time.Time) error {
	_, err := c.Exec(ctx, `INSERT INTO org_settings (org, key, value, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		org, key, e.Text(value), now.UnixMilli())
	if e.IsForeignKey(err) {
		return store.ErrNotFound
	}
	return err
}

// Apply implements store.AccountStore: every part of the change, with its audit entries, in one
// transaction.
func (e *Engine) Apply(ctx context.Context, ch store.Change) error {
	now := e.Now()
	return e.inTx(ctx, func(tx Tx) error {
		if o := ch.CreateOrg; o != nil {
			org := *o
			if org.CreatedAt.IsZero() {
				org.CreatedAt = now
			}
			if err := e.createOrg(ctx, tx, org); err != nil {
				return err
			}
		}
		if o := ch.UpdateOrg; o != nil {
			if err := e.updateOrg(ctx, tx, *o); err != nil {
				return err
			}
		}
		if u := ch.CreateUser; u != nil {
			user := *u
			if user.CreatedAt.IsZero() {
				user.CreatedAt = now
			}
			if err := e.createUser(ctx, tx, user); err != nil {
				return err
			}
		}
		if u := ch.UpdateUser; u != nil {
			if err := e.updateUser(ctx, tx, *u); err != nil {
				return err
			}
		}
		if ch.EndSessions != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM tokens WHERE user_id = ?`, ch.EndSessions); err != nil {
				return err
			}
		}
		if r := ch.EndSession; r != nil {
			n, err := tx.Exec(ctx, `DELETE FROM tokens WHERE user_id = ? AND id = ?`, r.User, r.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return store.ErrNotFound
			}
		}
		if ch.RevokeLinks != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM setup_links WHERE user_id = ? AND used_at = 0`, ch.RevokeLinks); err != nil {
				return err
			}
		}
		if l := ch.CreateLink; l != nil {
			created := l.CreatedAt
			if created.IsZero() {
				created = now
			}
			_, err := tx.Exec(ctx, `INSERT INTO setup_links (hash, org, user_id, purpose, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				l.Hash, l.Org, l.User, l.Purpose, l.CreatedBy, created.UnixMilli(), l.ExpiresAt.UnixMilli())
			if err := e.conflict(err); err != nil {
				return err
			}
		}
		if t := ch.CreateToken; t != nil {
			if err := e.createToken(ctx, tx, *t, now); err != nil {
				return err
			}
		}
		if ch.SignedIn != "" {
			if _, err := tx.Exec(ctx, `UPDATE users SET last_signin_at = ? WHERE id = ?`, now.UnixMilli(), ch.SignedIn); err != nil {
				return err
			}
		}
		if st := ch.SetSetting; st != nil {
			if err := e.setOrgSetting(ctx, tx, st.Org, st.Key, st.Value, now); err != nil {
				return err
			}
		}
		for _, a := range ch.Audit {
			if err := e.appendAudit(ctx, tx, a, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// appendAudit adds an entry. Where hubs follow the log by id (AuditSince) while others write it,
// LockAudit orders the writes: an id is drawn when a row is inserted, not when it commits, so ids
// must commit in order. Account changes are rare; they wait for each other, chat never does.
func (e *Engine) appendAudit(ctx context.Context, tx Tx, a store.AuditEntry, now time.Time) error {
	if a.At.IsZero() {
		a.At = now
	}
	if e.LockAudit != "" {
		if _, err := tx.Exec(ctx, e.LockAudit); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit (org, at, actor, actor_name, action, target, detail, addr) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Org, a.At.UnixMilli(), a.Actor, e.Text(a.ActorName), a.Action, e.Text(a.Target), e.Text(a.Detail), e.Text(a.Addr))
	return err
}

// SetupLink implements store.AccountStore.
func (e *Engine) SetupLink(ctx context.Context, hash string) (store.SetupLink, error) {
	return ScanLink(e.DB.QueryRow(ctx, `SELECT `+LinkCols+` FROM setup_links WHERE hash = ?`, hash))
}

// UseSetupLink implements store.AccountStore. The link's row is locked (ForUpdate), so a link
// used on two hubs at once works once.
func (e *Engine) UseSetupLink(ctx context.Context, hash, passwordHash string, now time.Time, audit store.AuditEntry) (store.User, error) {
	var u store.User
	err := e.inTx(ctx, func(tx Tx) error {
		l, err := ScanLink(tx.QueryRow(ctx, `SELECT `+LinkCols+` FROM setup_links WHERE hash = ?`+e.ForUpdate, hash))
		if err != nil {
			return err
		}
		switch {
		case !l.UsedAt.IsZero():
			return store.ErrLinkUsed
		case !now.Before(l.ExpiresAt):
			return store.ErrLinkExpired
		}
		u, err = ScanUser(tx.QueryRow(ctx, `SELECT `+UserCols+` FROM users WHERE id = ?`, l.User))
		if err != nil {
			return err
		}
		if u.Disabled {
			return store.ErrDisabled
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
			if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return e.appendAudit(ctx, tx, audit, now)
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// AuditLog implements store.AccountStore.
func (e *Engine) AuditLog(ctx context.Context, org wire.OrgID, q store.AuditQuery) ([]store.AuditEntry, error) {
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
	return queryAll(ctx, e.DB, ScanAudit, `SELECT `+AuditCols+` FROM audit WHERE `+where+` ORDER BY id DESC LIMIT ?`,
		append(args, e.limit(q.Limit))...)
}

// AuditSince implements store.AccountStore. Where hubs write at once, audit rows commit in id
// order (appendAudit), so a reader that moves its mark past an id never skips one committed a
// moment later.
func (e *Engine) AuditSince(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	return queryAll(ctx, e.DB, ScanAudit, `SELECT `+AuditCols+` FROM audit WHERE id > ? ORDER BY id LIMIT ?`, after, e.limit(limit))
}

// LastAuditID implements store.AccountStore.
func (e *Engine) LastAuditID(ctx context.Context) (int64, error) {
	var id int64
	err := e.DB.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM audit`).Scan(&id)
	return id, err
}

// PutGrant implements store.AccountStore.
func (e *Engine) PutGrant(ctx context.Context, g store.Grant) error {
	_, err := e.DB.Exec(ctx, `INSERT INTO grants (hash, kind, org, data, expires_at) VALUES (?, ?, ?, ?, ?)`,
		g.Hash, g.Kind, g.Org, e.Text(g.Data), g.ExpiresAt.UnixMilli())
	if e.IsUnique(err) {
		return store.ErrConflict
	}
	return err
}

// TakeGrant implements store.AccountStore.
func (e *Engine) TakeGrant(ctx context.Context, hash, kind string, now time.Time) (store.Grant, error) {
	var g store.Grant
	var exp int64
	err := e.DB.QueryRow(ctx, `DELETE FROM grants WHERE hash = ? AND kind = ? RETURNING hash, kind, org, data, expires_at`, hash, kind).
		Scan(&g.Hash, &g.Kind, &g.Org, &g.Data, &exp)
	if err != nil {
		return g, NotFound(err)
	}
	g.ExpiresAt = time.UnixMilli(exp)
	if !now.Before(g.ExpiresAt) {
		return store.Grant{}, store.ErrNotFound
	}
	return g, nil
}

// SetSetupResult implements store.AccountStore.
func (e *Engine) SetSetupResult(ctx context.Context, user wire.UserID, r wire.SetupResult) error {
	n, err := e.DB.Exec(ctx, `UPDATE users SET setup_status = ?, setup_problems = ?, setup_at = ? WHERE id = ?`,
		e.Text(r.Status), e.Text(strings.Join(r.Problems, ",")), r.At, user)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// SetupResults implements store.AccountStore.
func (e *Engine) SetupResults(ctx context.Context, org wire.OrgID) (map[wire.UserID]wire.SetupResult, error) {
	rows, err := e.DB.Query(ctx, `SELECT id, setup_status, setup_problems, setup_at FROM users WHERE org = ? AND setup_status <> ''`, org)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[wire.UserID]wire.SetupResult{}
	for rows.Next() {
		id, r, err := ScanSetupResult(rows)
		if err != nil {
			return nil, err
		}
		out[id] = r
	}
	return out, rows.Err()
}
