// Command parley-hub runs Parley's hub: the server that routes customer conversations to agents,
// carries chat, and serves the customer portal.
//
//	parley-hub -addr 127.0.0.1:8080 -db parley.db -demo
//
// Every flag has an environment equivalent (PARLEY_ADDR, PARLEY_DB, PARLEY_DEMO...); a flag wins
// over its variable.
//
// Calls: -turn-udp and -turn-tcp run the embedded TURN server (-turn-public-ip is the address
// clients reach it at; -turn-secret or -turn-secret-file its shared secret, random when neither
// is given; -turn-region its data centre's region; -turn-ports its relay port range;
// -turn-user-quota, -turn-credential-ttl, -turn-allow-peers and -turn-max-conns[-per-ip] its
// limits, see docs/deploy.md). -relays names a JSON file of external relays
// (see relay.LoadRelays). -demo-calls and -demo-region set the demo organisation's call setting
// (voice_video, voice, none) and region ("na", "gcc"...).
//
// /metrics answers this machine only, unless -metrics-token-file names a bearer token for it;
// -metrics-addr serves it (and -debug's profiler) on an address of its own.
//
// The hub prints "listening on http://ADDR" to stdout when it is ready (then "metrics on URL"
// with -metrics-addr), logs to stderr, and shuts down gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/hub/sqlite"
	"github.com/parleyhq/parley/internal/version"
	"github.com/parleyhq/parley/portal"
	"github.com/parleyhq/parley/wire"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if isDataSubcommand(os.Args[1:]) {
		code := runData(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	if isSubcommand(os.Args[1:]) {
		code := runAdmin(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "parley-hub:", err)
		os.Exit(2)
	}
	if m.ShowVersion {
		fmt.Println("parley-hub", version.Version)
		return
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "parley-hub:", err)
		os.Exit(1)
	}
	// SIGHUP reads the TLS certificate and key again (after a renewal), without a restart.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			_ = m.Server.ReloadTLS() // logged either way
		}
	}()
	<-ctx.Done()
	stop()
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "parley-hub:", err)
		os.Exit(1)
	}
}

// Main is the program, so tests can start the hub the way a user does.
type Main struct {
	// Config is the hub's configuration, filled by ParseFlags.
	Config hub.Config
	// LogFormat is "text" or "json".
	LogFormat string
	// ShowVersion asks to print the version and exit.
	ShowVersion bool
	// DBFile, when set, holds the database to open (ParseFlags reads it into Config.DB).
	DBFile string
	// TURNSecretFile and RelaysFile are read by ParseFlags into Config.
	TURNSecretFile, RelaysFile string
	// DemoCalls and DemoRegion, when set, change the demo organisation's call setting and region.
	DemoCalls, DemoRegion string
	// TrustedProxies is the -trusted-proxies list, parsed into Config.
	TrustedProxies string
	// ACMEDomains is the -acme-domains list, parsed into Config.TLS.
	ACMEDomains string
	// TURNAllowPeers is the -turn-allow-peers list, parsed into Config.
	TURNAllowPeers string
	// MetricsTokenFile is read by ParseFlags into Config.MetricsToken.
	MetricsTokenFile string
	// Recordings is -recordings: a directory, or s3://bucket/prefix with S3Endpoint and S3Region
	// (the keys come from the environment only), parsed into Config.
	Recordings, S3Endpoint, S3Region string
	// Stdout receives the "listening on" line; Stderr the logs.
	Stdout, Stderr io.Writer
	// Server is the running hub, after Run.
	Server *hub.Server
}

// parseRecordings reads -recordings, -s3-endpoint and -s3-region into Config; the keys come only
// from the environment (a flag would show them to every user of the machine) and are never logged.
func (m *Main) parseRecordings() error {
	if !strings.HasPrefix(m.Recordings, "s3://") {
		m.Config.RecordingsDir = m.Recordings
		return nil
	}
	c, err := hub.ParseS3URL(m.Recordings)
	if err != nil {
		return fmt.Errorf("-recordings: %w", err)
	}
	c.Region = m.S3Region
	c.Endpoint = m.S3Endpoint
	if rest, ok := strings.CutPrefix(c.Endpoint, "http://"); ok {
		c.Endpoint, c.Insecure = rest, true
	}
	c.Endpoint = strings.TrimSuffix(strings.TrimPrefix(c.Endpoint, "https://"), "/")
	c.AccessKey = firstEnv("PARLEY_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
	c.SecretKey = firstEnv("PARLEY_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY")
	if c.AccessKey == "" || c.SecretKey == "" {
		return errors.New("-recordings s3://...: set PARLEY_S3_ACCESS_KEY and PARLEY_S3_SECRET_KEY")
	}
	m.Config.RecordingsS3 = &c
	return nil
}

// firstEnv is the first of the environment variables that is set.
func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// NewMain returns a Main that writes to the process's stdout and stderr.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr}
}

// ParseFlags reads args, with environment variables as defaults.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("parley-hub", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage of parley-hub (the server; the subcommands init, org and user are below):\n")
		fs.PrintDefaults()
		fmt.Fprintf(m.Stderr, "\n%s\n%s", adminUsage, dataUsage)
	}
	demo, _ := strconv.ParseBool(os.Getenv("PARLEY_DEMO"))
	fs.StringVar(&m.Config.Addr, "addr", envOr("PARLEY_ADDR", "127.0.0.1:8080"), "listen address (PARLEY_ADDR)")
	fs.StringVar(&m.Config.DB, "db", envOr("PARLEY_DB", "parley.db"), "the database: a SQLite file, or a PostgreSQL address postgres://user@host/db shared by a cluster of hubs (PARLEY_DB)")
	fs.StringVar(&m.DBFile, "db-file", os.Getenv("PARLEY_DB_FILE"), "a file holding -db, for a PostgreSQL address with a password; wins over -db (PARLEY_DB_FILE)")
	fs.StringVar(&m.Config.DBSynchronous, "db-synchronous", envOr("PARLEY_DB_SYNCHRONOUS", sqlite.SyncFull), "full: every acknowledged message survives a power loss; normal: faster, the last ones may not (PARLEY_DB_SYNCHRONOUS)")
	fs.BoolVar(&m.Config.Demo, "demo", demo, "seed the demo organisation: agents agent1, agent2, supervisor super1, admin admin1, password demo (PARLEY_DEMO)")
	fs.DurationVar(&m.Config.OfferTimeout, "offer-timeout", envDuration("PARLEY_OFFER_TIMEOUT", 30*time.Second), "how long an agent has to accept an offer (PARLEY_OFFER_TIMEOUT)")
	fs.DurationVar(&m.Config.CustomerGoneAfter, "customer-gone", envDuration("PARLEY_CUSTOMER_GONE", 30*time.Second), "how long a customer with no connection counts as away before they count as gone (PARLEY_CUSTOMER_GONE)")
	fs.DurationVar(&m.Config.AutoCloseAfter, "auto-close", envDuration("PARLEY_AUTO_CLOSE", 10*time.Minute), "default time a chat stays open with its customer gone and nobody writing; an organisation's admin may set its own (PARLEY_AUTO_CLOSE)")
	fs.DurationVar(&m.Config.AutoCloseWarning, "auto-close-warning", envDuration("PARLEY_AUTO_CLOSE_WARNING", time.Minute), "how long before that close the agent is warned and may keep the chat open (PARLEY_AUTO_CLOSE_WARNING)")
	fs.DurationVar(&m.Config.ReadDelay, "read-delay", 0, "benchmarks only: every read of conversations, messages, receipts and figures waits this long, as on a slow disk (make bench-hub)")
	debug, _ := strconv.ParseBool(os.Getenv("PARLEY_DEBUG"))
	fs.BoolVar(&m.Config.Debug, "debug", debug, "serve Go's profiler at /debug/pprof/; keep such a hub off public networks (PARLEY_DEBUG)")
	fs.StringVar(&m.LogFormat, "log-format", envOr("PARLEY_LOG_FORMAT", "text"), "log format: text or json (PARLEY_LOG_FORMAT)")
	fs.DurationVar(&m.Config.RingTimeout, "ring-timeout", envDuration("PARLEY_RING_TIMEOUT", hub.DefaultRingTimeout), "how long a call rings before it is missed (PARLEY_RING_TIMEOUT)")
	fs.DurationVar(&m.Config.CallGrace, "call-grace", envDuration("PARLEY_CALL_GRACE", hub.DefaultCallGrace), "how long a call survives a party with no connection (PARLEY_CALL_GRACE)")
	fs.StringVar(&m.Config.TURNUDP, "turn-udp", os.Getenv("PARLEY_TURN_UDP"), "embedded TURN server's UDP address, e.g. :3478; empty for none (PARLEY_TURN_UDP)")
	fs.StringVar(&m.Config.TURNTCP, "turn-tcp", os.Getenv("PARLEY_TURN_TCP"), "embedded TURN server's TCP address, e.g. :3478; empty for none (PARLEY_TURN_TCP)")
	// The secret's variable is read after parsing, so -help never prints it as a default.
	fs.StringVar(&m.Config.TURNSecret, "turn-secret", "", "TURN shared secret; random at each start when empty (PARLEY_TURN_SECRET; prefer -turn-secret-file)")
	fs.StringVar(&m.TURNSecretFile, "turn-secret-file", os.Getenv("PARLEY_TURN_SECRET_FILE"), "file holding the TURN shared secret (PARLEY_TURN_SECRET_FILE)")
	fs.StringVar(&m.Config.TURNPublicIP, "turn-public-ip", os.Getenv("PARLEY_TURN_PUBLIC_IP"), "IP address clients reach the embedded TURN server at (default 127.0.0.1) (PARLEY_TURN_PUBLIC_IP)")
	fs.StringVar(&m.Config.TURNRegion, "turn-region", envOr("PARLEY_TURN_REGION", "na"), "region of the embedded TURN server: na, eu, gcc-na... (PARLEY_TURN_REGION)")
	fs.StringVar(&m.Config.TURNPorts, "turn-ports", os.Getenv("PARLEY_TURN_PORTS"), "embedded TURN server's relay port range, e.g. 49152-65535 (PARLEY_TURN_PORTS)")
	fs.DurationVar(&m.Config.TURN.CredentialTTL, "turn-credential-ttl", envDuration("PARLEY_TURN_CREDENTIAL_TTL", relay.DefaultTTL), "how long a call's TURN credentials last; renewed after two thirds while the call runs (PARLEY_TURN_CREDENTIAL_TTL)")
	fs.IntVar(&m.Config.TURN.UserQuota, "turn-user-quota", envInt("PARLEY_TURN_USER_QUOTA", relay.DefaultUserQuota), "allocations one party of a call may hold on the embedded TURN server; -1 for no limit (PARLEY_TURN_USER_QUOTA)")
	fs.StringVar(&m.TURNAllowPeers, "turn-allow-peers", os.Getenv("PARLEY_TURN_ALLOW_PEERS"), "comma-separated CIDR prefixes the embedded TURN server may relay to although private, e.g. 10.20.0.0/16 for agents on the office network (PARLEY_TURN_ALLOW_PEERS)")
	fs.IntVar(&m.Config.TURN.MaxConns, "turn-max-conns", envInt("PARLEY_TURN_MAX_CONNS", relay.DefaultMaxConns), "TURN-over-TCP connections open at once (PARLEY_TURN_MAX_CONNS)")
	fs.IntVar(&m.Config.TURN.MaxConnsPerIP, "turn-max-conns-per-ip", envInt("PARLEY_TURN_MAX_CONNS_PER_IP", relay.DefaultMaxConnsPerIP), "TURN-over-TCP connections open at once from one address (PARLEY_TURN_MAX_CONNS_PER_IP)")
	fs.StringVar(&m.RelaysFile, "relays", os.Getenv("PARLEY_RELAYS"), "JSON file of external STUN/TURN relays (PARLEY_RELAYS)")
	fs.StringVar(&m.DemoCalls, "demo-calls", os.Getenv("PARLEY_DEMO_CALLS"), "with -demo: the demo organisation's calls: voice_video, voice or none (PARLEY_DEMO_CALLS)")
	fs.StringVar(&m.DemoRegion, "demo-region", os.Getenv("PARLEY_DEMO_REGION"), "with -demo: the demo organisation's region, e.g. na or gcc (PARLEY_DEMO_REGION)")
	fs.StringVar(&m.Config.PublicURL, "public-url", os.Getenv("PARLEY_PUBLIC_URL"), "the address people reach the hub at, e.g. https://chat.example.com: setup links and the single sign-on redirect use it (PARLEY_PUBLIC_URL)")
	fs.DurationVar(&m.Config.TokenTTL, "session-ttl", envDuration("PARLEY_SESSION_TTL", 12*time.Hour), "how long a member's session lasts without renewal; the app renews it while it runs (PARLEY_SESSION_TTL)")
	fs.StringVar(&m.Config.TLS.CertFile, "tls-cert", os.Getenv("PARLEY_TLS_CERT"), "serve HTTPS with this PEM certificate (with its chain); SIGHUP reads it again (PARLEY_TLS_CERT)")
	fs.StringVar(&m.Config.TLS.KeyFile, "tls-key", os.Getenv("PARLEY_TLS_KEY"), "the certificate's PEM private key (PARLEY_TLS_KEY)")
	fs.StringVar(&m.ACMEDomains, "acme-domains", os.Getenv("PARLEY_ACME_DOMAINS"), "get and renew HTTPS certificates for these comma-separated names over ACME (Let's Encrypt by default), instead of -tls-cert (PARLEY_ACME_DOMAINS)")
	fs.StringVar(&m.Config.TLS.ACMECache, "acme-cache", os.Getenv("PARLEY_ACME_CACHE"), "directory for the ACME account key and certificates (PARLEY_ACME_CACHE)")
	fs.StringVar(&m.Config.TLS.ACMEEmail, "acme-email", os.Getenv("PARLEY_ACME_EMAIL"), "contact address for the certificate authority (PARLEY_ACME_EMAIL)")
	fs.StringVar(&m.Config.TLS.ACMEDirectory, "acme-directory", os.Getenv("PARLEY_ACME_DIRECTORY"), "ACME directory URL; empty for Let's Encrypt (PARLEY_ACME_DIRECTORY)")
	fs.StringVar(&m.Config.TLS.ACMEHTTP, "acme-http", os.Getenv("PARLEY_ACME_HTTP"), "address for ACME HTTP-01 challenges and a redirect to HTTPS, e.g. :80; empty uses TLS-ALPN-01 on the HTTPS port only (PARLEY_ACME_HTTP)")
	fs.StringVar(&m.Config.TLS.TURNTLS, "turn-tls", os.Getenv("PARLEY_TURN_TLS"), "embedded TURN server's TURN-over-TLS address with the hub's certificate, e.g. :5349 (PARLEY_TURN_TLS)")
	fs.StringVar(&m.Config.TLS.TURNName, "turn-name", os.Getenv("PARLEY_TURN_NAME"), "the name on the certificate clients reach TURN over TLS by (default: the -public-url host) (PARLEY_TURN_NAME)")
	fs.BoolVar(&m.ShowVersion, "version", false, "print the version and exit")
	fs.StringVar(&m.Config.Cluster.Node, "node", os.Getenv("PARLEY_NODE"), "run as one node of a cluster of hubs on one PostgreSQL -db, under this name (e.g. the host's); each organisation is served by one node at a time and the others pass its connections through (PARLEY_NODE)")
	fs.StringVar(&m.Config.Cluster.URL, "node-url", os.Getenv("PARLEY_NODE_URL"), "with -node: the address the other nodes reach this one at, e.g. http://10.0.0.5:8080 (default: the listen address) (PARLEY_NODE_URL)")
	fs.DurationVar(&m.Config.Cluster.LeaseTTL, "lease-ttl", envDuration("PARLEY_LEASE_TTL", 4*time.Second), "with -node: how long a dead node's organisations wait before another node takes them over (PARLEY_LEASE_TTL)")
	fs.StringVar(&m.TrustedProxies, "trusted-proxies", os.Getenv("PARLEY_TRUSTED_PROXIES"), "comma-separated addresses or CIDR prefixes of reverse proxies whose X-Forwarded-For names the customer, e.g. 127.0.0.1,10.0.0.0/8 (PARLEY_TRUSTED_PROXIES)")
	limits, err := strconv.ParseBool(envOr("PARLEY_RATE_LIMITS", "true"))
	if err != nil {
		return fmt.Errorf("PARLEY_RATE_LIMITS: %w", err)
	}
	fs.BoolVar(&limits, "rate-limits", limits, "limit what each customer, account and address may send and hold open; false only for load tests on one machine (PARLEY_RATE_LIMITS)")
	d := hub.DefaultLimits
	m.Config.Limits = d
	fs.IntVar(&m.Config.Limits.CustomerConns, "customer-conns", envInt("PARLEY_CUSTOMER_CONNS", d.CustomerConns), "connections one customer's conversation may hold at once (tabs) (PARLEY_CUSTOMER_CONNS)")
	fs.IntVar(&m.Config.Limits.MemberConns, "member-conns", envInt("PARLEY_MEMBER_CONNS", d.MemberConns), "connections one agent, supervisor or admin account may hold at once (PARLEY_MEMBER_CONNS)")
	fs.IntVar(&m.Config.Limits.AddressConns, "address-conns", envInt("PARLEY_ADDRESS_CONNS", d.AddressConns), "customer connections one address may hold at once (PARLEY_ADDRESS_CONNS)")
	fs.IntVar(&m.Config.Limits.PendingConns, "pending-conns", envInt("PARLEY_PENDING_CONNS", d.PendingConns), "connections one address may hold before they say hello (PARLEY_PENDING_CONNS)")
	fs.DurationVar(&m.Config.Limits.HelloTimeout, "hello-timeout", envDuration("PARLEY_HELLO_TIMEOUT", d.HelloTimeout), "a new connection has this long to send its request headers, and a WebSocket as long again to say hello (PARLEY_HELLO_TIMEOUT)")
	fs.DurationVar(&m.Config.Limits.IdleTimeout, "idle-timeout", envDuration("PARLEY_IDLE_TIMEOUT", d.IdleTimeout), "a WebSocket silent this long is pinged, and closed if it does not answer within as long again; a keep-alive HTTP connection is closed after twice this unused (PARLEY_IDLE_TIMEOUT)")
	fs.StringVar(&m.Config.MetricsAddr, "metrics-addr", os.Getenv("PARLEY_METRICS_ADDR"), "serve /metrics on this address instead of the hub's, e.g. 10.0.0.5:9090 for the scraper (PARLEY_METRICS_ADDR)")
	fs.StringVar(&m.MetricsTokenFile, "metrics-token-file", os.Getenv("PARLEY_METRICS_TOKEN_FILE"), "file holding the bearer token /metrics asks for; without one only this machine reads them (PARLEY_METRICS_TOKEN_FILE)")
	fs.IntVar(&m.Config.MaxConns, "max-conns", envInt("PARLEY_MAX_CONNS", hub.DefaultMaxConns), "TCP connections the hub holds at once; past it new ones are closed (PARLEY_MAX_CONNS)")
	fs.StringVar(&m.Recordings, "recordings", os.Getenv("PARLEY_RECORDINGS"), "where call recordings are kept: a directory (default recordings/ beside a SQLite -db) or s3://bucket/prefix (PARLEY_RECORDINGS; docs/recording.md)")
	fs.StringVar(&m.S3Endpoint, "s3-endpoint", os.Getenv("PARLEY_S3_ENDPOINT"), "with -recordings s3://...: the S3-compatible service, host[:port] or http(s)://host[:port] (default s3.amazonaws.com; PARLEY_S3_ENDPOINT); keys from PARLEY_S3_ACCESS_KEY and PARLEY_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&m.S3Region, "s3-region", os.Getenv("PARLEY_S3_REGION"), "with -recordings s3://...: the bucket's region (PARLEY_S3_REGION)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := m.parseRecordings(); err != nil {
		return err
	}
	m.Config.Limits.Off = !limits
	if m.Config.TrustedProxies, err = parsePrefixes(m.TrustedProxies); err != nil {
		return fmt.Errorf("-trusted-proxies: %w", err)
	}
	if m.Config.TURN.AllowPeers, err = parsePrefixes(m.TURNAllowPeers); err != nil {
		return fmt.Errorf("-turn-allow-peers: %w", err)
	}
	for _, d := range strings.Split(m.ACMEDomains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			m.Config.TLS.ACMEDomains = append(m.Config.TLS.ACMEDomains, d)
		}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (subcommands: init, org, user; parley-hub help)", fs.Arg(0))
	}
	if m.LogFormat != "text" && m.LogFormat != "json" {
		return fmt.Errorf("-log-format must be text or json, not %q", m.LogFormat)
	}
	if m.Config.DB, err = readDB(m.Config.DB, m.DBFile); err != nil {
		return fmt.Errorf("-db-file: %w", err)
	}
	m.Config.MetricsToken = os.Getenv("PARLEY_METRICS_TOKEN")
	if m.MetricsTokenFile != "" {
		b, err := os.ReadFile(m.MetricsTokenFile)
		if err != nil {
			return fmt.Errorf("-metrics-token-file: %w", err)
		}
		if m.Config.MetricsToken = strings.TrimSpace(string(b)); m.Config.MetricsToken == "" {
			return fmt.Errorf("-metrics-token-file %s is empty", m.MetricsTokenFile)
		}
	}
	if m.Config.TURNSecret == "" && m.TURNSecretFile == "" {
		m.Config.TURNSecret = os.Getenv("PARLEY_TURN_SECRET")
	}
	if m.TURNSecretFile != "" {
		if m.Config.TURNSecret != "" {
			return errors.New("give -turn-secret or -turn-secret-file, not both")
		}
		b, err := os.ReadFile(m.TURNSecretFile)
		if err != nil {
			return fmt.Errorf("-turn-secret-file: %w", err)
		}
		if m.Config.TURNSecret = strings.TrimSpace(string(b)); m.Config.TURNSecret == "" {
			return fmt.Errorf("-turn-secret-file %s is empty", m.TURNSecretFile)
		}
	}
	if m.RelaysFile != "" {
		f, err := os.Open(m.RelaysFile)
		if err != nil {
			return fmt.Errorf("-relays: %w", err)
		}
		defer f.Close()
		if m.Config.Relays, err = relay.LoadRelays(f); err != nil {
			return fmt.Errorf("-relays %s: %w", m.RelaysFile, err)
		}
	}
	return nil
}

// parsePrefixes reads a comma- or space-separated list of addresses and CIDR prefixes.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }) {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR prefix", p)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, pfx.Masked())
	}
	return out, nil
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil {
		return d
	}
	return def
}

// Run opens the hub and starts serving; it returns once the hub listens.
func (m *Main) Run(ctx context.Context) error {
	var h slog.Handler = slog.NewTextHandler(m.Stderr, nil)
	if m.LogFormat == "json" {
		h = slog.NewJSONHandler(m.Stderr, nil)
	}
	m.Config.Logger = slog.New(h).With("service", "parley-hub", "version", version.Version)
	m.Config.Portal = portal.Handler()
	s, err := hub.Open(ctx, m.Config)
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		_ = s.Close(context.Background())
		return err
	}
	m.Server = s
	if m.Config.Demo && (m.DemoCalls != "" || m.DemoRegion != "") {
		if err := m.setDemoCalls(ctx); err != nil {
			_ = s.Close(context.Background())
			return err
		}
	}
	if m.Config.Demo {
		m.Config.Logger.Info("demo organisation ready", "org", hub.DemoOrg, "portal", s.URL()+"/chat/"+string(hub.DemoOrg))
	}
	fmt.Fprintf(m.Stdout, "listening on %s\n", s.URL())
	if u := s.MetricsURL(); u != "" {
		fmt.Fprintf(m.Stdout, "metrics on %s\n", u)
	}
	return nil
}

// Close shuts the hub down gracefully, giving clients up to 10 seconds.
func (m *Main) Close() error {
	if m.Server == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.Server.Close(ctx)
}

// setDemoCalls applies -demo-calls and -demo-region, keeping what is not given.
func (m *Main) setDemoCalls(ctx context.Context) error {
	o, err := m.Server.Store().Org(ctx, hub.DemoOrg)
	if err != nil {
		return err
	}
	calls, region := o.Calls, relay.Region(o.Region)
	if m.DemoCalls != "" {
		calls = wire.CallsAllowed(m.DemoCalls)
	}
	if m.DemoRegion != "" {
		region = relay.Region(m.DemoRegion)
	}
	if calls == "" {
		calls = wire.CallsVoiceVideo
	}
	return m.Server.SetOrgCalls(ctx, hub.DemoOrg, calls, region)
}
