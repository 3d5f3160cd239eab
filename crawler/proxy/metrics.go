package proxy

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// counters are one proxy's counts in this process, over all its crawls:
// /metrics is per process, and a scheduler runs a job's crawls one after
// another with the same proxies.
type counters struct {
	requests, failures, rests atomic.Int64
}

var (
	countersMu sync.Mutex
	byName     = map[string]*counters{}
)

func countersFor(name string) *counters {
	countersMu.Lock()
	defer countersMu.Unlock()
	c, ok := byName[name]
	if !ok {
		c = &counters{}
		byName[name] = c
	}
	return c
}

// Counts are a proxy's counts, for tests and reports.
type Counts struct {
	Requests, Failures, Rests int64
}

// CountsOf returns the counts of the proxy at host:port name.
func CountsOf(name string) Counts {
	c := countersFor(name)
	return Counts{Requests: c.requests.Load(), Failures: c.failures.Load(), Rests: c.rests.Load()}
}

var (
	requestsDesc = prometheus.NewDesc("gather_proxy_requests_total", "Requests sent through a proxy (crawl.proxy or the environment's), by proxy host:port.", []string{"proxy"}, nil)
	failuresDesc = prometheus.NewDesc("gather_proxy_failures_total", "Requests that failed because of the proxy itself (refused, handshake, credentials), by proxy host:port.", []string{"proxy"}, nil)
	restsDesc    = prometheus.NewDesc("gather_proxy_rests_total", "Times a proxy of a crawl.proxy list was put to rest after a failure, by proxy host:port.", []string{"proxy"}, nil)
)

// Collector exports every proxy's counts in this process. Register one
// per registry.
type Collector struct{}

// Describe implements prometheus.Collector.
func (Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- requestsDesc
	ch <- failuresDesc
	ch <- restsDesc
}

// Collect implements prometheus.Collector.
func (Collector) Collect(ch chan<- prometheus.Metric) {
	countersMu.Lock()
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	countersMu.Unlock()
	sort.Strings(names)
	for _, n := range names {
		c := countersFor(n)
		ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.CounterValue, float64(c.requests.Load()), n)
		ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.CounterValue, float64(c.failures.Load()), n)
		ch <- prometheus.MustNewConstMetric(restsDesc, prometheus.CounterValue, float64(c.rests.Load()), n)
	}
}
