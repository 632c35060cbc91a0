package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// TestCallRenewsTURNCredentials is a government organisation's call, relay-only through the
// hub's relay, that outlives its TURN credentials: the hub sends both parties fresh ones, the
// agent's app restarts ICE onto new allocations made with them, and the call carries on.
func TestCallRenewsTURNCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("real media call")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const ttl = 6 * time.Second // renewed after 4 s
	s := openHub(t, hub.Config{Demo: true, TURNUDP: "127.0.0.1:0", TURN: hub.TURNLimits{CredentialTTL: ttl}})
	if err := s.SetOrgCalls(ctx, hub.DemoOrg, wire.CallsVoiceVideo, "gcc"); err != nil {
		t.Fatal(err)
	}
	svc, rec, cust := callAgent(t, s.URL())
	if _, err := svc.Calls.Start(cust.conv, wire.CallVoice); err != nil {
		t.Fatal(err)
	}

	// The customer answers; only then does it get its (relay-only) ICE servers.
	ring := waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.State == wire.CallRinging })
	cust.request(t, wire.TypeCallAccept, wire.CallAccept{Call: ring.ID})
	active := waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.ID == ring.ID && c.State == wire.CallActive && c.ICE != nil })
	servers := func(ice *wire.ICEConfig) []media.ICEServer {
		var out []media.ICEServer
		for _, sv := range ice.Servers {
			out = append(out, media.ICEServer{URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
		}
		return out
	}
	mc, err := media.NewCall(media.Options{Audio: true, Microphone: media.TestPatternID, Speaker: "none",
		ICEServers: servers(active.ICE), RelayOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Close() })
	peer := &customerPeer{t: t, cust: cust, mc: mc, call: ring.ID}
	peer.trickle()
	go peer.follow(ctx)

	waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.State == "active" && v.Connection == "connected" }))
	first := s.TURN().Stats().AllocationsTotal

	// The renewal: the customer takes its fresh credentials as the portal does; the agent's app
	// restarts ICE, and both sides allocate again on the relay with the new ones.
	renewed := waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool {
		return c.ID == ring.ID && c.State == wire.CallActive && c.ICE != nil && c.ICE.Servers[0].Username != active.ICE.Servers[0].Username
	})
	if err := mc.SetICEServers(servers(renewed.ICE), true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new allocations made with the renewed credentials", func() bool {
		return s.TURN().Stats().AllocationsTotal >= first+2
	})
	// Past the old credentials' expiry the call is still up, through the relay.
	time.Sleep(ttl)
	waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.State == "active" && v.Connection == "connected" }))
	eventually(t, "the customer still hears the agent", func() bool { return mc.Stats().AudioLevel > 0.01 })
	if st := mc.Stats(); !st.Relayed {
		t.Errorf("customer's stats %+v; want the call relayed", st)
	}
}
