package scaleout_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/frontier"
	"github.com/gather-crawler/gather/internal/redistest"
)

// scrape GETs url's /metrics and parses the exposition.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	return families
}

// value is the one series of name whose labels include want, or fails.
func value(t *testing.T, families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f := families[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if _, ok := labels["job"]; ok {
			t.Errorf("%s has a job label: Prometheus would rename it exported_job", name)
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		if g := m.GetGauge(); g != nil {
			return g.GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("no %s series with %v", name, want)
	return 0
}

// The frontier's metrics, scraped over HTTP, say what Redis holds: URLs
// queued and leased, each worker's leases and their age; a Redis that does
// not answer is gather_frontier_up 0, not a failed scrape.
func TestCollector_ScrapedOverHTTP(t *testing.T) {
	rs := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	seeder := open(t, rs.URL(), "seed", 3*time.Second)
	links := make([]crawler.Link, 10)
	for i := range links {
		links[i] = crawler.Link{URL: "http://127.0.0.1:1/p/" + string(rune('a'+i))}
	}
	if err := seeder.Add(ctx, links); err != nil {
		t.Fatal(err)
	}
	w := open(t, rs.URL(), "w1", 300*time.Millisecond)
	tasks, err := w.Lease(ctx, 4)
	if err != nil || len(tasks) != 4 {
		t.Fatalf("lease: %d tasks, %v", len(tasks), err)
	}
	// The worker reports itself when it renews, every third of its lease.
	time.Sleep(250 * time.Millisecond)

	reg := prometheus.NewRegistry()
	reg.MustRegister(frontier.NewCollector(seeder))
	down, err := frontier.Open("redis://127.0.0.1:1/0", frontier.Options{Job: "elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	reg.MustRegister(frontier.NewCollector(down))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	m := scrape(t, srv.URL)
	crawl := map[string]string{"crawl": "shared"}
	for name, want := range map[string]float64{"gather_frontier_up": 1, "gather_frontier_queued": 6, "gather_frontier_leased": 4,
		"gather_frontier_seen": 10, "gather_frontier_results_waiting": 0, "gather_frontier_seeded": 0} {
		if got := value(t, m, name, crawl); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	wl := map[string]string{"crawl": "shared", "worker": "w1"}
	if got := value(t, m, "gather_frontier_worker_leased", wl); got != 4 {
		t.Errorf("w1 holds %v leases, want 4", got)
	}
	if age := value(t, m, "gather_frontier_worker_oldest_lease_seconds", wl); age < 0 || age > 1 {
		t.Errorf("w1's oldest lease is %vs idle; it renews every 0.1s", age)
	}
	if got := value(t, m, "gather_frontier_up", map[string]string{"crawl": "elsewhere"}); got != 0 {
		t.Errorf("an unreachable frontier is up %v, want 0", got)
	}
}
