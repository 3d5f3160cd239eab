package frontier

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes what gather status shows of a shared crawl as
// Prometheus metrics, read from Redis at each scrape: a scrape sees the
// crawl as it is, whichever process serves it, and nothing is kept
// between scrapes. Labels: crawl (the job's name; not "job", which
// Prometheus attaches to every target itself) and worker.
type Collector struct {
	fr      *Redis
	timeout time.Duration

	up, seeded, run, queued, leased, results, stored, seen, oldest *prometheus.Desc
	stopped, late, sink, unreconciled                              *prometheus.Desc
	wLeased, wPages, wRate, wSeen, wOldest                         *prometheus.Desc
	wOutages, wWaited, wLate                                       *prometheus.Desc
}

// NewCollector makes the collector of fr's crawl. Register it in a
// registry of its own (never the global one), as gather's other metrics;
// collectors of crawls with different names can share one.
func NewCollector(fr *Redis) *Collector {
	// crawl is a constant label: each crawl's collector has descriptions
	// of its own, so several can be registered together.
	cl := prometheus.Labels{"crawl": fr.opts.Job}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, cl)
	}
	return &Collector{fr: fr, timeout: 5 * time.Second,
		up:           d("gather_frontier_up", "1 if the frontier's Redis answered this scrape, else 0."),
		seeded:       d("gather_frontier_seeded", "1 once the current run's seeding is done."),
		run:          d("gather_frontier_run", "Number of the shared crawl's current run (counted by gather schedule; 0 before its first)."),
		queued:       d("gather_frontier_queued", "URLs waiting for a worker."),
		leased:       d("gather_frontier_leased", "URLs leased to workers: being fetched, or their outcome waiting for the sink."),
		results:      d("gather_frontier_results_waiting", "Outcomes handed over by workers and not stored by the sink yet."),
		stored:       d("gather_frontier_stored", "Outcomes the sink stored in the current run."),
		seen:         d("gather_frontier_seen", "URLs the current run has met (its dedup set)."),
		oldest:       d("gather_frontier_oldest_lease_seconds", "Idle time of the longest-unrenewed lease."),
		stopped:      d("gather_frontier_hosts_stopped", "Hosts a CAPTCHA stopped for the rest of the run, for every worker."),
		late:         d("gather_frontier_late_waiting", "Late outcomes (their lease was gone) waiting for a sink, which stores them where newer."),
		sink:         d("gather_frontier_sink_up", "1 while a sink runs (it beat within a lease), else 0."),
		unreconciled: d("gather_frontier_unreconciled", "1 when Redis restarted and no sink has reconciled the frontier with the database yet: pages wait for a sink."),
		wLeased:      d("gather_frontier_worker_leased", "URLs a worker holds.", "worker"),
		wPages:       d("gather_frontier_worker_pages_total", "Outcomes a worker handed over since it started.", "worker"),
		wRate:        d("gather_frontier_worker_pages_per_second", "A worker's pages over its time up, as it last reported.", "worker"),
		wSeen:        d("gather_frontier_worker_last_report_seconds", "Seconds since a worker last reported (renewed its leases).", "worker"),
		wOldest:      d("gather_frontier_worker_oldest_lease_seconds", "Idle time of a worker's oldest lease.", "worker"),
		wOutages:     d("gather_frontier_worker_outages_total", "Times a worker could not reach the frontier's Redis (its pages waited).", "worker"),
		wWaited:      d("gather_frontier_worker_outage_seconds_total", "Seconds a worker's pages waited for the frontier's Redis.", "worker"),
		wLate:        d("gather_frontier_worker_late_outcomes_total", "Outcomes a worker handed over late: their lease was gone (stored from another lease, or the run ended).", "worker"),
	}
}

// Describe sends the metrics' descriptions.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.seeded, c.run, c.queued, c.leased, c.results, c.stored, c.seen, c.oldest, c.stopped, c.late, c.sink, c.unreconciled,
		c.wLeased, c.wPages, c.wRate, c.wSeen, c.wOldest, c.wOutages, c.wWaited, c.wLate} {
		ch <- d
	}
}

// Collect reads the crawl's status; a Redis that does not answer within
// the timeout gives gather_frontier_up 0 and nothing else, rather than a
// failed scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	st, err := c.fr.Status(ctx)
	if err != nil {
		c.fr.log.Warn("metrics: the frontier's status could not be read", "error", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	seeded := 0.0
	if st.Seeded {
		seeded = 1
	}
	gauge(c.up, 1)
	gauge(c.seeded, seeded)
	gauge(c.run, float64(st.Run))
	gauge(c.queued, float64(st.Queued))
	gauge(c.leased, float64(st.Leased))
	gauge(c.results, float64(st.Results))
	gauge(c.stored, float64(st.Stored))
	gauge(c.seen, float64(st.Seen))
	gauge(c.oldest, st.OldestLease.Seconds())
	gauge(c.stopped, float64(len(st.Stopped)))
	gauge(c.late, float64(st.Late))
	gauge(c.sink, b2f(st.Sink != nil))
	gauge(c.unreconciled, b2f(st.Unreconciled != ""))
	for _, w := range st.Workers {
		gauge(c.wLeased, float64(w.Leased), w.Name)
		ch <- prometheus.MustNewConstMetric(c.wPages, prometheus.CounterValue, float64(w.Pages), w.Name)
		gauge(c.wRate, w.Rate, w.Name)
		gauge(c.wSeen, w.Seen.Seconds(), w.Name)
		gauge(c.wOldest, w.OldestLease.Seconds(), w.Name)
		ch <- prometheus.MustNewConstMetric(c.wOutages, prometheus.CounterValue, float64(w.Outages), w.Name)
		ch <- prometheus.MustNewConstMetric(c.wWaited, prometheus.CounterValue, w.Waited.Seconds(), w.Name)
		ch <- prometheus.MustNewConstMetric(c.wLate, prometheus.CounterValue, float64(w.Late), w.Name)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
