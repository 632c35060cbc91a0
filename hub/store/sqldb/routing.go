package sqldb

import (
	"encoding/json"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// ScanQueue scans a queue selected as settings, is_default: the settings are the queue as JSON.
func ScanQueue(row Row) (wire.Queue, error) {
	var raw string
	var q wire.Queue
	var def bool
	if err := row.Scan(&raw, &def); err != nil {
		return q, err
	}
	if err := json.Unmarshal([]byte(raw), &q); err != nil {
		return q, err
	}
	q.Default = def
	return q, nil
}

// Members gathers an organisation's members' queues and skills into wire.MemberRoutings, in the
// order the members first appear.
type Members struct {
	byUser map[wire.UserID]*wire.MemberRouting
	order  []wire.UserID
}

func (ms *Members) get(u wire.UserID) *wire.MemberRouting {
	if ms.byUser == nil {
		ms.byUser = map[wire.UserID]*wire.MemberRouting{}
	}
	m := ms.byUser[u]
	if m == nil {
		m = &wire.MemberRouting{User: u, Queues: []wire.QueueID{}, Skills: []wire.Skill{}}
		ms.byUser[u] = m
		ms.order = append(ms.order, u)
	}
	return m
}

// AddQueue scans a member's queue selected as user_id, queue.
func (ms *Members) AddQueue(row Row) (struct{}, error) {
	var u wire.UserID
	var q wire.QueueID
	if err := row.Scan(&u, &q); err != nil {
		return struct{}{}, err
	}
	m := ms.get(u)
	m.Queues = append(m.Queues, q)
	return struct{}{}, nil
}

// AddSkill scans a member's skill selected as user_id, skill, level.
func (ms *Members) AddSkill(row Row) (struct{}, error) {
	var u wire.UserID
	var s wire.Skill
	if err := row.Scan(&u, &s.Name, &s.Level); err != nil {
		return struct{}{}, err
	}
	m := ms.get(u)
	m.Skills = append(m.Skills, s)
	return struct{}{}, nil
}

// List is every member gathered.
func (ms *Members) List() []wire.MemberRouting {
	out := make([]wire.MemberRouting, 0, len(ms.order))
	for _, u := range ms.order {
		out = append(out, *ms.byUser[u])
	}
	return out
}

// ConvRoutingCols are the columns ScanConvRouting reads and ConvRoutingValues gives, in their order.
const ConvRoutingCols = `conv, queue, queued_at, visit, message, contact, skills, transfer`

// ScanConvRouting scans a conversation's routing selected with ConvRoutingCols: skills and
// transfer are JSON, empty when there are none (a value that does not parse is left out).
func ScanConvRouting(row Row) (wire.ConversationID, store.ConvRouting, error) {
	var id wire.ConversationID
	var r store.ConvRouting
	var skills, transfer string
	if err := row.Scan(&id, &r.Queue, &r.QueuedAt, &r.Visit, &r.Message, &r.Contact, &skills, &transfer); err != nil {
		return id, r, err
	}
	if skills != "" {
		_ = json.Unmarshal([]byte(skills), &r.Skills)
	}
	if transfer != "" {
		var t wire.TransferInfo
		if json.Unmarshal([]byte(transfer), &t) == nil {
			r.Transfer = &t
		}
	}
	return id, r, nil
}

// ConvRoutingValues are conv's routing r in ConvRoutingCols' order, for storing.
func ConvRoutingValues(conv wire.ConversationID, r store.ConvRouting) []any {
	var skills, transfer string
	if len(r.Skills) > 0 {
		b, _ := json.Marshal(r.Skills)
		skills = string(b)
	}
	if r.Transfer != nil {
		b, _ := json.Marshal(r.Transfer)
		transfer = string(b)
	}
	return []any{conv, r.Queue, r.QueuedAt, r.Visit, r.Message, store.Clean(r.Contact), store.Clean(skills), store.Clean(transfer)}
}
