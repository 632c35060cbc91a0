package hub

// A hub node of a cluster (docs/cluster.md): several parley-hub processes on one PostgreSQL
// database. Each organisation is served by exactly one node at a time, the one holding its lease
// (hub/cluster): that node's router holds the organisation's queues, agents and conversations,
// and every WebSocket and API request of the organisation ends there. A node that receives a
// connection or request for an organisation another node owns passes it through to the owner
// (a WebSocket relay, a reverse proxy); an organisation nobody owns is taken by the node that
// first needs it, or by the renew loop up to the node's fair share. A node that dies stops
// renewing; once its leases expire the next node to need an organisation takes it over and loads
// its open conversations from the store, as a restarting hub does, and the clients resume from
// their last acknowledged seq. Writes of a node that lost a lease are refused by the database
// (the fence trigger), and the node stops at once (crash-only: its supervisor starts it again).

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/cluster"
	"github.com/parleyhq/parley/hub/postgres"
	"github.com/parleyhq/parley/wire"
)

// ClusterConfig makes the hub one node of a cluster; it needs a PostgreSQL database.
type ClusterConfig struct {
	// Node names the node (default: not clustered). A random part is added per process.
	Node string
	// URL is where the other nodes reach this one (default: the address it listens on).
	URL string
	// LeaseTTL is how long an organisation's lease lasts unrenewed: how long a dead node's
	// organisations wait before another node takes them over (default 4 s; renewed every third).
	LeaseTTL time.Duration
	// OnLost is called when the node lost an organisation it was serving (paused or cut off
	// from the database past its lease). Default: log and exit the process with status 75, for
	// its supervisor to start it again with a clean state.
	OnLost func(org wire.OrgID, err error)
}

// StatusReconnect is the WebSocket close code of a node handing its connections over (draining,
// or the organisation's node gone): the client reconnects at once, to any node.
const StatusReconnect = client.StatusReconnect

// Headers a node adds to what it passes through to the owner: the cluster's secret, and the
// client's address as the first node saw it (limits count the customer, not the node).
const (
	hdrClusterSecret = "X-Parley-Cluster"
	hdrClusterClient = "X-Parley-Client"
)

var errOrgMoving = &wire.Error{Code: wire.EUNAVAILABLE, Message: "the organisation is moving to another hub node; try again"}

type heldLease struct {
	lease   cluster.Lease
	renewed time.Time
}

// clusterNode is the hub's side of the cluster.
type clusterNode struct {
	s      *Server
	name   string
	url    string
	ttl    time.Duration
	secret string
	leases *cluster.Leases
	nodes  *cluster.Nodes
	onLost func(wire.OrgID, error)

	// acq serialises acquiring (and adopting) organisations.
	acq sync.Mutex
	mu  sync.Mutex
	// owned are the organisations this node serves.
	owned map[wire.OrgID]*heldLease
	// relays are the client connections passed through to other nodes.
	relays map[*websocket.Conn]struct{}

	draining atomic.Bool
	started  atomic.Bool
	// lastRound is when the renew loop last reached the database (Unix ns).
	lastRound atomic.Int64
	stop      chan struct{}
	stopped   chan struct{}
}

// openCluster opens the store for a node and the cluster's tables.
func (s *Server) openCluster(ctx context.Context) error {
	cc := s.cfg.Cluster
	if cc.LeaseTTL <= 0 {
		cc.LeaseTTL = 4 * time.Second
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := cc.Node + "-" + hex.EncodeToString(b)
	if s.store == nil {
		if !postgres.IsDSN(s.cfg.DB) {
			return errors.New("hub: a cluster node needs a PostgreSQL database (-db postgres://…)")
		}
		db, err := postgres.OpenNode(ctx, s.cfg.DB, s.cfg.Now, name)
		if err != nil {
			return err
		}
		s.store, s.ownStore = db, true
	}
	pg, ok := s.store.(interface{ Pool() *pgxpool.Pool })
	if !ok {
		return errors.New("hub: a cluster node needs a PostgreSQL store")
	}
	leases, err := cluster.New(ctx, pg.Pool(), name, cc.LeaseTTL)
	if err != nil {
		return err
	}
	nodes, err := cluster.NewNodes(ctx, pg.Pool())
	if err != nil {
		return err
	}
	secret, err := nodes.Secret(ctx)
	if err != nil {
		return err
	}
	strikes, err := cluster.NewStrikes(ctx, pg.Pool())
	if err != nil {
		return err
	}
	s.limitState = clusterLimits{LimitState: s.limitState, strikes: strikes, log: s.log}
	onLost := cc.OnLost
	if onLost == nil {
		onLost = func(org wire.OrgID, err error) {
			s.log.Error("this node lost an organisation it was serving; stopping so it starts again clean", "org", org, "err", err)
			os.Exit(75)
		}
	}
	s.cluster = &clusterNode{s: s, name: name, url: cc.URL, ttl: cc.LeaseTTL, secret: secret, leases: leases, nodes: nodes,
		onLost: onLost, owned: map[wire.OrgID]*heldLease{}, relays: map[*websocket.Conn]struct{}{},
		stop: make(chan struct{}), stopped: make(chan struct{})}
	return nil
}

// NodeName is the cluster node's name ("" when not clustered).
func (s *Server) NodeName() string {
	if s.cluster == nil {
		return ""
	}
	return s.cluster.name
}

// OwnedOrgs lists the organisations this node serves (nil when not clustered).
func (s *Server) OwnedOrgs() []wire.OrgID {
	if s.cluster == nil {
		return nil
	}
	cn := s.cluster
	cn.mu.Lock()
	defer cn.mu.Unlock()
	out := make([]wire.OrgID, 0, len(cn.owned))
	for o := range cn.owned {
		out = append(out, o)
	}
	return out
}

// start registers the node and starts the renew loop (the server listens).
func (cn *clusterNode) start() error {
	if cn.url == "" {
		cn.url = cn.s.URL()
	}
	ctx, cancel := dbctx()
	defer cancel()
	if err := cn.nodes.Heartbeat(ctx, cn.name, cn.url, false); err != nil {
		return err
	}
	cn.lastRound.Store(time.Now().UnixNano())
	cn.started.Store(true)
	cn.s.log.Info("cluster node up", "node", cn.name, "url", cn.url, "lease", cn.ttl)
	go cn.loop()
	return nil
}

func (cn *clusterNode) owns(org wire.OrgID) bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.owned[org] != nil
}

// ready reports whether the renew loop reached the database within a lease time.
func (cn *clusterNode) ready() bool {
	return !cn.draining.Load() && time.Since(time.Unix(0, cn.lastRound.Load())) < cn.ttl
}

// loop renews the node's leases every third of the lease time and takes unowned organisations
// up to the node's share, until stop.
func (cn *clusterNode) loop() {
	defer close(cn.stopped)
	t := time.NewTicker(cn.ttl / 3)
	defer t.Stop()
	for {
		cn.round()
		select {
		case <-cn.stop:
			return
		case <-t.C:
		}
	}
}

func (cn *clusterNode) round() {
	ctx, cancel := context.WithTimeout(context.Background(), cn.ttl/2)
	defer cancel()
	ok := cn.nodes.Heartbeat(ctx, cn.name, cn.url, cn.draining.Load()) == nil
	cn.mu.Lock()
	held := make([]*heldLease, 0, len(cn.owned))
	for _, h := range cn.owned {
		held = append(held, h)
	}
	cn.mu.Unlock()
	for _, h := range held {
		le, err := cn.leases.Renew(ctx, h.lease)
		switch {
		case err == nil:
			cn.mu.Lock()
			h.lease, h.renewed = le, time.Now()
			cn.mu.Unlock()
		case errors.Is(err, cluster.ErrLost):
			cn.lose(h.lease.Org, err)
			return
		default:
			ok = false
			if time.Since(h.renewed) >= cn.ttl {
				cn.lose(h.lease.Org, err)
				return
			}
		}
	}
	if ok {
		cn.lastRound.Store(time.Now().UnixNano())
	}
	if cn.draining.Load() || !ok {
		return
	}
	share, err := cn.nodes.Share(ctx, cn.ttl.Microseconds())
	if err != nil {
		return
	}
	unheld, err := cn.nodes.Unheld(ctx)
	if err != nil {
		return
	}
	for _, org := range unheld {
		cn.mu.Lock()
		n := len(cn.owned)
		cn.mu.Unlock()
		if n >= share {
			return
		}
		if err := cn.acquire(org); err != nil && !errors.Is(err, cluster.ErrHeld) {
			cn.s.log.Warn("taking an organisation over", "org", org, "err", err)
		}
	}
}

func (cn *clusterNode) lose(org wire.OrgID, err error) {
	cn.s.metrics.clusterLost.Inc()
	cn.mu.Lock()
	delete(cn.owned, org)
	cn.mu.Unlock()
	cn.onLost(org, err)
}

// acquire takes org's lease and loads its state; nil when the node already owns it.
func (cn *clusterNode) acquire(org wire.OrgID) error {
	cn.acq.Lock()
	defer cn.acq.Unlock()
	if cn.owns(org) {
		return nil
	}
	if cn.draining.Load() {
		return ErrClosed
	}
	ctx, cancel := dbctx()
	defer cancel()
	le, err := cn.leases.Acquire(ctx, org)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := cn.s.router.adopt(org); err != nil {
		_ = cn.leases.Release(ctx, le)
		return err
	}
	cn.mu.Lock()
	cn.owned[org] = &heldLease{lease: le, renewed: start}
	n := len(cn.owned)
	cn.mu.Unlock()
	cn.s.metrics.clusterOwned.Set(float64(n))
	cn.s.metrics.clusterTakeovers.Inc()
	cn.s.log.Info("serving organisation", "org", org, "epoch", le.Epoch, "loaded_in", time.Since(start).Round(time.Millisecond))
	return nil
}

// route says where org is served: here (nil Node) after taking it if nobody owns it, or at
// another node. fromPeer is set for a request another node passed through: it is never passed on
// again. An owner that is draining is waited for (up to a lease time) until it lets go.
func (cn *clusterNode) route(ctx context.Context, org wire.OrgID, fromPeer bool) (*cluster.Node, error) {
	deadline := time.Now().Add(cn.ttl + time.Second)
	for {
		if cn.owns(org) {
			return nil, nil
		}
		if cn.draining.Load() {
			return nil, ErrClosed
		}
		le, live, err := cn.leases.Holder(ctx, org)
		if err != nil {
			return nil, wire.Errorf(wire.EUNAVAILABLE, "the hub's database is not answering")
		}
		switch {
		case live && le.Node != cn.name:
			nd, ok, err := cn.nodes.Lookup(ctx, le.Node)
			if err != nil {
				return nil, wire.Errorf(wire.EUNAVAILABLE, "the hub's database is not answering")
			}
			if ok && !nd.Draining && !fromPeer {
				return &nd, nil
			}
			// Draining, not registered, or we are ourselves a pass-through target: wait for the
			// lease to be let go or to expire.
			if err := cn.awaitMove(ctx, org, le.Node, deadline); err != nil {
				return nil, err
			}
		default:
			if _, err := cn.s.store.Org(ctx, org); err != nil {
				return nil, nil // no such organisation: the handler here says so
			}
			err := cn.acquire(org)
			if err != nil && !errors.Is(err, cluster.ErrHeld) {
				cn.s.log.Warn("taking an organisation over", "org", org, "err", err)
				return nil, errOrgMoving
			}
		}
	}
}

// awaitMove waits until org's lease is no longer node's live one (until deadline).
func (cn *clusterNode) awaitMove(ctx context.Context, org wire.OrgID, node string, deadline time.Time) error {
	for {
		if time.Now().After(deadline) {
			return errOrgMoving
		}
		select {
		case <-ctx.Done():
			return errOrgMoving
		case <-cn.stop:
			return ErrClosed
		case <-time.After(50 * time.Millisecond):
		}
		le, live, err := cn.leases.Holder(ctx, org)
		if err != nil {
			return wire.Errorf(wire.EUNAVAILABLE, "the hub's database is not answering")
		}
		if !live || le.Node != node {
			return nil
		}
	}
}

// fromPeer reports whether r was passed through by another node, and if so takes the client's
// address from it (limits count the customer, not the node).
func (cn *clusterNode) fromPeer(r *http.Request) bool {
	sec := r.Header.Get(hdrClusterSecret)
	if sec == "" {
		return false
	}
	r.Header.Del(hdrClusterSecret)
	if subtle.ConstantTimeCompare([]byte(sec), []byte(cn.secret)) != 1 {
		return false
	}
	if a, err := netip.ParseAddr(r.Header.Get(hdrClusterClient)); err == nil {
		r.RemoteAddr = netip.AddrPortFrom(a, 0).String()
		r.Header.Del("X-Forwarded-For")
	}
	r.Header.Del(hdrClusterClient)
	return true
}

// peerKey marks the context of a request another node passed through.
type peerKey struct{}

// clientIP is the address to pass on for r.
func (cn *clusterNode) clientIP(r *http.Request) string {
	if a, ok := clientIP(r, cn.s.cfg.TrustedProxies); ok {
		return a.String()
	}
	return ""
}

// orgOfPath returns the organisation an API path names.
func orgOfPath(p string) (wire.OrgID, bool) {
	rest, ok := strings.CutPrefix(p, "/api/v1/orgs/")
	if !ok {
		return "", false
	}
	org, _, _ := strings.Cut(rest, "/")
	return wire.OrgID(org), org != ""
}

// orgOfLogin reads the organisation a sign-in names, leaving the body for the handler.
func orgOfLogin(r *http.Request) (wire.OrgID, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return "", false
	}
	var req wire.LoginRequest
	if json.Unmarshal(body, &req) != nil || req.Org == "" || strings.ContainsAny(string(req.Org), "/?#") {
		return "", false
	}
	return req.Org, true
}

// handler passes the API requests of organisations served elsewhere to their node.
func (cn *clusterNode) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer := cn.fromPeer(r)
		if peer {
			r = r.WithContext(context.WithValue(r.Context(), peerKey{}, true))
		}
		org, ok := orgOfPath(r.URL.Path)
		if !ok && r.Method == http.MethodPost && r.URL.Path == "/api/v1/login" {
			// A sign-in goes to its organisation's node too, so the failures of one account
			// and one address are counted in one place whichever node the balancer picks.
			org, ok = orgOfLogin(r)
		}
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		nd, err := cn.route(r.Context(), org, peer)
		if err != nil {
			writeError(w, err)
			return
		}
		if nd == nil {
			next.ServeHTTP(w, r)
			return
		}
		target, err := url.Parse(nd.URL)
		if err != nil {
			writeError(w, errOrgMoving)
			return
		}
		ip := cn.clientIP(r)
		rp := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.Out.Header.Set(hdrClusterSecret, cn.secret)
				pr.Out.Header.Set(hdrClusterClient, ip)
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				cn.s.log.Warn("passing a request to the organisation's node", "org", org, "node", nd.Name, "err", err)
				writeError(w, errOrgMoving)
			},
		}
		rp.ServeHTTP(w, r)
	})
}

// errElsewhere: the connection's organisation is served by another node, reached on up.
type errElsewhere struct{ up *websocket.Conn }

func (e *errElsewhere) Error() string { return "served by another node" }

// dialOwner passes a connection's hello to the node serving its organisation. It waits for the
// organisation to move when that node does not answer (it died: its lease runs out).
func (cn *clusterNode) dialOwner(ctx context.Context, c *conn, org wire.OrgID, hello []byte) error {
	for {
		nd, err := cn.route(ctx, org, c.viaPeer)
		if err != nil || nd == nil {
			return err
		}
		u, err := url.Parse(nd.URL)
		if err != nil {
			return errOrgMoving
		}
		u.Scheme = map[string]string{"https": "wss"}[u.Scheme]
		if u.Scheme == "" {
			u.Scheme = "ws"
		}
		u.Path = "/ws"
		h := http.Header{}
		h.Set(hdrClusterSecret, cn.secret)
		h.Set(hdrClusterClient, c.fwdIP)
		dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		up, _, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{HTTPHeader: h, CompressionMode: websocket.CompressionDisabled})
		cancel()
		if err == nil {
			up.SetReadLimit(hardFrameLimit)
			if err := up.Write(ctx, websocket.MessageText, hello); err != nil {
				up.CloseNow()
				return errOrgMoving
			}
			return &errElsewhere{up: up}
		}
		cn.s.log.Info("the organisation's node does not answer; waiting for its lease", "org", org, "node", nd.Name, "err", err)
		if err := cn.awaitMove(ctx, org, nd.Name, time.Now().Add(cn.ttl+time.Second)); err != nil {
			return err
		}
	}
}

// relay copies frames both ways between a client and the organisation's node until one side
// closes, and passes the close code on (a node that vanished: StatusReconnect).
func (cn *clusterNode) relay(down, up *websocket.Conn) {
	cn.mu.Lock()
	cn.relays[down] = struct{}{}
	cn.mu.Unlock()
	defer func() {
		cn.mu.Lock()
		delete(cn.relays, down)
		cn.mu.Unlock()
	}()
	ctx, cancel := context.WithCancel(cn.s.ctx)
	defer cancel()
	type end struct {
		fromUp bool
		err    error
	}
	ends := make(chan end, 3)
	// The owner pings the relay, which answers for the client: the relay checks the client
	// itself, as the owner would (a silent client is pinged, and dropped if it does not answer).
	var lastDown atomic.Int64
	lastDown.Store(time.Now().UnixNano())
	if idle := cn.s.cfg.Limits.IdleTimeout; idle > 0 {
		go func() {
			t := time.NewTicker(max(idle/2, 10*time.Millisecond))
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				if time.Since(time.Unix(0, lastDown.Load())) < idle {
					continue
				}
				pctx, pcancel := context.WithTimeout(ctx, idle)
				err := down.Ping(pctx)
				pcancel()
				if err != nil && ctx.Err() == nil {
					cn.s.metrics.idleClosed.Inc()
					ends <- end{false, err}
					return
				}
				lastDown.Store(time.Now().UnixNano())
			}
		}()
	}
	pump := func(from, to *websocket.Conn, fromUp bool) {
		for {
			typ, data, err := from.Read(ctx)
			if err == nil && !fromUp {
				lastDown.Store(time.Now().UnixNano())
			}
			if err == nil {
				err = to.Write(ctx, typ, data)
				if err != nil {
					ends <- end{!fromUp, err}
					return
				}
				continue
			}
			ends <- end{fromUp, err}
			return
		}
	}
	go pump(up, down, true)
	go pump(down, up, false)
	e := <-ends
	code, reason := websocket.CloseStatus(e.err), ""
	var ce websocket.CloseError
	if errors.As(e.err, &ce) {
		reason = ce.Reason
	}
	if e.fromUp {
		if code < 0 {
			code, reason = StatusReconnect, "hub node gone"
		}
		_ = down.Close(code, reason)
		up.CloseNow()
	} else {
		if code < 0 {
			code = websocket.StatusGoingAway
		}
		_ = up.Close(code, reason)
		down.CloseNow()
	}
	cancel()
	<-ends
}

// drainStart stops taking organisations and tells the other nodes to wait for this one's.
func (cn *clusterNode) drainStart() {
	cn.draining.Store(true)
	ctx, cancel := dbctx()
	defer cancel()
	_ = cn.nodes.Heartbeat(ctx, cn.name, cn.url, true)
	cn.mu.Lock()
	defer cn.mu.Unlock()
	for c := range cn.relays {
		go c.Close(StatusReconnect, "hub node draining")
	}
}

// drainEnd hands the organisations over (their connections are closed) and leaves the cluster.
func (cn *clusterNode) drainEnd() {
	close(cn.stop)
	if cn.started.Load() {
		<-cn.stopped
	}
	ctx, cancel := dbctx()
	defer cancel()
	cn.mu.Lock()
	held := cn.owned
	cn.owned = map[wire.OrgID]*heldLease{}
	cn.mu.Unlock()
	for org, h := range held {
		if err := cn.leases.Release(ctx, h.lease); err != nil {
			cn.s.log.Warn("handing an organisation over", "org", org, "err", err)
		}
	}
	_ = cn.nodes.Leave(ctx, cn.name)
	cn.s.log.Info("cluster node left", "node", cn.name, "handed_over", len(held))
}

func (cn *clusterNode) String() string { return fmt.Sprintf("node %s at %s", cn.name, cn.url) }

// turnSecret is the embedded TURN relays' shared secret when none is configured: the same on
// every node, derived from the cluster's secret (so the cluster's own secret never reaches a
// relay's credential check).
func (cn *clusterNode) turnSecret() string {
	mac := hmac.New(sha256.New, []byte(cn.secret))
	mac.Write([]byte("parley turn secret"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
