package hub

import "github.com/prometheus/client_golang/prometheus"

// routingMetrics are the Prometheus metrics of queues and routing.
type routingMetrics struct {
	// routeSeconds is how long one routing pass takes (choosing agents for every waiting
	// conversation of an organisation).
	routeSeconds prometheus.Histogram
	// queueWait is how long answered conversations waited, by organisation and queue.
	queueWait *prometheus.HistogramVec
	// queueAnswered counts answered conversations by organisation, queue and whether they were
	// answered within the queue's service-level target.
	queueAnswered *prometheus.CounterVec
	// queueAbandoned counts conversations whose customer left while waiting.
	queueAbandoned *prometheus.CounterVec
	// transfers counts transfers by organisation, the queue they left and where to (queue, agent).
	transfers *prometheus.CounterVec
	// consults counts invitations to read along.
	consults prometheus.Counter
}

// routeBuckets are the bounds of a routing pass, in seconds: tens of microseconds to milliseconds.
var routeBuckets = []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01}

func newRoutingMetrics(reg *prometheus.Registry) *routingMetrics {
	m := &routingMetrics{
		routeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_hub_routing_seconds",
			Help: "Time of one routing pass: choosing the best agent for each waiting conversation of an organisation.", Buckets: routeBuckets}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "parley_hub_queue_wait_seconds",
			Help: "How long answered conversations waited, by queue.", Buckets: []float64{5, 10, 20, 30, 45, 60, 120, 300, 600, 1800}},
			[]string{"org", "queue"}),
		queueAnswered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_queue_answered_total",
			Help: "Conversations an agent took, by queue and whether within the queue's service-level target."}, []string{"org", "queue", "in_target"}),
		queueAbandoned: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_queue_abandoned_total",
			Help: "Conversations whose customer left before an agent took them, by queue."}, []string{"org", "queue"}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_hub_transfers_total",
			Help: "Transfers by the queue they left and where they went (queue or agent)."}, []string{"org", "queue", "to"}),
		consults: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_hub_consults_total", Help: "Invitations to read along."}),
	}
	reg.MustRegister(m.routeSeconds, m.queueWait, m.queueAnswered, m.queueAbandoned, m.transfers, m.consults)
	return m
}

// queueCollector reports each queue's live figures when /metrics is scraped, read from the
// router then (so they are current, not as of the last change).
type queueCollector struct {
	r                                                                      *router
	waiting, longest, sl, abandon, asa, first, aht, online, available, ewt *prometheus.Desc
}

func newQueueCollector(r *router) *queueCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append([]string{"org", "queue"}, labels...), nil)
	}
	return &queueCollector{r: r,
		waiting:   d("parley_hub_queue_waiting", "Conversations waiting now."),
		longest:   d("parley_hub_queue_longest_wait_seconds", "How long the oldest waiting conversation has waited."),
		sl:        d("parley_hub_queue_service_level_ratio", "Share of the last 24 h's answered and abandoned conversations answered within the target (absent: none yet)."),
		abandon:   d("parley_hub_queue_abandon_ratio", "Share of the last 24 h's answered and abandoned conversations abandoned (absent: none yet)."),
		asa:       d("parley_hub_queue_asa_seconds", "Average speed of answer over the last 24 h."),
		first:     d("parley_hub_queue_first_response_seconds", "Mean time from joining the queue to the agent's first message, last 24 h."),
		aht:       d("parley_hub_queue_handle_seconds", "Average handle time over the last 24 h, with and without an answered call.", "call"),
		online:    d("parley_hub_queue_agents_online", "Members of the queue online."),
		available: d("parley_hub_queue_agents_available", "Members of the queue who could take a chat now."),
		ewt:       d("parley_hub_queue_estimated_wait_seconds", "The wait a new customer would be told (0: not enough data)."),
	}
}

// Describe implements prometheus.Collector.
func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{q.waiting, q.longest, q.sl, q.abandon, q.asa, q.first, q.aht, q.online, q.available, q.ewt} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	var ms []prometheus.Metric
	_ = q.r.call(func() error {
		now := q.r.s.now()
		for _, org := range q.r.orgs {
			for _, st := range q.r.queueStats(org, now) {
				l := []string{string(org.id), string(st.Queue)}
				g := func(d *prometheus.Desc, v float64, extra ...string) {
					ms = append(ms, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append(l, extra...)...))
				}
				g(q.waiting, float64(st.Waiting))
				g(q.longest, float64(st.LongestWaitMS)/1000)
				if st.ServiceLevelPct >= 0 {
					g(q.sl, st.ServiceLevelPct/100)
					g(q.abandon, st.AbandonPct/100)
				}
				g(q.asa, float64(st.ASAMS)/1000)
				g(q.first, float64(st.FirstResponseMS)/1000)
				g(q.aht, float64(st.AHTWithCallMS)/1000, "with")
				g(q.aht, float64(st.AHTWithoutCallMS)/1000, "without")
				g(q.online, float64(st.AgentsOnline))
				g(q.available, float64(st.AgentsAvailable))
				g(q.ewt, float64(st.EstimatedWaitMS)/1000)
			}
		}
		return nil
	})
	for _, m := range ms {
		ch <- m
	}
}
