package app_test

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

// TestQuickReplies: an agent reads the organisation's and queues' quick replies, keeps their own
// (which a colleague never sees), cannot save a bad shortcut, and removes their own.
func TestQuickReplies(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	one, _ := signIn(t, hubURL, "agent1")
	two, _ := signIn(t, hubURL, "agent2")
	shortcuts := func(l []wire.QuickReply) []string {
		var out []string
		for _, q := range l {
			out = append(out, string(q.Scope)+":"+q.Shortcut)
		}
		slices.Sort(out)
		return out
	}

	l, err := one.Conversations.QuickReplies()
	if err != nil {
		t.Fatalf("QuickReplies = %v", err)
	}
	if got, want := shortcuts(l), []string{"org:bye", "org:hello", "queue:refund"}; !slices.Equal(got, want) {
		t.Fatalf("QuickReplies = %v; want the demo's %v", got, want)
	}
	if _, err := one.Conversations.SaveQuickReply("", "Not A Shortcut!", "x"); wire.ErrorCode(err) != wire.EINVALID {
		t.Errorf("SaveQuickReply(bad shortcut) = %v; want EINVALID", err)
	}
	if _, err := one.Conversations.SaveQuickReply("", "empty", "  "); wire.ErrorCode(err) != wire.EINVALID {
		t.Errorf("SaveQuickReply(no text) = %v; want EINVALID", err)
	}
	mine, err := one.Conversations.SaveQuickReply("", "/seats", "Hi {customer_name}, 40 seats come with a 10% discount.")
	if err != nil {
		t.Fatalf("SaveQuickReply = %v", err)
	}
	if mine.Scope != wire.QuickReplyPersonal || mine.Shortcut != "seats" || mine.ID == "" {
		t.Errorf("SaveQuickReply = %+v; want a personal /seats", mine)
	}
	l, _ = one.Conversations.QuickReplies()
	if got := shortcuts(l); !slices.Contains(got, "personal:seats") {
		t.Errorf("agent1's replies = %v; want their /seats", got)
	}
	l, _ = two.Conversations.QuickReplies()
	if got := shortcuts(l); slices.Contains(got, "personal:seats") {
		t.Errorf("agent2's replies = %v; agent1's own reply must not be there", got)
	}
	// A colleague can neither change nor remove it.
	if _, err := two.Conversations.SaveQuickReply(mine.ID, "seats", "mine now"); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("agent2 SaveQuickReply(agent1's) = %v; want ENOTFOUND", err)
	}
	if err := two.Conversations.DeleteQuickReply(mine.ID); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("agent2 DeleteQuickReply(agent1's) = %v; want ENOTFOUND", err)
	}
	if _, err := one.Conversations.SaveQuickReply(mine.ID, "seats", "Forty seats: 10% off."); err != nil {
		t.Errorf("SaveQuickReply(edit) = %v", err)
	}
	if err := one.Conversations.DeleteQuickReply(mine.ID); err != nil {
		t.Fatalf("DeleteQuickReply = %v", err)
	}
	l, _ = one.Conversations.QuickReplies()
	if got, want := shortcuts(l), []string{"org:bye", "org:hello", "queue:refund"}; !slices.Equal(got, want) {
		t.Errorf("after removing: %v; want %v", got, want)
	}
}
