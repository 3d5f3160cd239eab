package schedule

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gather-crawler/gather/crawler"
)

// Metrics are the scheduler's Prometheus metrics, in a registry of their
// own (never the global one).
type Metrics struct {
	Registry *prometheus.Registry

	runs        *prometheus.CounterVec
	skipped     *prometheus.CounterVec
	pages       *prometheus.CounterVec
	items       *prometheus.CounterVec
	changed     *prometheus.CounterVec
	browser     *prometheus.CounterVec
	challenges  *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec

	mu      sync.Mutex
	running map[string]*atomic.Pointer[crawler.Crawler]
}

// crawlLabel names the job a series is about. It was "job" until this
// release, but Prometheus attaches its own "job" label (the scrape job) to
// every target, so a scraped "job" arrived renamed to "exported_job"
// unless the scrape config set honor_labels. Queries written against
// exported_job should now use crawl.
const crawlLabel = "crawl"

// NewMetrics registers gather's metrics in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), running: map[string]*atomic.Pointer[crawler.Crawler]{}}
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gather_runs_total", Help: "Runs ended, by crawl (job) and final status."}, []string{crawlLabel, "status"})
	m.skipped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gather_runs_skipped_total", Help: "Scheduled runs not started, by crawl (job) and reason (overlap: the job was still running)."}, []string{crawlLabel, "reason"})
	m.pages = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gather_pages_total", Help: "Pages recorded, by crawl (job) and status."}, []string{crawlLabel, "status"})
	m.items = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gather_items_total", Help: "Records stored, by crawl (job)."}, []string{crawlLabel})
	m.changed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gather_pages_changed_total", Help: "Re-fetched pages whose records changed, by crawl (job)."}, []string{crawlLabel})
	m.browser = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gather_browser_pages_total", Help: "Pages loaded in Chromium (crawl.fetch: browser), by crawl (job)."}, []string{crawlLabel})
	m.challenges = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gather_challenges_solved_total", Help: "JavaScript challenges solved in Chromium (crawl.fetch: auto), by crawl (job)."}, []string{crawlLabel})
	m.lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gather_last_success_timestamp_seconds", Help: "When the job's last finished run ended, as a Unix time."}, []string{crawlLabel})
	m.Registry.MustRegister(m.runs, m.skipped, m.pages, m.items, m.changed, m.browser, m.challenges, m.lastSuccess,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// addJob creates the job's series at zero and its in-flight gauge, which
// reads the running crawler, if any.
func (m *Metrics) addJob(job string) *atomic.Pointer[crawler.Crawler] {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.running[job]; ok {
		return p
	}
	p := &atomic.Pointer[crawler.Crawler]{}
	m.running[job] = p
	for _, st := range []string{"finished", "interrupted", "failed"} {
		m.runs.WithLabelValues(job, st)
	}
	for _, st := range []string{"ok", "failed", "skipped"} {
		m.pages.WithLabelValues(job, st)
	}
	m.skipped.WithLabelValues(job, "overlap")
	m.skipped.WithLabelValues(job, "locked")
	m.items.WithLabelValues(job)
	m.changed.WithLabelValues(job)
	m.browser.WithLabelValues(job)
	m.challenges.WithLabelValues(job)
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gather_requests_in_flight", Help: "Pages dispatched and not finished, by crawl (job).", ConstLabels: prometheus.Labels{crawlLabel: job},
	}, func() float64 {
		if c := p.Load(); c != nil {
			return float64(c.Stats().InFlight)
		}
		return 0
	}))
	return p
}

func (m *Metrics) ended(job string, sum crawler.Summary) {
	m.runs.WithLabelValues(job, sum.Status).Inc()
	m.pages.WithLabelValues(job, "ok").Add(float64(sum.Counts.PagesOK))
	m.pages.WithLabelValues(job, "failed").Add(float64(sum.Counts.PagesFailed))
	m.pages.WithLabelValues(job, "skipped").Add(float64(sum.Counts.PagesSkipped))
	m.items.WithLabelValues(job).Add(float64(sum.Counts.Items))
	m.changed.WithLabelValues(job).Add(float64(sum.Counts.PagesChanged))
	m.browser.WithLabelValues(job).Add(float64(sum.Counts.BrowserPages))
	m.challenges.WithLabelValues(job).Add(float64(sum.Counts.Challenges))
}
