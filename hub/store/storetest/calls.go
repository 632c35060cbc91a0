package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Calls runs the call and report tests: organisations' call settings, saving calls, ending the
// open ones at start, the conversations and calls reports, the supervisor's figures.
func Calls(t *testing.T, open Open) {
	run(t, open, []test{
		{"OrgCallSettings", orgCallSettings},
		{"SaveEndAndReport", callsSaveEndReport},
		{"StatsCountOutcomes", statsOutcomes},
	})
}

func orgCallSettings(t *testing.T, open Open) {
	ctx := bg()
	db := open(t, nil)
	if err := db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"}); err != nil {
		t.Fatal(err)
	}
	o, err := db.Org(ctx, "o")
	if err != nil || o.Calls != wire.CallsVoiceVideo || o.Region != "" || o.Language != "en" || o.CreatedAt.IsZero() {
		t.Errorf("new org = %+v, %v; want voice_video, no region, en, a creation time", o, err)
	}
	o.Calls, o.Region = wire.CallsVoiceOnly, "gcc"
	if err := db.UpdateOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	if o2, _ := db.Org(ctx, "o"); o2.Calls != wire.CallsVoiceOnly || o2.Region != "gcc" {
		t.Errorf("after UpdateOrg: %+v", o2)
	}
	if err := db.UpdateOrg(ctx, store.Org{ID: "nope", Name: "N"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateOrg(nope) = %v; want ErrNotFound", err)
	}
}

func callsSaveEndReport(t *testing.T, open Open) {
	ctx := bg()
	db := open(t, nil)
	if err := db.CreateOrg(ctx, store.Org{ID: "o", Name: "O", Region: "na"}); err != nil {
		t.Fatal(err)
	}
	conv := wire.Conversation{ID: "c", Org: "o", State: wire.ConvActive, CustomerName: "Ann", AgentID: "u", AgentName: "Agent", CreatedAt: 1000, AcceptedAt: 2000}
	if err := db.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	calls := []store.CallRecord{
		{Call: wire.Call{ID: "k1", Conv: "c", Kind: wire.CallVideo, State: wire.CallEnded, Outcome: wire.OutcomeDeclined, CreatedAt: 3000, EndedAt: 4000}, Org: "o", Agent: "u"},
		{Call: wire.Call{ID: "k2", Conv: "c", Kind: wire.CallVideo, State: wire.CallActive, Outcome: wire.OutcomeAcceptedVideo, CreatedAt: 5000, AnsweredAt: 6000}, Org: "o", Agent: "u"},
		{Call: wire.Call{ID: "k3", Conv: "c", Kind: wire.CallVoice, State: wire.CallRinging, CreatedAt: 7000}, Org: "o", Agent: "u"},
	}
	for _, c := range calls {
		if err := db.SaveCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// Saving again updates.
	calls[0].EndedBy = wire.AuthorCustomer
	if err := db.SaveCall(ctx, calls[0]); err != nil {
		t.Fatal(err)
	}
	// The hub restarted: the active and the ringing call end; the unanswered one failed.
	if n, err := db.EndOpenCalls(ctx, 66000, "hub_restart"); err != nil || n != 2 {
		t.Fatalf("EndOpenCalls = %d, %v; want 2", n, err)
	}
	got, err := db.CallsOf(ctx, "c")
	if err != nil || len(got) != 3 {
		t.Fatalf("CallsOf = %+v, %v", got, err)
	}
	if got[0].EndedBy != wire.AuthorCustomer || got[1].State != wire.CallEnded || got[1].Outcome != wire.OutcomeAcceptedVideo || got[1].EndedAt != 66000 ||
		got[2].Outcome != wire.OutcomeFailed || got[2].Reason != "hub_restart" || got[2].Agent != "u" || got[2].Org != "o" {
		t.Errorf("after EndOpenCalls: %+v", got)
	}
	conv.State, conv.EndedAt = wire.ConvEnded, 122000
	if err := db.UpdateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Report(ctx, "o", 0, 200000)
	if err != nil || len(rows) != 1 {
		t.Fatalf("Report = %+v, %v", rows, err)
	}
	r := rows[0]
	if r.HandleMS != 120000 || r.Calls != 3 || r.Answered != 1 || r.CallMS != 60000 || len(r.CallKinds) != 3 || r.CallKinds[2] != wire.CallVoice || len(r.Outcomes) != 3 || r.Outcomes[0] != wire.OutcomeDeclined || r.Outcomes[2] != wire.OutcomeFailed || r.Conv.CustomerName != "Ann" {
		t.Errorf("report row = %+v", r)
	}
	if rows, _ := db.Report(ctx, "o", 122001, 200000); len(rows) != 0 {
		t.Errorf("Report after the end = %d rows; want 0", len(rows))
	}
	if cr, err := db.CallsReport(ctx, "o", 4000, 66001); err != nil || len(cr) != 3 || cr[0].ID != "k1" {
		t.Errorf("CallsReport = %+v, %v; want the three calls", cr, err)
	}
	if cr, _ := db.CallsReport(ctx, "o", 4001, 66000); len(cr) != 0 {
		t.Errorf("CallsReport outside the window = %d calls; want 0", len(cr))
	}
	st, err := db.Stats(ctx, "o", 0)
	if err != nil || st.WithCall != 1 || st.AHTWithCallMS != 120000 || st.WithoutCall != 0 || st.AvgCallMS != 60000 ||
		st.Calls[wire.OutcomeDeclined] != 1 || st.Calls[wire.OutcomeAcceptedVideo] != 1 || st.Calls[wire.OutcomeFailed] != 1 {
		t.Errorf("Stats = %+v, %v", st, err)
	}
}

// The supervisor's figures: chats with and without an answered call, their average handle time,
// resolved, abandoned and auto-closed ones, from the given time on.
func statsOutcomes(t *testing.T, open Open) {
	ctx := bg()
	db := open(t, nil)
	db.CreateOrg(ctx, store.Org{ID: "o", Name: "O"})
	db.CreateOrg(ctx, store.Org{ID: "p", Name: "P"})
	for _, c := range []wire.Conversation{
		{ID: "a", Org: "o", CreatedAt: 0, AcceptedAt: 1000, EndedAt: 11000, Outcome: wire.OutcomeResolved},
		{ID: "b", Org: "o", CreatedAt: 0, AcceptedAt: 1000, EndedAt: 31000, Outcome: wire.OutcomeResolved},
		{ID: "c", Org: "o", CreatedAt: 0, AcceptedAt: 1000, EndedAt: 5000, Outcome: wire.OutcomeAbandoned, EndReason: wire.EndInactivity},
		{ID: "d", Org: "o", CreatedAt: 0, EndedAt: 9000, Outcome: wire.OutcomeAbandoned},             // left in the queue
		{ID: "e", Org: "o", CreatedAt: 0, AcceptedAt: 1, EndedAt: 50, Outcome: wire.OutcomeResolved}, // before since
		{ID: "f", Org: "p", CreatedAt: 0, AcceptedAt: 1000, EndedAt: 11000, Outcome: wire.OutcomeResolved},
		{ID: "g", Org: "o", CreatedAt: 0, AcceptedAt: 1000, State: wire.ConvActive}, // still open
	} {
		if c.State == "" {
			c.State = wire.ConvEnded
		}
		if err := db.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SaveCall(ctx, store.CallRecord{Call: wire.Call{ID: "k", Conv: "b", Kind: wire.CallVoice, State: wire.CallEnded,
		Outcome: wire.OutcomeAcceptedAudio, CreatedAt: 2000, AnsweredAt: 3000, EndedAt: 9000}, Org: "o", Agent: "u"}); err != nil {
		t.Fatal(err)
	}
	st, err := db.Stats(ctx, "o", 100)
	if err != nil {
		t.Fatal(err)
	}
	if st.WithCall != 1 || st.AHTWithCallMS != 30000 || st.WithoutCall != 2 || st.AHTWithoutCallMS != 7000 ||
		st.Resolved != 2 || st.Abandoned != 2 || st.AutoClosed != 1 || st.AvgCallMS != 6000 || st.Calls[wire.OutcomeAcceptedAudio] != 1 || st.SinceMS != 100 {
		t.Errorf("Stats = %+v; want 1 with call (AHT 30 s), 2 without (7 s), 2 resolved, 2 abandoned, 1 auto-closed, a 6 s call", st)
	}
	// The report holds the conversations without a call too (the join's NULLs), each once.
	rows, err := db.Report(ctx, "o", 100, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s:%d", r.Conv.ID, r.Calls))
	}
	if want := "c:0 d:0 a:0 b:1"; strings.Join(got, " ") != want {
		t.Errorf("Report = %v; want %s (conversation:calls, by end)", got, want)
	}
}
