package scaleout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/crawler/scaleout"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/internal/redistest"
)

// A host's Retry-After holds for every worker of a shared crawl, as its
// slots do: once a 429 with Retry-After: 1 is sent, no worker sends the
// host another request before the second is over (bar those already on
// their way when it was sent).
func TestShared_RetryAfterHoldsAcrossWorkers(t *testing.T) {
	rs := redistest.Start(t)
	const latency = 5 * time.Millisecond
	throttled := map[string]bool{"/title/" + demo.ID(10) + "/": true, "/title/" + demo.ID(60) + "/": true, "/title/" + demo.ID(110) + "/": true}
	fault := func(path string, attempt int) demo.Fault {
		for p := range throttled {
			if attempt == 0 && strings.HasPrefix(path, p) {
				return demo.FaultTooManyRequests
			}
		}
		return demo.FaultNone
	}
	site, err := demo.New(demo.Options{Latency: latency, Track: true, Fault: fault, RetryAfter: "1"}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	const n = 150
	dir := t.TempDir()
	cfg := gathertest.LoadConfig(t, dir, sharedConfig(t, dir, rs.URL(), []*demo.Server{site}, n, 4))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := crawler.New(cfg, nil, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scaleout.Seed(ctx, open(t, rs.URL(), "seed", 10*time.Second), c, nil); err != nil {
		t.Fatal(err)
	}
	crawlShared(t, ctx, rs.URL(), cfg, 3, crawler.Options{})
	if _, err := demo.Verify(ctx, gathertest.OpenDB(t, cfg.Database), n, false); err != nil {
		t.Fatal(err)
	}
	log := site.Log()
	// The crossing window: a request already on the wire when the 429 was
	// sent may reach the handler just after it, later on a loaded machine
	// and under -race.
	const grace = 400 * time.Millisecond
	var paused, inside int
	for _, r := range log {
		if r.Fault != demo.FaultTooManyRequests {
			continue
		}
		paused++
		sent := r.At.Add(latency)
		for _, o := range log {
			if o.Path != "/robots.txt" && o.At.After(sent.Add(grace)) && o.At.Before(sent.Add(time.Second-5*time.Millisecond)) {
				inside++
				t.Errorf("%s requested %s after the 429 of %s, before its Retry-After: 1 elapsed", o.Path, o.At.Sub(sent), r.Path)
			}
		}
	}
	if paused != len(throttled) {
		t.Fatalf("%d pages answered 429, want %d", paused, len(throttled))
	}
	t.Logf("%d requests, %d answered 429, %d sent inside a Retry-After", len(log), paused, inside)
}
