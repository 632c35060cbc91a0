package hub

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/parleyhq/parley/hub/postgres"
	"github.com/parleyhq/parley/hub/sqlite"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// OpenStore opens the store a -db value names: a PostgreSQL database (postgres://... or
// postgresql://..., the store a cluster of hubs shares) or else a SQLite file (created if
// missing). The hub, its subcommands and tools all open their database here.
func OpenStore(ctx context.Context, db string, now func() time.Time) (store.Store, error) {
	return openStore(ctx, db, sqlite.Options{Now: now})
}

// openStore is OpenStore with the database's options (the hub's -db-synchronous).
func openStore(ctx context.Context, db string, opt sqlite.Options) (store.Store, error) {
	if db == "" {
		return nil, errors.New("hub: no database given (-db or PARLEY_DB)")
	}
	if postgres.IsDSN(db) {
		return postgres.Open(ctx, db, opt.Now)
	}
	return sqlite.OpenWith(ctx, db, opt)
}

// Manager changes organisations and accounts in a hub's database without serving it: what
// parley-hub's subcommands use. A hub running on the same database picks the changes up from
// the audit log within Config.AuditPoll (sessions ended, members disabled, conversations
// requeued).
type Manager struct {
	*Server
}

// OpenManager opens cfg.DB (or uses cfg.Store) for account management.
func OpenManager(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Accounts.defaults()
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, store: cfg.Store}
	if s.store == nil {
		db, err := OpenStore(ctx, cfg.DB, cfg.Now)
		if err != nil {
			return nil, err
		}
		s.store, s.ownStore = db, true
	}
	return &Manager{s}, nil
}

// Close closes the database (when the Manager opened it).
func (m *Manager) Close() error {
	if m.ownStore {
		return m.store.Close()
	}
	return nil
}

// Orgs lists the hub's organisations.
func (m *Manager) Orgs(ctx context.Context) ([]store.Org, error) { return m.store.Orgs(ctx) }

// Org reads one organisation.
func (m *Manager) Org(ctx context.Context, id wire.OrgID) (store.Org, error) {
	return m.orgRecord(ctx, id)
}

// Member reads one member of org by id or username.
func (m *Manager) Member(ctx context.Context, org wire.OrgID, who string) (store.User, error) {
	return m.memberOf(ctx, org, who)
}

// MemberView is how the API and the command line show a member.
func MemberView(u store.User) wire.Member { return memberView(u) }

// IssueToken starts a session for a member without a password, for automation (the headless
// agent's -token): it lasts ttl (at most Config.SessionMaxAge), is listed with the member's
// sessions as "cli"/"token", and is in the audit log.
func (m *Manager) IssueToken(ctx context.Context, by Actor, org wire.OrgID, who string, ttl time.Duration) (wire.LoginResponse, error) {
	u, err := m.memberOf(ctx, org, who)
	if err != nil {
		return wire.LoginResponse{}, err
	}
	if u.Disabled {
		return wire.LoginResponse{}, store.ErrDisabled
	}
	if ttl <= 0 || ttl > m.cfg.SessionMaxAge {
		return wire.LoginResponse{}, wire.Errorf(wire.EINVALID, "the token's lifetime must be more than 0 and at most %s", m.cfg.SessionMaxAge)
	}
	token, hash := newToken()
	now := m.now()
	tok := store.Token{Hash: hash, Org: u.Org, Role: u.Role, User: u.ID, CreatedAt: now, ExpiresAt: now.Add(ttl), Client: "cli", Method: "token", Addr: by.Addr}
	err = m.store.Apply(ctx, store.Change{CreateToken: &tok, Audit: []store.AuditEntry{by.entry(org, AuditSignIn, u.Username, "token for automation, "+ttl.String())}})
	if err != nil {
		return wire.LoginResponse{}, err
	}
	return wire.LoginResponse{Token: token, ExpiresAt: tok.ExpiresAt.UnixMilli(), User: u.Wire()}, nil
}

// SchemaVersion returns the schema version of the database a -db value names, without changing
// it (0 for a new one), and this hub's (parley-hub migrate --status).
func SchemaVersion(ctx context.Context, db string) (have, want int, err error) {
	if postgres.IsDSN(db) {
		return postgres.Version(ctx, db)
	}
	return sqlite.Version(ctx, db)
}
