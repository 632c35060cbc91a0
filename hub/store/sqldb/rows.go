package sqldb

import (
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Row is one row to scan: a *sql.Row or *sql.Rows of hub/sqlite, a pgx.Row or pgx.Rows of
// hub/postgres.
type Row interface{ Scan(dest ...any) error }

// NotFound reports a query that found no row (database/sql's ErrNoRows, which pgx's wraps) as
// store.ErrNotFound.
func NotFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// Millis is t in Unix milliseconds, 0 for the zero time.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMillis is the inverse of Millis.
func FromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// LanguageOrDefault is the stored default language: English unless stated.
func LanguageOrDefault(l string) string {
	if l == "" {
		return "en"
	}
	return l
}

// CallsOrDefault is the stored call setting: voice and video unless stated.
func CallsOrDefault(c wire.CallsAllowed) wire.CallsAllowed {
	if c == "" {
		return wire.CallsVoiceVideo
	}
	return c
}

// OrgCols are the columns ScanOrg reads, in its order.
const OrgCols = `id, name, created_at, region, calls, language`

// ScanOrg scans an organisation selected with OrgCols.
func ScanOrg(row Row) (store.Org, error) {
	var o store.Org
	var at int64
	err := row.Scan(&o.ID, &o.Name, &at, &o.Region, &o.Calls, &o.Language)
	o.CreatedAt = time.UnixMilli(at)
	return o, NotFound(err)
}

// UserCols are the columns ScanUser reads, in its order.
const UserCols = `id, org, username, display_name, role, password_hash, capacity, created_at, email, disabled, external_id, last_signin_at`

// ScanUser scans a member selected with UserCols.
func ScanUser(row Row) (store.User, error) {
	var u store.User
	var at, last int64
	err := row.Scan(&u.ID, &u.Org, &u.Username, &u.DisplayName, &u.Role, &u.PasswordHash, &u.Capacity, &at,
		&u.Email, &u.Disabled, &u.ExternalID, &last)
	u.CreatedAt = time.UnixMilli(at)
	u.LastSignIn = FromMillis(last)
	return u, NotFound(err)
}

// TokenCols are the columns ScanToken reads, in its order.
const TokenCols = `hash, id, org, role, user_id, conv, created_at, expires_at, addr, client, method`

// ScanToken scans a token selected with TokenCols.
func ScanToken(row Row) (store.Token, error) {
	var t store.Token
	var created, exp int64
	err := row.Scan(&t.Hash, &t.ID, &t.Org, &t.Role, &t.User, &t.Conv, &created, &exp, &t.Addr, &t.Client, &t.Method)
	t.CreatedAt, t.ExpiresAt = time.UnixMilli(created), time.UnixMilli(exp)
	return t, NotFound(err)
}

// ConvCols are the columns ConvFields names, in its order.
const ConvCols = `id, org, state, customer_name, agent_id, agent_name, last_seq, created_at, accepted_at, ended_at, ended_by,
	customer, customer_since, activity_at, end_reason, outcome, wrap_code, wrap_note, wrap_ms`

// ConvFields are the fields of c in ConvCols' order, for scanning.
func ConvFields(c *wire.Conversation) []any {
	return []any{&c.ID, &c.Org, &c.State, &c.CustomerName, &c.AgentID, &c.AgentName, &c.LastSeq, &c.CreatedAt, &c.AcceptedAt,
		&c.EndedAt, &c.EndedBy, &c.Customer, &c.CustomerSince, &c.ActivityAt, &c.EndReason, &c.Outcome, &c.WrapCode, &c.WrapNote, &c.WrapMS}
}

// ScanConv scans a conversation selected with ConvCols.
func ScanConv(row Row) (wire.Conversation, error) {
	var c wire.Conversation
	err := row.Scan(ConvFields(&c)...)
	return c, NotFound(err)
}

// MsgCols are the columns ScanMsg reads, in its order.
const MsgCols = `conv, seq, author, author_name, text, COALESCE(client_id, ''), at, COALESCE(event, ''), internal`

// ScanMsg scans a message selected with MsgCols.
func ScanMsg(row Row) (wire.Message, error) {
	var m wire.Message
	var ev string
	err := row.Scan(&m.Conv, &m.Seq, &m.Author, &m.AuthorName, &m.Text, &m.ClientID, &m.At, &ev, &m.Internal)
	m.Event = store.DecodeEvent(ev)
	return m, NotFound(err)
}

// LinkCols are the columns ScanLink reads, in its order.
const LinkCols = `hash, org, user_id, purpose, created_by, created_at, expires_at, used_at`

// ScanLink scans a setup link selected with LinkCols.
func ScanLink(row Row) (store.SetupLink, error) {
	var l store.SetupLink
	var created, expires, used int64
	err := row.Scan(&l.Hash, &l.Org, &l.User, &l.Purpose, &l.CreatedBy, &created, &expires, &used)
	l.CreatedAt, l.ExpiresAt, l.UsedAt = time.UnixMilli(created), time.UnixMilli(expires), FromMillis(used)
	return l, NotFound(err)
}

// AuditCols are the columns ScanAudit reads, in its order.
const AuditCols = `id, org, at, actor, actor_name, action, target, detail, addr`

// ScanAudit scans an audit entry selected with AuditCols.
func ScanAudit(row Row) (store.AuditEntry, error) {
	var a store.AuditEntry
	var at int64
	err := row.Scan(&a.ID, &a.Org, &at, &a.Actor, &a.ActorName, &a.Action, &a.Target, &a.Detail, &a.Addr)
	a.At = time.UnixMilli(at)
	return a, err
}

// CallCols are the columns ScanCall reads, in its order.
const CallCols = `id, conv, org, agent_id, kind, state, outcome, reason, ended_by, created_at, answered_at, ended_at`

// ScanCall scans a call selected with CallCols.
func ScanCall(row Row) (store.CallRecord, error) {
	var c store.CallRecord
	err := row.Scan(&c.ID, &c.Conv, &c.Org, &c.Agent, &c.Kind, &c.State, &c.Outcome, &c.Reason, &c.EndedBy, &c.CreatedAt, &c.AnsweredAt, &c.EndedAt)
	return c, NotFound(err)
}

// VisitCols are the columns ScanVisit reads, in its order.
const VisitCols = `conv, n, org, queue, entered_at, answered_at, first_response_at, left_at, outcome, agent_id, message, with_call`

// ScanVisit scans a queue visit selected with VisitCols.
func ScanVisit(row Row) (store.Visit, error) {
	var v store.Visit
	err := row.Scan(&v.Conv, &v.N, &v.Org, &v.Queue, &v.EnteredAt, &v.AnsweredAt, &v.FirstResponseAt, &v.LeftAt,
		&v.Outcome, &v.Agent, &v.Message, &v.WithCall)
	return v, err
}

// Rows are the rows of a query: *sql.Rows, pgx.Rows.
type Rows interface {
	Row
	Next() bool
	Err() error
}

// Collect scans every row with scan; the caller closes rows.
func Collect[T any](rows Rows, scan func(Row) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ScanString scans a row of one text column.
func ScanString(row Row) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

// ScanReceipt scans a receipt selected as by, kind, seq.
func ScanReceipt(row Row) (store.Receipt, error) {
	var r store.Receipt
	err := row.Scan(&r.By, &r.Kind, &r.Seq)
	return r, err
}

// ScanConsultant scans a colleague reading along, selected as conv, user_id.
func ScanConsultant(row Row) (store.Consultant, error) {
	var c store.Consultant
	err := row.Scan(&c.Conv, &c.User)
	return c, err
}

// QuickReplyCols are the columns ScanQuickReply reads, in its order.
const QuickReplyCols = `id, scope, queue, owner, shortcut, text, updated_at`

// ScanQuickReply scans a quick reply selected with QuickReplyCols.
func ScanQuickReply(row Row) (wire.QuickReply, error) {
	var q wire.QuickReply
	err := row.Scan(&q.ID, &q.Scope, &q.Queue, &q.Owner, &q.Shortcut, &q.Text, &q.UpdatedAt)
	return q, err
}

// ScanSetupResult scans a member's last "Test my setup", selected as id, setup_status,
// setup_problems, setup_at.
func ScanSetupResult(row Row) (wire.UserID, wire.SetupResult, error) {
	var id wire.UserID
	var r wire.SetupResult
	var problems string
	err := row.Scan(&id, &r.Status, &problems, &r.At)
	if problems != "" {
		r.Problems = strings.Split(problems, ",")
	}
	return id, r, err
}

// TokenValues are t's columns in TokenCols' order, for storing: a token made at now unless it
// says when, and named after its hash unless it has an id.
func TokenValues(t store.Token, now time.Time) []any {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	if t.ID == "" && len(t.Hash) >= 20 {
		t.ID = "s_" + t.Hash[:20]
	}
	return []any{t.Hash, t.ID, t.Org, t.Role, t.User, t.Conv, t.CreatedAt.UnixMilli(), t.ExpiresAt.UnixMilli(),
		store.Clean(t.Addr), store.Clean(t.Client), store.Clean(t.Method)}
}
