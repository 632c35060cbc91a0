// Package storetest checks that a store.Store engine keeps the AccountStore's promises: the same
// tests run against every engine (hub/sqlite and hub/postgres), so one behaves like another.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Open returns a fresh, empty store whose clock is now; the test closes it.
type Open func(t *testing.T, now func() time.Time) store.Store

// Accounts runs the account tests against the engine open makes.
func Accounts(t *testing.T, open Open) {
	run(t, open, []test{
		{"ApplyIsAllOrNothing", applyIsAllOrNothing},
		{"LastAdminStays", lastAdminStays},
		{"SetupLinks", setupLinks},
		{"SessionsEndAndRenew", sessionsEndAndRenew},
		{"ListUsersSearchesAndPages", listUsers},
		{"AuditLogPages", auditLog},
		{"GrantsAreOneTime", grants},
		{"SetupResultsKept", setupResults},
	})
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func fixed() time.Time { return t0 }

func bg() context.Context { return context.Background() }

// orgWithAdmin makes organisation "o" with an admin "boss" (id u_boss).
func orgWithAdmin(t *testing.T, s store.Store) {
	t.Helper()
	err := s.Apply(bg(), store.Change{
		CreateOrg:  &store.Org{ID: "o", Name: "Org", Region: "na"},
		CreateUser: &store.User{ID: "u_boss", Org: "o", Username: "boss", DisplayName: "Boss", Role: wire.RoleAdmin, Capacity: 3},
		Audit:      []store.AuditEntry{{Org: "o", ActorName: "parley-hub", Action: "org.create", Target: "o"}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func applyIsAllOrNothing(t *testing.T, open Open) {
	s := open(t, fixed)
	orgWithAdmin(t, s)
	if o, err := s.Org(bg(), "o"); err != nil || o.Name != "Org" || o.Language != "en" {
		t.Fatalf("Org = %+v, %v; want Org, language en by default", o, err)
	}
	// A Change whose second write clashes leaves no trace of its first.
	err := s.Apply(bg(), store.Change{
		CreateOrg:  &store.Org{ID: "o2", Name: "Second"},
		CreateUser: &store.User{ID: "u_x", Org: "o", Username: "boss", Role: wire.RoleAgent, Capacity: 1},
		Audit:      []store.AuditEntry{{Org: "o2", Action: "org.create"}},
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Apply with a taken username = %v; want ErrConflict", err)
	}
	if _, err := s.Org(bg(), "o2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the half-applied Change created its organisation: %v", err)
	}
	if log, _ := s.AuditLog(bg(), "o2", store.AuditQuery{}); len(log) != 0 {
		t.Errorf("the half-applied Change wrote audit %+v", log)
	}
	// A user in an organisation that does not exist is refused.
	err = s.Apply(bg(), store.Change{CreateUser: &store.User{ID: "u_y", Org: "nope", Username: "y", Role: wire.RoleAgent}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateUser in a missing organisation = %v; want ErrNotFound", err)
	}
	// Updating a missing member is ErrNotFound.
	err = s.Apply(bg(), store.Change{UpdateUser: &store.User{ID: "u_none", Org: "o", Username: "none", Role: wire.RoleAgent}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateUser of a missing member = %v; want ErrNotFound", err)
	}
	// An organisation's fields, language included, round-trip.
	err = s.Apply(bg(), store.Change{UpdateOrg: &store.Org{ID: "o", Name: "Renamed", Region: "gcc", Calls: wire.CallsVoiceOnly, Language: "es"}})
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Org(bg(), "o"); o.Name != "Renamed" || o.Region != "gcc" || o.Calls != wire.CallsVoiceOnly || o.Language != "es" {
		t.Errorf("after UpdateOrg: %+v", o)
	}
	orgs, err := s.Orgs(bg())
	if err != nil || len(orgs) != 1 || orgs[0].ID != "o" {
		t.Errorf("Orgs = %+v, %v", orgs, err)
	}
}

func lastAdminStays(t *testing.T, open Open) {
	s := open(t, fixed)
	orgWithAdmin(t, s)
	boss, err := s.UserByName(bg(), "o", "boss")
	if err != nil {
		t.Fatal(err)
	}
	demoted := boss
	demoted.Role = wire.RoleAgent
	if err := s.Apply(bg(), store.Change{UpdateUser: &demoted}); !errors.Is(err, store.ErrLastAdmin) {
		t.Errorf("demoting the only admin = %v; want ErrLastAdmin", err)
	}
	disabled := boss
	disabled.Disabled = true
	if err := s.Apply(bg(), store.Change{UpdateUser: &disabled, EndSessions: boss.ID}); !errors.Is(err, store.ErrLastAdmin) {
		t.Errorf("disabling the only admin = %v; want ErrLastAdmin", err)
	}
	if u, _ := s.User(bg(), boss.ID); u.Role != wire.RoleAdmin || u.Disabled {
		t.Errorf("a refused change stuck: %+v", u)
	}
	second := store.User{ID: "u_two", Org: "o", Username: "two", DisplayName: "Two", Role: wire.RoleAdmin, Capacity: 1}
	if err := s.Apply(bg(), store.Change{CreateUser: &second}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(bg(), store.Change{UpdateUser: &disabled}); err != nil {
		t.Errorf("disabling one of two admins = %v", err)
	}
	if u, _ := s.User(bg(), boss.ID); !u.Disabled {
		t.Errorf("not disabled: %+v", u)
	}
}

func setupLinks(t *testing.T, open Open) {
	now := t0
	s := open(t, func() time.Time { return now })
	orgWithAdmin(t, s)
	link := func(hash string, ttl time.Duration) {
		t.Helper()
		err := s.Apply(bg(), store.Change{CreateLink: &store.SetupLink{Hash: hash, Org: "o", User: "u_boss", Purpose: "invite", ExpiresAt: now.Add(ttl)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	link("h1", time.Hour)
	link("h2", time.Hour)
	if err := s.Apply(bg(), store.Change{CreateToken: &store.Token{Hash: "tokenhash-0123456789abcdef", Org: "o", Role: wire.RoleAdmin, User: "u_boss", ExpiresAt: now.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	l, err := s.SetupLink(bg(), "h1")
	if err != nil || l.User != "u_boss" || !l.UsedAt.IsZero() || !l.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("SetupLink = %+v, %v", l, err)
	}
	u, err := s.UseSetupLink(bg(), "h1", "bcrypt-hash", now, store.AuditEntry{Org: "o", Action: "member.password_set", Target: "boss"})
	if err != nil || u.PasswordHash != "bcrypt-hash" {
		t.Fatalf("UseSetupLink = %+v, %v", u, err)
	}
	if u, _ := s.User(bg(), "u_boss"); u.PasswordHash != "bcrypt-hash" {
		t.Errorf("password hash not stored: %+v", u)
	}
	if _, err := s.UseSetupLink(bg(), "h1", "again", now, store.AuditEntry{Org: "o", Action: "x"}); !errors.Is(err, store.ErrLinkUsed) {
		t.Errorf("second use = %v; want ErrLinkUsed", err)
	}
	// Using one link revoked the member's other link and ended their sessions.
	if _, err := s.UseSetupLink(bg(), "h2", "other", now, store.AuditEntry{Org: "o", Action: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the other link = %v; want ErrNotFound (revoked)", err)
	}
	if ss, _ := s.Sessions(bg(), "u_boss", now); len(ss) != 0 {
		t.Errorf("sessions after setting a password: %+v", ss)
	}
	link("h3", time.Minute)
	now = now.Add(time.Minute)
	if _, err := s.UseSetupLink(bg(), "h3", "late", now, store.AuditEntry{Org: "o", Action: "x"}); !errors.Is(err, store.ErrLinkExpired) {
		t.Errorf("expired link = %v; want ErrLinkExpired", err)
	}
	if _, err := s.UseSetupLink(bg(), "nope", "x", now, store.AuditEntry{Org: "o", Action: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown link = %v; want ErrNotFound", err)
	}
	// A disabled member's link does not work.
	second := store.User{ID: "u_a", Org: "o", Username: "a", DisplayName: "A", Role: wire.RoleAgent, Capacity: 1, Disabled: true}
	if err := s.Apply(bg(), store.Change{CreateUser: &second, CreateLink: &store.SetupLink{Hash: "h4", Org: "o", User: "u_a", Purpose: "invite", ExpiresAt: now.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseSetupLink(bg(), "h4", "x", now, store.AuditEntry{Org: "o", Action: "x"}); !errors.Is(err, store.ErrDisabled) {
		t.Errorf("disabled member's link = %v; want ErrDisabled", err)
	}
	log, _ := s.AuditLog(bg(), "o", store.AuditQuery{})
	if len(log) != 2 || log[0].Action != "member.password_set" {
		t.Errorf("audit = %+v; want org.create then one member.password_set (the refused uses wrote nothing)", log)
	}
}

func sessionsEndAndRenew(t *testing.T, open Open) {
	now := t0
	s := open(t, func() time.Time { return now })
	orgWithAdmin(t, s)
	mk := func(hash string, at time.Time) {
		t.Helper()
		now = at
		err := s.Apply(bg(), store.Change{
			CreateToken: &store.Token{Hash: hash, Org: "o", Role: wire.RoleAdmin, User: "u_boss", ExpiresAt: at.Add(time.Hour), Addr: "192.0.2.7", Client: "console", Method: "password"},
			SignedIn:    "u_boss",
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	mk("aaaaaaaaaaaaaaaaaaaaaaaa", t0)
	mk("bbbbbbbbbbbbbbbbbbbbbbbb", t0.Add(time.Minute))
	ss, err := s.Sessions(bg(), "u_boss", now)
	if err != nil || len(ss) != 2 || ss[0].Hash != "bbbbbbbbbbbbbbbbbbbbbbbb" || ss[0].ID == "" || ss[0].ID == ss[1].ID ||
		ss[0].Addr != "192.0.2.7" || ss[0].Client != "console" || ss[0].Method != "password" || !ss[0].CreatedAt.Equal(now) {
		t.Fatalf("Sessions = %+v, %v; want two, newest first, with id, address, client, method", ss, err)
	}
	if u, _ := s.User(bg(), "u_boss"); !u.LastSignIn.Equal(now) {
		t.Errorf("LastSignIn = %v; want %v", u.LastSignIn, now)
	}
	// Renewing swaps the hash and expiry, keeps the id.
	id := ss[1].ID
	if err := s.RenewToken(bg(), "aaaaaaaaaaaaaaaaaaaaaaaa", "cccccccccccccccccccccccc", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(bg(), "aaaaaaaaaaaaaaaaaaaaaaaa"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old token after renew = %v; want ErrNotFound", err)
	}
	if tok, err := s.Token(bg(), "cccccccccccccccccccccccc"); err != nil || tok.ID != id || !tok.ExpiresAt.Equal(now.Add(2*time.Hour)) {
		t.Errorf("renewed token = %+v, %v; want id %s", tok, err, id)
	}
	if err := s.RenewToken(bg(), "aaaaaaaaaaaaaaaaaaaaaaaa", "dddddddddddddddddddddddd", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("renewing a replaced token = %v; want ErrNotFound", err)
	}
	// Ending one session by id.
	if err := s.Apply(bg(), store.Change{EndSession: &store.SessionRef{User: "u_boss", ID: id}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(bg(), store.Change{EndSession: &store.SessionRef{User: "u_boss", ID: id}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ending it again = %v; want ErrNotFound", err)
	}
	if ss, _ := s.Sessions(bg(), "u_boss", now); len(ss) != 1 {
		t.Errorf("after ending one: %+v", ss)
	}
	if err := s.Apply(bg(), store.Change{EndSessions: "u_boss"}); err != nil {
		t.Fatal(err)
	}
	if ss, _ := s.Sessions(bg(), "u_boss", now); len(ss) != 0 {
		t.Errorf("after ending all: %+v", ss)
	}
	if err := s.DeleteToken(bg(), "nothing"); err != nil {
		t.Errorf("DeleteToken of nothing = %v", err)
	}
	// A customer's token ends with its conversation, never later than it would have.
	if err := s.CreateConversation(bg(), wire.Conversation{ID: "c", Org: "o", State: wire.ConvActive}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(bg(), store.Token{Hash: "customer-token-hash-0123", Org: "o", Role: wire.RoleCustomer, Conv: "c", ExpiresAt: now.Add(7 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.ExpireConversationTokens(bg(), "c", now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.ExpireConversationTokens(bg(), "c", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if tok, _ := s.Token(bg(), "customer-token-hash-0123"); !tok.ExpiresAt.Equal(now.Add(10 * time.Minute)) {
		t.Errorf("customer token expires %v; want %v", tok.ExpiresAt, now.Add(10*time.Minute))
	}
}

func listUsers(t *testing.T, open Open) {
	s := open(t, fixed)
	orgWithAdmin(t, s)
	for i := range 25 {
		role := wire.RoleAgent
		if i%5 == 0 {
			role = wire.RoleSupervisor
		}
		u := store.User{ID: wire.UserID(fmt.Sprintf("u_%02d", i)), Org: "o", Username: fmt.Sprintf("agent%02d", i),
			DisplayName: fmt.Sprintf("Agent %02d", i), Role: role, Capacity: 2, Email: fmt.Sprintf("a%02d@Example.com", i)}
		if err := s.Apply(bg(), store.Change{CreateUser: &u}); err != nil {
			t.Fatal(err)
		}
	}
	odd := store.User{ID: "u_pct", Org: "o", Username: "per%cent_x", DisplayName: "Zoë Ñandú", Role: wire.RoleAgent, Capacity: 1}
	if err := s.Apply(bg(), store.Change{CreateUser: &odd}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q     store.UserQuery
		first string
		n     int
		total int
	}{
		{store.UserQuery{Limit: 10}, "agent00", 10, 27},
		{store.UserQuery{Limit: 10, Offset: 20}, "agent20", 7, 27},
		{store.UserQuery{Search: "AGENT 1"}, "agent10", 10, 10},
		{store.UserQuery{Search: "example.COM", Limit: 3}, "agent00", 3, 25},
		{store.UserQuery{Role: wire.RoleSupervisor}, "agent00", 5, 5},
		{store.UserQuery{Search: "%"}, "per%cent_x", 1, 1},
		{store.UserQuery{Search: "_"}, "per%cent_x", 1, 1},
		{store.UserQuery{Search: "zoë"}, "per%cent_x", 1, 1},
		{store.UserQuery{Search: "nobody"}, "", 0, 0},
	}
	for _, tt := range tests {
		us, total, err := s.ListUsers(bg(), "o", tt.q)
		first := ""
		if len(us) > 0 {
			first = us[0].Username
		}
		if err != nil || len(us) != tt.n || total != tt.total || first != tt.first {
			t.Errorf("ListUsers(%+v) = %d users from %q of %d, %v; want %d from %q of %d", tt.q, len(us), first, total, err, tt.n, tt.first, tt.total)
		}
	}
	if _, total, _ := s.ListUsers(bg(), "other", store.UserQuery{}); total != 0 {
		t.Errorf("another organisation's list has %d", total)
	}
}

func auditLog(t *testing.T, open Open) {
	now := t0
	s := open(t, func() time.Time { return now })
	orgWithAdmin(t, s)
	for i := range 5 {
		now = t0.Add(time.Duration(i+1) * time.Minute)
		err := s.Apply(bg(), store.Change{Audit: []store.AuditEntry{{Org: "o", Actor: "u_boss", ActorName: "boss", Action: "member.update",
			Target: fmt.Sprintf("agent%d", i), Detail: "role agent → supervisor", Addr: "2001:db8::1"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Apply(bg(), store.Change{CreateOrg: &store.Org{ID: "p", Name: "P"}, Audit: []store.AuditEntry{{Org: "p", Action: "org.create"}}}); err != nil {
		t.Fatal(err)
	}
	page, err := s.AuditLog(bg(), "o", store.AuditQuery{Limit: 4})
	if err != nil || len(page) != 4 || page[0].Target != "agent4" || !page[0].At.Equal(t0.Add(5*time.Minute)) || page[0].Addr != "2001:db8::1" || page[0].Detail != "role agent → supervisor" {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	next, _ := s.AuditLog(bg(), "o", store.AuditQuery{Limit: 4, Before: page[3].ID})
	if len(next) != 2 || next[0].Target != "agent0" || next[1].Action != "org.create" {
		t.Errorf("second page = %+v", next)
	}
	window, _ := s.AuditLog(bg(), "o", store.AuditQuery{Since: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute)})
	if len(window) != 2 || window[0].Target != "agent2" || window[1].Target != "agent1" {
		t.Errorf("entries in [2 min, 4 min) = %+v", window)
	}
	all, _ := s.AuditSince(bg(), 0, 0)
	if len(all) != 7 || all[0].Action != "org.create" || all[6].Org != "p" {
		t.Errorf("AuditSince(0) = %+v; want all 7, oldest first", all)
	}
	if last, _ := s.LastAuditID(bg()); last != all[6].ID {
		t.Errorf("LastAuditID = %d; want the newest, %d", last, all[6].ID)
	}
	tail, _ := s.AuditSince(bg(), all[4].ID, 1)
	if len(tail) != 1 || tail[0].ID != all[5].ID {
		t.Errorf("AuditSince(%d, 1) = %+v", all[4].ID, tail)
	}
}

func grants(t *testing.T, open Open) {
	now := t0
	s := open(t, func() time.Time { return now })
	orgWithAdmin(t, s)
	g := store.Grant{Hash: "g1", Kind: "oidc.state", Org: "o", Data: `{"nonce":"n"}`, ExpiresAt: now.Add(time.Minute)}
	if err := s.PutGrant(bg(), g); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeGrant(bg(), "g1", "app.code", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TakeGrant of the wrong kind = %v; want ErrNotFound", err)
	}
	got, err := s.TakeGrant(bg(), "g1", "oidc.state", now)
	if err != nil || got.Data != g.Data || got.Org != "o" {
		t.Errorf("TakeGrant = %+v, %v", got, err)
	}
	if _, err := s.TakeGrant(bg(), "g1", "oidc.state", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second TakeGrant = %v; want ErrNotFound (one-time)", err)
	}
	g.Hash = "g2"
	if err := s.PutGrant(bg(), g); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeGrant(bg(), "g2", "oidc.state", now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired TakeGrant = %v; want ErrNotFound", err)
	}
	g.Hash = "g3"
	if err := s.PutGrant(bg(), g); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteExpiredTokens(bg(), now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeGrant(bg(), "g3", "oidc.state", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("grant after the sweep = %v; want ErrNotFound", err)
	}
}

// setupResults: a member's last "Test my setup" is kept with them, replaced by the next, and
// listed per organisation only for those who have one.
func setupResults(t *testing.T, open Open) {
	s := open(t, fixed)
	orgWithAdmin(t, s)
	err := s.Apply(bg(), store.Change{CreateUser: &store.User{ID: "u_ann", Org: "o", Username: "ann", DisplayName: "Ann", Role: wire.RoleAgent, Capacity: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.SetupResults(bg(), "o"); err != nil || len(got) != 0 {
		t.Fatalf("SetupResults before any = %v, %v; want none", got, err)
	}
	first := wire.SetupResult{Status: "fail", Problems: []string{"relay_down", "media_failed"}, At: t0.UnixMilli()}
	if err := s.SetSetupResult(bg(), "u_ann", first); err != nil {
		t.Fatalf("SetSetupResult: %v", err)
	}
	next := wire.SetupResult{Status: "pass", At: t0.Add(time.Minute).UnixMilli()}
	for _, r := range []wire.SetupResult{first, next} {
		if err := s.SetSetupResult(bg(), "u_ann", r); err != nil {
			t.Fatalf("SetSetupResult: %v", err)
		}
		got, err := s.SetupResults(bg(), "o")
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got["u_ann"], r) {
			t.Errorf("SetupResults = %+v, %v; want only u_ann's %+v", got, err, r)
		}
	}
	if err := s.SetSetupResult(bg(), "u_nobody", first); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetSetupResult of nobody = %v; want ErrNotFound", err)
	}
}
