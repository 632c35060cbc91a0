package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/hub/sqlite"
	"github.com/parleyhq/parley/wire"
)

// Routing under load: with -queues N the organisation has N queues, each requiring its own skill
// (queue q07 needs skill q07), and every agent belongs to three queues with those skills. The
// last queue needs a skill nobody has and does not widen for an hour: the conversations in it
// wait through every routing pass, the case the no-starvation rule must not make slow. After the
// traffic, customers leave and new ones arrive (-churn a second, one in twenty into that last
// queue) with about -convs conversations live, and the hub's routing histogram
// (parley_hub_routing_seconds, one observation per routing pass) over that phase is the figure.

// routeResult is what the churn phase measured.
type routeResult struct {
	passes         float64
	p50, p99, mean float64 // ms, p50/p99 interpolated in the hub's histogram buckets
	p99Bucket      float64 // ms, the bucket bound p99 is under (0: over the last bound)
	started        int
	waiting        int // conversations still waiting at the end (the rare queue's)
}

func queuesText(n int) string {
	if n == 0 {
		return "one queue, no skills"
	}
	return fmt.Sprintf("%d queues each requiring a skill, agents in 3 queues each", n)
}

func queueID(i int) wire.QueueID { return wire.QueueID(fmt.Sprintf("q%02d", i)) }

// seedQueues creates the queues and the agents' memberships.
func seedQueues(ctx context.Context, db *sqlite.DB, agents, queues int) error {
	if queues == 0 {
		return nil
	}
	for i := range queues {
		q := wire.Queue{ID: queueID(i), Name: fmt.Sprintf("Queue %02d", i), Default: i == 0,
			Skills: []wire.Skill{{Name: string(queueID(i)), Level: 1}}, WidenAfterS: 60,
			ServiceLevel: wire.ServiceLevel{TargetS: 30, Percent: 80}}
		if i == queues-1 {
			q.Skills, q.WidenAfterS = []wire.Skill{{Name: "rare", Level: 3}}, 3600
		}
		if err := db.SaveQueue(ctx, org, q); err != nil {
			return err
		}
	}
	served := queues - 1 // the last queue's skill is nobody's
	for a := range agents {
		m := wire.MemberRouting{User: wire.UserID(fmt.Sprintf("u_agent%03d", a))}
		for _, k := range []int{a, a + 7, a + 13} {
			q := queueID(k % served)
			if !containsQueue(m.Queues, q) {
				m.Queues = append(m.Queues, q)
				m.Skills = append(m.Skills, wire.Skill{Name: string(q), Level: 1 + a%3})
			}
		}
		m.Queues = append(m.Queues, queueID(queues-1))
		if err := db.SetMemberRouting(ctx, org, m); err != nil {
			return err
		}
	}
	return nil
}

func containsQueue(qs []wire.QueueID, q wire.QueueID) bool {
	for _, x := range qs {
		if x == q {
			return true
		}
	}
	return false
}

// setupQueue is where customer i of the first -convs goes: spread over the queues agents serve.
func (b *bench) setupQueue(i int) wire.QueueID {
	if b.queues == 0 {
		return ""
	}
	return queueID(i % (b.queues - 1))
}

// answered counts a conversation an agent took (never blocking: churn customers count too).
func (b *bench) answered() {
	select {
	case b.active <- struct{}{}:
	default:
	}
}

// churnPhase times routing while customers leave and arrive at cfg.churn a second.
func (b *bench) churnPhase(ctx context.Context, ops string, cfg config) (routeResult, error) {
	var res routeResult
	if cfg.churn < 1 {
		return res, errors.New("-churn must be positive")
	}
	before, err := readHistogram(ops, "parley_hub_routing_seconds")
	if err != nil {
		return res, err
	}
	for len(b.active) > 0 { // the setup's answers are counted already
		<-b.active
	}
	tick := time.NewTicker(time.Second / time.Duration(cfg.churn))
	defer tick.Stop()
	end := time.Now().Add(cfg.churnFor)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	rare := 0
	for n := 0; time.Now().Before(end); n++ {
		<-tick.C
		b.mu.Lock()
		k := rand.IntN(len(b.customers))
		cu := b.customers[k]
		b.customers = append(b.customers[:k], b.customers[k+1:]...)
		b.mu.Unlock()
		queue := wire.QueueID("")
		if cfg.queues > 0 {
			queue = queueID(rand.IntN(cfg.queues - 1))
			if n%20 == 19 {
				queue, rare = queueID(cfg.queues-1), rare+1
			}
		}
		res.started++
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := cu.conn.Request(ctx, wire.TypeConvLeave, wire.ConvRef{Conv: cu.conv})
			if err == nil {
				err = b.startCustomer(ctx, cfg.convs+n, queue)
			}
			if err != nil {
				mu.Lock()
				firstErr = cmpErr(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return res, fmt.Errorf("churn: %w", firstErr)
	}
	// Every arrival but the rare queue's is taken by an agent.
	want := res.started - rare
	deadline := time.After(60 * time.Second)
	for got := 0; got < want; got++ {
		select {
		case <-b.active:
		case <-deadline:
			return res, fmt.Errorf("churn: %d of %d new conversations were taken within 60 s", got, want)
		}
	}
	after, err := readHistogram(ops, "parley_hub_routing_seconds")
	if err != nil {
		return res, err
	}
	res.waiting = rare
	d := after.minus(before)
	res.passes = d.count
	if d.count > 0 {
		res.mean = d.sum / d.count * 1000
	}
	res.p50, _ = d.quantile(0.50)
	res.p99, res.p99Bucket = d.quantile(0.99)
	fmt.Printf("routing under churn: %d customers left and %d arrived over %s (%d into the queue nobody serves, still waiting), %.0f routing passes: p50 %.3f ms, p99 %.3f ms (<= %s bucket), mean %.3f ms\n",
		res.started, res.started, cfg.churnFor, rare, res.passes, res.p50, res.p99, bucketText(res.p99Bucket), res.mean)
	return res, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func bucketText(ms float64) string {
	if ms == 0 {
		return "over the last"
	}
	return strconv.FormatFloat(ms, 'g', -1, 64) + " ms"
}

// compareRouting runs the routing reference (one queue, no skills, the same churn) and prints
// the ratio and the verdict for the 1 ms p99 target.
func compareRouting(cfg config, measured result, withRef bool) error {
	verdict := "PASS"
	if measured.route.p99Bucket == 0 || measured.route.p99Bucket > 1 {
		verdict = "FAIL"
	}
	if withRef {
		fmt.Println("== routing reference: one queue, no skills, the same conversations and churn (synchronous full)")
		ref := cfg
		ref.queues, ref.sync, ref.timeRouting = 0, "full", true
		r, err := run(ref)
		if err != nil {
			return err
		}
		ratio := func(a, b float64) string {
			if b == 0 {
				return "n/a"
			}
			return fmt.Sprintf("%.2fx", a/b)
		}
		fmt.Printf("routing pass, %d queues with skills vs one queue, same churn in the same run: p50 %.3f vs %.3f ms (%s), p99 %.3f vs %.3f ms (%s), mean %.3f vs %.3f ms (%s)\n",
			cfg.queues, measured.route.p50, r.route.p50, ratio(measured.route.p50, r.route.p50),
			measured.route.p99, r.route.p99, ratio(measured.route.p99, r.route.p99),
			measured.route.mean, r.route.mean, ratio(measured.route.mean, r.route.mean))
	}
	fmt.Printf("target: routing pass p99 <= 1 ms at %d live conversations with %d queues and skills: %s\n", cfg.convs, cfg.queues, verdict)
	return nil
}

// histogram is a Prometheus histogram as scraped: cumulative counts by upper bound (seconds).
type histogram struct {
	bounds []float64
	counts []float64 // cumulative, one per bound; the last bound is +Inf
	sum    float64
	count  float64
}

func readHistogram(ops, name string) (histogram, error) {
	res, err := http.Get(ops + "/metrics")
	if err != nil {
		return histogram{}, err
	}
	defer res.Body.Close()
	var h histogram
	type pt struct{ le, n float64 }
	var pts []pt
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(k, name+`_bucket{le="`):
			le := strings.TrimSuffix(strings.TrimPrefix(k, name+`_bucket{le="`), `"}`)
			b, err := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
			if err == nil {
				pts = append(pts, pt{b, f})
			}
		case k == name+"_sum":
			h.sum = f
		case k == name+"_count":
			h.count = f
		}
	}
	if len(pts) == 0 {
		return h, fmt.Errorf("the hub has no %s", name)
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].le < pts[j].le })
	for _, p := range pts {
		h.bounds = append(h.bounds, p.le)
		h.counts = append(h.counts, p.n)
	}
	return h, sc.Err()
}

// minus is what was observed between two scrapes.
func (h histogram) minus(o histogram) histogram {
	d := histogram{bounds: h.bounds, counts: make([]float64, len(h.counts)), sum: h.sum - o.sum, count: h.count - o.count}
	for i := range h.counts {
		d.counts[i] = h.counts[i]
		if i < len(o.counts) {
			d.counts[i] -= o.counts[i]
		}
	}
	return d
}

// quantile interpolates the q-quantile in its bucket as Prometheus's histogram_quantile does,
// in ms, with the bucket's upper bound in ms (0 when it is the +Inf bucket).
func (h histogram) quantile(q float64) (ms, bound float64) {
	if h.count == 0 {
		return 0, 0
	}
	rank := q * h.count
	lo, below := 0.0, 0.0
	for i, b := range h.bounds {
		if h.counts[i] >= rank {
			if b > 1e300 { // +Inf
				return lo * 1000, 0
			}
			in := h.counts[i] - below
			f := 1.0
			if in > 0 {
				f = (rank - below) / in
			}
			return (lo + (b-lo)*f) * 1000, b * 1000
		}
		lo, below = b, h.counts[i]
	}
	return lo * 1000, 0
}
