package hub_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/wire"
	"github.com/pion/turn/v5"
	"golang.org/x/oauth2"
)

// clusterNode starts a demo hub as node name of the cluster on dsn.
func clusterNode(t *testing.T, dsn, name string, tweak ...func(*hub.Config)) *hub.Server {
	return startHub(t, append([]func(*hub.Config){func(c *hub.Config) {
		c.DB = dsn
		c.Cluster = hub.ClusterConfig{Node: name, LeaseTTL: 3 * time.Second,
			OnLost: func(org wire.OrgID, err error) { t.Errorf("node %s lost %s: %v", name, org, err) }}
	}}, tweak...)...)
}

// gauge reads one of s's metrics (the test runs on the same machine, which may read them).
func gauge(t *testing.T, s *hub.Server, series string) float64 {
	t.Helper()
	res, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func waitGauge(t *testing.T, s *hub.Server, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for gauge(t, s, series) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v; want %v", series, gauge(t, s, series), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two nodes: the organisation is served by the first; customers connect to the second, which
// relays them. A customer whose device went silent (it answers no ping) is dropped as the owner
// would drop it, although the owner's own pings are answered by the relay; a live customer stays.
func TestClusterRelayChecksItsClients(t *testing.T) {
	dsn := pgtest.Database(t)
	idle := func(c *hub.Config) { c.Limits.IdleTimeout = 300 * time.Millisecond }
	a := clusterNode(t, dsn, "a", idle)
	if _, conv := customer(t, a, "Owner's first"); conv.ID == "" { // a takes the organisation
		t.Fatal("no conversation")
	}
	b := clusterNode(t, dsn, "b", idle)
	if got := b.OwnedOrgs(); len(got) != 0 {
		t.Fatalf("b owns %v; a does", got)
	}
	if a, b := gauge(t, a, "parley_cluster_owned_orgs"), gauge(t, b, "parley_cluster_owned_orgs"); a != 1 || b != 0 {
		t.Errorf("parley_cluster_owned_orgs: a %v, b %v; want 1, 0", a, b)
	}
	live, _ := customer(t, b, "Live")
	started, err := client.StartConversation(ctx(t), b.URL(), hub.DemoOrg, "Silent")
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.Dial(ctx(t), "ws"+b.URL()[len("http"):]+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	hello, _ := wire.Encode(wire.TypeHello, "", wire.Hello{Token: started.Token})
	if err := ws.Write(ctx(t), websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	// The silent one never reads again, so it answers no ping.
	const series = `parley_hub_connections{role="customer"}`
	waitGauge(t, a, series, 3)
	waitGauge(t, a, series, 2)
	time.Sleep(time.Second) // three idle times: the live customer answers its pings
	if n := gauge(t, a, series); n != 2 {
		t.Fatalf("%s = %v after the silent customer went; want 2", series, n)
	}
	if live.conn.State() != client.StateConnected {
		t.Errorf("live customer: %s", live.conn.State())
	}
}

// A sign-in goes to its organisation's node whichever node it reaches: wrong passwords for one
// account, alternating between two nodes, back off after the same five as on one hub.
func TestClusterSignInLimitsHoldAcrossNodes(t *testing.T) {
	dsn := pgtest.Database(t)
	a := clusterNode(t, dsn, "a")
	if _, err := client.StartConversation(ctx(t), a.URL(), hub.DemoOrg, "First"); err != nil { // a takes the organisation
		t.Fatal(err)
	}
	b := clusterNode(t, dsn, "b")
	for i := range 6 {
		s := []*hub.Server{a, b}[i%2]
		_, err := client.Login(ctx(t), s.URL(), hub.DemoOrg, "agent1", "wrong")
		want := wire.EUNAUTHORIZED
		if i == 5 {
			want = wire.ERATELIMITED
		}
		wantCode(t, "sign-in "+strconv.Itoa(i+1), err, want)
	}
	if _, err := client.Login(ctx(t), b.URL(), hub.DemoOrg, "agent2", hub.DemoPassword); err != nil {
		t.Errorf("another account through b: %v", err)
	}
}

// TURN credentials one node issues allocate on another node's embedded relay: every node derives
// the relays' secret from the cluster's, so a party whose call moved to another node (its node
// died) renews its credentials there and may use any node's relay.
func TestClusterTURNCredentialsWorkOnEveryNode(t *testing.T) {
	dsn := pgtest.Database(t)
	turnOn := func(c *hub.Config) { c.TURNUDP = "127.0.0.1:0" }
	a := clusterNode(t, dsn, "a", turnOn)
	b := clusterNode(t, dsn, "b", turnOn)
	ice, err := a.ICEPlan("call-x", wire.AuthorCustomer)
	if err != nil {
		t.Fatal(err)
	}
	var user, pass string
	for _, sv := range ice.Servers {
		if sv.Credential != "" {
			user, pass = sv.Username, sv.Credential
		}
	}
	if user == "" {
		t.Fatalf("node a handed no TURN credentials: %+v", ice)
	}
	for _, s := range []*hub.Server{a, b} {
		if err := allocate(t, s.TURN().UDPAddr(), user, pass); err != nil {
			t.Errorf("allocating on %s's relay with a's credentials: %v", s.NodeName(), err)
		}
	}
	if err := allocate(t, b.TURN().UDPAddr(), user, pass+"x"); err == nil {
		t.Error("b's relay took a forged credential")
	}
}

// allocate asks the TURN server at addr for a relayed address with user and pass.
func allocate(t *testing.T, addr net.Addr, user, pass string) error {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cl, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: addr.String(), TURNServerAddr: addr.String(),
		Conn: conn, Username: user, Password: pass, RTO: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	relayed, err := cl.Allocate()
	if err != nil {
		return err
	}
	return relayed.Close()
}

// Setup links and token renewal are not passed to the organisation's node: they live in the
// store, so any node serves them. A setup link made on the owner works on another node, the
// member signs in there, and a session opened on one node renews on the other.
func TestClusterAccountsWorkThroughAnyNode(t *testing.T) {
	dsn := pgtest.Database(t)
	a := clusterNode(t, dsn, "a")
	if _, err := client.StartConversation(ctx(t), a.URL(), hub.DemoOrg, "First"); err != nil { // a takes the organisation
		t.Fatal(err)
	}
	b := clusterNode(t, dsn, "b")
	inv, err := a.InviteMember(ctx(t), hub.CommandLine, hub.DemoOrg, hub.NewMember{Username: "newcomer", Role: wire.RoleAgent}, a.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup(t, b, inv.URL, goodPassword); err != nil {
		t.Fatalf("setup link made on a, used on b: %v", err)
	}
	login, err := client.Login(ctx(t), b.URL(), hub.DemoOrg, "newcomer", goodPassword)
	if err != nil {
		t.Fatalf("signing in on b: %v", err)
	}
	var renewed wire.RenewResponse
	if err := client.API(ctx(t), a.URL(), http.MethodPost, "/api/v1/token/renew", login.Token, nil, &renewed); err != nil || renewed.Token == "" {
		t.Fatalf("renewing b's session on a = %+v, %v", renewed, err)
	}
	var me wire.Me
	if err := client.API(ctx(t), b.URL(), http.MethodGet, "/api/v1/me", renewed.Token, nil, &me); err != nil || me.User.Username != "newcomer" {
		t.Fatalf("the renewed token on b = %+v, %v", me, err)
	}
}

// A single sign-on started on one node finishes on another: behind one public address (a load
// balancer that sends each request to the node the test picks), the browser's start, the
// provider's redirect back and the app's code exchange each reach a different node than the step
// before. The sign-in's state, nonce and PKCE verifier, and the one-time code, are grants in the
// store, so no step needs the node of the step before. The real test provider signs the member in.
func TestClusterSSOFinishesOnAnotherNode(t *testing.T) {
	dsn := pgtest.Database(t)
	var (
		mu   sync.Mutex
		to   = map[string]*hub.Server{} // the node each step goes to, by path
		hits = map[string]string{}      // the node each step reached, by path
		name = map[*hub.Server]string{}
	)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		s := to[r.URL.Path]
		hits[r.URL.Path] = name[s]
		mu.Unlock()
		if s == nil {
			http.NotFound(w, r)
			return
		}
		u, _ := url.Parse(s.URL())
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	defer front.Close()
	public := func(c *hub.Config) { c.PublicURL = front.URL }
	a := clusterNode(t, dsn, "a", public)
	adm := adminConsole(t, a) // a takes acme
	b := clusterNode(t, dsn, "b", public)
	name[a], name[b] = "a", "b"
	ssoProvider(t, adm, front.URL, false)

	for _, tc := range []struct{ start, callback, token *hub.Server }{{a, b, a}, {b, a, b}} {
		mu.Lock()
		to["/sso/start"], to["/sso/callback"], to["/api/v1/sso/token"] = tc.start, tc.callback, tc.token
		mu.Unlock()
		route := name[tc.start] + "→" + name[tc.callback] + "→" + name[tc.token]
		verifier := oauth2.GenerateVerifier()
		q := newBrowser(t).signInThrough(a, front.URL, "acme", "ann", "ann-pw", verifier)
		if e := q.Get("error"); e != "" || q.Get("state") != "app-state-1" {
			t.Fatalf("%s: the app got %v", route, q)
		}
		login, err := client.ExchangeSSO(ctx(t), front.URL, q.Get("code"), verifier)
		if err != nil {
			t.Fatalf("%s: exchanging the code: %v", route, err)
		}
		mu.Lock()
		got := hits["/sso/start"] + "→" + hits["/sso/callback"] + "→" + hits["/api/v1/sso/token"]
		mu.Unlock()
		if got != route {
			t.Fatalf("the steps reached %s; want %s", got, route)
		}
		if login.User.Username != "ann@acme.test" || login.User.Role != wire.RoleAgent {
			t.Errorf("%s: signed in as %+v; want agent ann@acme.test", route, login.User)
		}
		// The session works on both nodes.
		for _, s := range []*hub.Server{a, b} {
			var me wire.Me
			if err := client.API(ctx(t), s.URL(), http.MethodGet, "/api/v1/me", login.Token, nil, &me); err != nil || me.User.Username != "ann@acme.test" {
				t.Errorf("%s: the session on %s = %+v, %v", route, name[s], me.User, err)
			}
		}
		// The code worked once.
		if _, err := client.ExchangeSSO(ctx(t), b.URL(), q.Get("code"), verifier); wire.ErrorCode(err) != wire.EUNAUTHORIZED {
			t.Errorf("%s: the code again on b: %v; want EUNAUTHORIZED", route, err)
		}
	}
}
