package main

import (
	"syscall"
	"testing"
	"time"
)

// gather status --listen prints the crawl, then serves it as Prometheus
// metrics, read from Redis at each scrape, until SIGTERM (exit 0).
func TestScaleOut_StatusServesMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	s := newScaleOut(t, 30, 2, 0)
	s.seed()
	cmd, out := s.start("status", "--listen", "127.0.0.1:0")
	defer cmd.Process.Kill()
	var addr string
	waitFor(t, "the metrics' address", 10*time.Second, func() bool {
		if m := listenRe.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
		return addr != ""
	})
	families := scrapeMetrics(t, addr)
	for name, want := range map[string]float64{"gather_frontier_up": 1, "gather_frontier_seeded": 1,
		"gather_frontier_queued": float64(s.n), "gather_frontier_leased": 0, "gather_frontier_seen": float64(s.n)} {
		f := families[name]
		if f == nil || len(f.GetMetric()) != 1 {
			t.Errorf("%s: %v, want one series", name, f)
			continue
		}
		m := f.GetMetric()[0]
		if l := m.GetLabel(); len(l) != 1 || l[0].GetName() != "crawl" || l[0].GetValue() != "scaleout" {
			t.Errorf("%s has labels %v, want crawl=scaleout", name, l)
		}
		if got := m.GetGauge().GetValue(); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, "status --listen", cmd, out)
}
