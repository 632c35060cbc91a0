// Package hub is Parley's server library: it routes customer conversations to agents by presence
// and capacity, carries chat over WebSocket, and serves the HTTP API and the customer portal.
// cmd/parley-hub and the desktop app's demo mode both run it through [Open].
package hub

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/hub/sqlite"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/crypto/acme/autocert"
)

// Config configures a Server. Zero fields take the documented defaults.
type Config struct {
	// Addr is the TCP address to listen on, e.g. "127.0.0.1:8080"; ":0" picks a free port.
	Addr string
	// DB is the SQLite database file; it is created if missing.
	DB string
	// RecordingsDir is where call recordings are kept (recording.go); default "recordings" beside
	// a SQLite DB (a PostgreSQL DB has no default). Without either, organisations cannot turn
	// recording on.
	RecordingsDir string
	// RecordingsS3, when set, keeps recordings in an S3-compatible bucket instead
	// (recording_store.go); uploads are still assembled under RecordingsDir (or beside a SQLite DB,
	// or in the temporary directory) until they are whole and checked.
	RecordingsS3 *S3Config
	// DBSynchronous is sqlite.SyncFull (default: acknowledged messages survive a power loss) or
	// sqlite.SyncNormal.
	DBSynchronous string
	// Store, when set, is used instead of opening DB (the Server does not close it).
	Store store.Store
	// ReadDelay is for benchmarks only: every read of conversations, messages, receipts and
	// figures waits this long first, as on a slow or busy disk (parley-bench -read-delay).
	ReadDelay time.Duration
	// Demo seeds the demo organisation (see [DemoOrg]) when it is missing.
	Demo bool
	// Logger receives the hub's logs; nil discards them.
	Logger *slog.Logger
	// OfferTimeout is how long an agent has to accept an offer before it moves on (default 30 s).
	OfferTimeout time.Duration
	// OfflineGrace is how long an agent with no connection left stays online, so a reconnect does
	// not bounce their presence (default 10 s).
	OfflineGrace time.Duration
	// AbandonAfter is how long a waiting conversation stays queued once its customer has no
	// connection left (or never connected); then it ends as if the customer left (default 5 min).
	AbandonAfter time.Duration
	// CustomerGoneAfter is how long a customer with no connection left counts as away before they
	// count as gone (default 30 s; the portal reconnects within 10 s).
	CustomerGoneAfter time.Duration
	// AutoCloseAfter is how long an active conversation stays open with its customer gone and
	// nobody writing, for organisations that set no time of their own (default 10 min).
	AutoCloseAfter time.Duration
	// AutoCloseWarning is how long before that close the agent is warned (default 1 min; at most
	// half the auto-close time).
	AutoCloseWarning time.Duration
	// TokenTTL is how long a member's login lasts (default 12 h).
	TokenTTL time.Duration
	// CustomerTokenTTL is how long a customer can resume a conversation (default 7 days).
	CustomerTokenTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Limits bound how fast one connection may send (limits.go); zero means DefaultLimits.
	Limits Limits
	// LimitState keeps the limits' counts; nil keeps them in this process. Hubs serving the same
	// customers together would share one.
	LimitState LimitState
	// MetricsToken, when set, is the bearer token /metrics asks for; without it only clients on
	// this machine read them (metrics_access.go).
	MetricsToken string
	// MetricsAddr, when set, serves /metrics (and the profiler with Debug) on this address
	// instead of the hub's, e.g. a private interface the scraper reaches.
	MetricsAddr string
	// MaxConns bounds the TCP connections the hub holds at once (default DefaultMaxConns); past
	// it new ones are closed at once and counted.
	MaxConns int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the customer's address
	// (limits per address count the customer, not the proxy).
	TrustedProxies []netip.Prefix
	// AfterFunc schedules the hub's timers (offer timeouts, the offline grace, abandoned
	// conversations); nil means time.AfterFunc. Tests inject one they fire by hand.
	AfterFunc func(d time.Duration, f func()) Timer
	// Portal serves everything no hub route claims (the customer portal and widget); nil answers 404.
	Portal http.Handler
	// Debug serves Go's profiler at /debug/pprof/ (never on a public address).
	Debug bool
	// BcryptCost is the cost of password hashes made by CreateMember (default bcrypt.DefaultCost).
	BcryptCost int
	// RingTimeout is how long a call rings before it is missed (default 45 s).
	RingTimeout time.Duration
	// CallGrace is how long a call survives one party having no connection left (a closed tab,
	// a crashed agent app) before it ends as disconnected (default 15 s).
	CallGrace time.Duration
	// TURNUDP and TURNTCP are the addresses the embedded TURN server listens on, e.g. ":3478";
	// with both empty none runs.
	TURNUDP, TURNTCP string
	// TURNSecret is the embedded TURN server's shared secret for short-lived credentials; empty
	// generates a random one at Start. It is never logged.
	TURNSecret string
	// TURNPublicIP is the IP address clients and peers reach the embedded TURN server at
	// (default 127.0.0.1, which serves this machine only).
	TURNPublicIP string
	// TURNRegion is the region of the embedded TURN server's data centre (default "na").
	TURNRegion string
	// TURNPorts is the embedded TURN server's relay port range, e.g. "49152-65535" (for the
	// firewall); empty lets the system choose.
	TURNPorts string
	// Relays are external STUN/TURN relays (relay.LoadRelays reads them from a file), handed out
	// after the embedded one, by the organisation's region.
	Relays []relay.Relay
	// TURN bounds the embedded relay and the credentials calls get (hub/calls_relay.go).
	TURN TURNLimits
	// Accounts: setup links, sessions, single sign-on (accounts.go, sessions.go, sso.go).
	Accounts
	// TLS makes the hub serve HTTPS itself (tls.go); zero serves plain HTTP.
	TLS TLSSettings
	// Cluster makes the hub one node of several on one PostgreSQL database (cluster.go).
	Cluster ClusterConfig
}

// Timer is a scheduled call, as time.AfterFunc returns.
type Timer interface {
	// Stop cancels the call; it reports false if the call already ran or was stopped.
	Stop() bool
}

// Server is a running hub.
type Server struct {
	cfg Config
	// limitState keeps what the limits count (limits.go, limitstate.go, signin.go).
	limitState LimitState
	// hashSem holds a token per password being checked (signin.go).
	hashSem chan struct{}
	log     *slog.Logger
	now     func() time.Time
	store   store.Store
	// ownStore says whether Close closes store.
	ownStore bool
	// dummyHash is compared against when a username does not exist, at the cost of real hashes,
	// so a login takes as long whether or not the user exists.
	dummyHash string
	metrics   *metrics
	router    *router
	mux       *http.ServeMux
	http      *http.Server
	// ops serves /metrics on Config.MetricsAddr, when set, on opsLn.
	ops   *http.Server
	opsLn net.Listener

	mu sync.Mutex // guards ln and closed
	ln net.Listener
	// closed is set by Close.
	closed bool
	// ctx ends when the server closes; WebSocket reads use it.
	ctx    context.Context
	cancel context.CancelFunc
	// conns counts running WebSocket handlers, so Close can wait for them.
	conns sync.WaitGroup
	// bg counts the loops that run until ctx ends (sweeps, the account watcher).
	bg sync.WaitGroup
	// turn is the embedded TURN server, when one runs (hub/calls_relay.go).
	turn *relay.Server
	// relays hands out each call's ICE servers; nil when no relay is configured.
	relays atomic.Pointer[relay.Directory]
	// providers caches the organisations' identity providers (sso.go).
	providers providerCache
	// tlsConf is the HTTPS and TURN-over-TLS configuration, nil for plain HTTP; certs the
	// certificate files it serves (nil with ACME), acme the ACME manager, acmeHTTP its HTTP-01
	// listener (tls.go).
	tlsConf  *tls.Config
	certs    *certFiles
	acme     *autocert.Manager
	acmeHTTP *http.Server
	// cluster is the node's side of the cluster; nil for a hub on its own (cluster.go).
	cluster *clusterNode
	// uploads serialises the requests on one recording file, so the size a HEAD answers after a
	// cut upload counts everything the cut request received (recording.go).
	uploads keyedLock
	// recs keeps the finished recordings (a directory or a bucket); nil when the hub keeps none.
	recs recordingStore
	// linkKeyOnce makes linkKeyBytes, the key playback links are signed with (recording_links.go).
	linkKeyOnce  sync.Once
	linkKeyBytes []byte
}

// Open opens the store, seeds the demo organisation if asked, and loads the open conversations.
// It does not listen yet: call Start.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.OfferTimeout <= 0 {
		cfg.OfferTimeout = 30 * time.Second
	}
	if cfg.OfflineGrace <= 0 {
		cfg.OfflineGrace = 10 * time.Second
	}
	if cfg.AbandonAfter <= 0 {
		cfg.AbandonAfter = 5 * time.Minute
	}
	if cfg.CustomerGoneAfter <= 0 {
		cfg.CustomerGoneAfter = 30 * time.Second
	}
	if cfg.AutoCloseAfter <= 0 {
		cfg.AutoCloseAfter = 10 * time.Minute
	}
	if cfg.AutoCloseWarning <= 0 {
		cfg.AutoCloseWarning = time.Minute
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 12 * time.Hour
	}
	if cfg.CustomerTokenTTL <= 0 {
		cfg.CustomerTokenTTL = 7 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.LimitState == nil {
		cfg.LimitState = NewMemoryLimitState()
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.AfterFunc == nil {
		cfg.AfterFunc = func(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Accounts.defaults()
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, store: cfg.Store, limitState: cfg.LimitState,
		hashSem: make(chan struct{}, hashSlots())}
	if err := s.setupTLS(); err != nil {
		return nil, err
	}
	var err error
	if s.dummyHash, err = HashPassword("parley-dummy-password", cfg.BcryptCost); err != nil {
		return nil, err
	}
	if cfg.Cluster.Node != "" {
		if err := s.openCluster(ctx); err != nil {
			s.closeStore()
			return nil, err
		}
	}
	if s.store == nil {
		if cfg.DB == "" {
			return nil, errors.New("hub: Config.DB or Config.Store is required")
		}
		db, err := openStore(ctx, cfg.DB, sqlite.Options{Now: cfg.Now, Synchronous: cfg.DBSynchronous})
		if err != nil {
			return nil, err
		}
		s.store, s.ownStore = db, true
	}
	if cfg.ReadDelay > 0 {
		s.store = slowReads{Store: s.store, delay: cfg.ReadDelay}
	}
	if err := s.openRecordings(ctx); err != nil {
		s.closeStore()
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if cfg.Demo {
		if err := s.seedDemo(ctx); err != nil {
			s.closeStore()
			return nil, err
		}
	}
	s.metrics = newMetrics()
	s.router = newRouter(s)
	if err := s.router.load(ctx); err != nil {
		s.router.visits.stop()
		s.closeStore()
		return nil, err
	}
	go s.router.run()
	s.background(s.sweepTokens, s.sweepRecordings, s.watchAccounts)
	s.mux = s.routes()
	var h http.Handler = s.mux
	if s.cluster != nil {
		h = s.cluster.handler(s.mux)
	}
	// A stranger's connection never idles for free: the request line and headers within
	// HelloTimeout, a keep-alive connection gone after twice IdleTimeout unused (a WebSocket has
	// its own deadlines: Hello within HelloTimeout, then pings).
	s.http = &http.Server{Handler: h, ReadHeaderTimeout: cfg.Limits.HelloTimeout, IdleTimeout: 2 * cfg.Limits.IdleTimeout,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	return s, nil
}

// Handler returns the hub's HTTP handler, for embedding it in another server or a test.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Store returns the hub's store, for tools that seed data.
func (s *Server) Store() store.Store { return s.store }

// Start listens on Config.Addr and serves in the background.
func (s *Server) Start() error {
	addr := s.cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if ln, err = s.listenTLS(ln); err != nil {
		return err
	}
	if err := s.startRelays(); err != nil {
		ln.Close()
		return err
	}
	if err := s.startOps(); err != nil {
		ln.Close()
		s.closeRelays()
		return err
	}
	ln = s.capListener(ln)
	s.background(s.sweepIdle)
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.log.Info("hub listening", "addr", ln.Addr().String())
	if s.cluster != nil {
		if err := s.cluster.start(); err != nil {
			ln.Close()
			s.closeRelays()
			return err
		}
	}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("hub stopped serving", "err", err)
		}
	}()
	return nil
}

// URL returns the base URL the hub serves on, e.g. http://127.0.0.1:43123 ("" before Start). A hub
// listening on every interface (":8080") gives its loopback URL.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() { // listening on every interface: loopback is one of them
		host = "127.0.0.1"
	}
	scheme := "http://"
	if s.tlsConf != nil {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// Close stops the hub gracefully: it stops accepting, tells every WebSocket client the hub is
// going away, waits for them (until ctx ends), and closes the store.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	start := time.Now()
	s.log.Info("hub shutting down")
	defer func() { s.log.Info("hub stopped", "took", time.Since(start).Round(time.Millisecond)) }()
	if s.cluster != nil {
		// Drain: the other nodes wait for this one's organisations instead of passing
		// connections here, and the relayed connections reconnect at once.
		s.cluster.drainStart()
	}
	err := s.http.Shutdown(ctx)
	if s.acmeHTTP != nil {
		_ = s.acmeHTTP.Close()
	}
	if s.ops != nil {
		_ = s.ops.Shutdown(ctx)
	}
	s.router.closeAll()
	waited := make(chan struct{})
	go func() { s.conns.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
	}
	s.cancel()
	<-waited
	s.router.stop()
	// The sweeps and the account watcher end before the store closes.
	s.bg.Wait()
	s.router.visits.stop() // stored before the organisations are handed over
	if s.cluster != nil {
		s.cluster.drainEnd()
	}
	s.closeRelays()
	s.closeStore()
	return err
}

// background runs each loop on its own goroutine; Close waits for them after ctx ends.
func (s *Server) background(loops ...func()) {
	for _, loop := range loops {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			loop()
		}()
	}
}

// sweepTokens deletes expired tokens every hour until the server closes.
func (s *Server) sweepTokens() {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := s.store.DeleteExpiredTokens(s.ctx, s.now()); err != nil && s.ctx.Err() == nil {
			s.log.Warn("deleting expired tokens", "err", err)
		}
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) closeStore() {
	if s.ownStore {
		if err := s.store.Close(); err != nil {
			s.log.Warn("closing the store", "err", err)
		}
	}
}

// CreateOrg adds an organisation.
func (s *Server) CreateOrg(ctx context.Context, id wire.OrgID, name string) error {
	return s.store.CreateOrg(ctx, store.Org{ID: id, Name: name})
}

// CreateMember adds an agent, supervisor or admin to org with a bcrypt-hashed password.
func (s *Server) CreateMember(ctx context.Context, org wire.OrgID, username, displayName, password string, role wire.Role, capacity int) (store.User, error) {
	hash, err := HashPassword(password, s.cfg.BcryptCost)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{ID: wire.UserID(newID("u")), Org: org, Username: username, DisplayName: displayName, Role: role, PasswordHash: hash, Capacity: capacity}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return store.User{}, err
	}
	if s.router != nil {
		s.router.memberAdded(u)
	}
	return u, nil
}
