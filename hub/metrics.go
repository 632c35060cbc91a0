package hub

import (
	"github.com/parleyhq/parley/wire"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// The hub's Prometheus metrics.

// metrics are the hub's Prometheus metrics, on a registry of its own so several hubs can run in
// one process (tests, the desktop app's demo mode).
type metrics struct {
	reg *prometheus.Registry
	// clusterOwned, clusterTakeovers and clusterLost are a cluster node's organisations
	// (cluster.go).
	clusterOwned     prometheus.Gauge
	clusterTakeovers prometheus.Counter
	clusterLost      prometheus.Counter
	// connections counts live WebSocket connections by role.
	connections *prometheus.GaugeVec
	// messages counts stored chat messages by author.
	messages *prometheus.CounterVec
	// queue is the number of waiting conversations by organisation.
	queue *prometheus.GaugeVec
	// offers counts offers by outcome: offered, accepted, declined, timeout, revoked.
	offers *prometheus.CounterVec
	// frameErrors counts rejected client frames by error code.
	frameErrors *prometheus.CounterVec
	// conversations counts conversations by how they moved: started, assigned, ended.
	conversations *prometheus.CounterVec
	// storeSeconds is how long one store transaction of chat messages takes (the router waits
	// for it; under load one transaction carries a batch).
	storeSeconds prometheus.Histogram
	// handleSeconds is how long a chat message takes from its frame being read to its copies
	// being queued for every recipient: the hub's share of the fan-out latency.
	handleSeconds prometheus.Histogram
	// rateLimited counts frames and requests refused by a rate limit, by limit: frames, sends,
	// visual (co-browse bytes), starts (new conversations per address).
	rateLimited *prometheus.CounterVec
	// connsRefused counts connections refused by a cap, by reason: tcp_cap, pending, address,
	// conversation, account.
	connsRefused *prometheus.CounterVec
	// idleClosed counts WebSockets closed for silence and no answer to a ping.
	idleClosed prometheus.Counter
	// tcpConns is the TCP connections open now.
	tcpConns prometheus.Gauge
	// logins counts sign-ins by result: ok, wrong, limited, busy.
	logins *prometheus.CounterVec
	// setupChecks counts agents' "Test my setup" results by status (pass, warn, fail).
	setupChecks *prometheus.CounterVec
	// routerBusy is the time the routing loop spent working (commands, chat batches and what
	// each sends after): its busy share is the rate of this counter.
	routerBusy prometheus.Counter
	// routingMetrics are the metrics of queues and routing (routing_metrics.go).
	*routingMetrics
}

// latencyBuckets are the histogram bounds of the chat path, in seconds.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .02, .025, .05, .1, .25, .5, 1}

func newMetrics() *metrics {
	m := &metrics{
		reg:          prometheus.NewRegistry(),
		clusterOwned: prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_cluster_owned_orgs", Help: "Organisations this cluster node serves."}),
		clusterTakeovers: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_cluster_takeovers_total",
			Help: "Organisations this cluster node took (none owned them, or their node died or drained)."}),
		clusterLost:   prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_cluster_lost_total", Help: "Organisations whose lease this node lost while serving them."}),
		connections:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "parley_hub_connections", Help: "Live WebSocket connections by role."}, []string{"role"}),
		messages:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_messages_total", Help: "Chat messages stored, by author."}, []string{"author"}),
		queue:         prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "parley_hub_queue_length", Help: "Conversations waiting for an agent, by organisation."}, []string{"org"}),
		offers:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_offers_total", Help: "Offers by outcome."}, []string{"outcome"}),
		frameErrors:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_frame_errors_total", Help: "Client frames rejected, by error code."}, []string{"code"}),
		conversations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_conversations_total", Help: "Conversation transitions: started, assigned, ended."}, []string{"event"}),
		storeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_hub_message_store_seconds", Help: "Time of one transaction storing chat messages (a batch under load).",
			Buckets: latencyBuckets}),
	}
	m.handleSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_hub_message_handle_seconds",
		Help: "Time from reading a chat message to queueing it for its recipients.", Buckets: latencyBuckets})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_rate_limited_total",
		Help: "Frames and requests refused by a rate limit, by limit: frames, sends, visual, starts."}, []string{"limit"})
	m.connsRefused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_connections_refused_total",
		Help: "Connections refused by a cap, by reason: tcp_cap, pending (before Hello, per address), hello_timeout (no Hello in time), address (customers per address), conversation, account."}, []string{"reason"})
	m.idleClosed = prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_hub_connections_idle_closed_total",
		Help: "WebSockets closed for sending nothing and answering no ping."})
	m.tcpConns = prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_hub_tcp_connections", Help: "TCP connections open on the hub's listener."})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_logins_total",
		Help: "Sign-ins by result: ok, wrong (password or username), limited (backing off), busy (too many checked at once)."}, []string{"result"})
	m.reg.MustRegister(m.clusterOwned, m.clusterTakeovers, m.clusterLost)
	m.setupChecks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_setup_checks_total",
		Help: "Agents' \"Test my setup\" results, by status: pass, warn, fail (a failed check is an agent who may not take calls)."}, []string{"status"})
	m.routerBusy = prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_hub_router_busy_seconds_total",
		Help: "Time the routing loop spent working; its rate is the loop's busy share (1 = always busy: presence, offers and typing wait)."})
	m.reg.MustRegister(m.connections, m.messages, m.queue, m.offers, m.frameErrors, m.conversations, m.storeSeconds, m.handleSeconds,
		m.rateLimited, m.connsRefused, m.idleClosed, m.tcpConns, m.logins, m.routerBusy, m.setupChecks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, l := range []string{"frames", "sends", "visual", "starts"} {
		m.rateLimited.WithLabelValues(l)
	}
	for _, r := range []string{"tcp_cap", "pending", "address", "conversation", "account"} {
		m.connsRefused.WithLabelValues(r)
	}
	for _, st := range []string{"pass", "warn", "fail"} {
		m.setupChecks.WithLabelValues(st)
	}
	for _, r := range []string{"ok", "wrong", "limited", "busy"} {
		m.logins.WithLabelValues(r)
	}
	m.routingMetrics = newRoutingMetrics(m.reg)
	for _, role := range []wire.Role{wire.RoleCustomer, wire.RoleAgent, wire.RoleSupervisor, wire.RoleAdmin} {
		m.connections.WithLabelValues(string(role))
	}
	return m
}

// callMetrics are the Prometheus metrics of calls.
type callMetrics struct {
	// invites counts call invitations by kind.
	invites *prometheus.CounterVec
	// outcomes counts calls by outcome: accepted_audio, accepted_video (when answered), declined,
	// missed, cancelled, failed (when they end unanswered).
	outcomes *prometheus.CounterVec
	// seconds is the duration of answered calls, by kind.
	seconds *prometheus.HistogramVec
	// adopted counts calls, ringing or active, kept across a cluster takeover (router.adoptCalls).
	adopted prometheus.Counter
	// probes counts customers' network probes by grade: good, weak, failed.
	probes *prometheus.CounterVec
}

func newCallMetrics(reg *prometheus.Registry) *callMetrics {
	m := &callMetrics{
		invites:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_call_invites_total", Help: "Call invitations, by kind."}, []string{"kind"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_calls_total", Help: "Calls by outcome."}, []string{"outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "parley_hub_call_seconds", Help: "Duration of answered calls, answer to end.",
			Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600}}, []string{"kind"}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_call_probes_total", Help: "Customers' network probes while a call rang, by grade (good, weak, failed)."}, []string{"status"}),
		adopted: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_cluster_calls_adopted_total",
			Help: "Calls in progress this cluster node kept when it took their organisation over."}),
	}
	reg.MustRegister(m.invites, m.outcomes, m.seconds, m.adopted, m.probes)
	for _, o := range []wire.CallOutcome{wire.OutcomeAcceptedAudio, wire.OutcomeAcceptedVideo, wire.OutcomeDeclined, wire.OutcomeMissed, wire.OutcomeCancelled, wire.OutcomeFailed} {
		m.outcomes.WithLabelValues(string(o))
	}
	return m
}
