package store

import (
	"encoding/json"
	"strings"

	"github.com/parleyhq/parley/wire"
)

// EncodeEvent is how every engine stores a system line's event: JSON text, or nil (NULL) for
// none. One form for all engines, so a database moves between them as it is.
func EncodeEvent(ev *wire.Event) any {
	if ev == nil {
		return nil
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil
	}
	return string(b)
}

// DecodeEvent reads a stored event; a missing or unreadable one is nil (the text remains).
func DecodeEvent(s string) *wire.Event {
	if s == "" {
		return nil
	}
	var ev wire.Event
	if json.Unmarshal([]byte(s), &ev) != nil || ev.Kind == "" {
		return nil
	}
	return &ev
}

// Clean makes text storable in every engine: PostgreSQL's text cannot hold NUL, which SQLite's
// can, so both store U+FFFD (the replacement character) in its place.
func Clean(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}
