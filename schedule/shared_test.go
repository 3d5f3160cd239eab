package schedule

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/crawler/scaleout"
	"github.com/gather-crawler/gather/frontier"
	"github.com/gather-crawler/gather/internal/redistest"
	"github.com/gather-crawler/gather/storage"
)

// A job whose config has a frontier runs on its cron as a shared crawl: the
// scheduler seeds each run and stores it, a worker waiting between runs
// fetches the pages, and each run is in gather_runs and the metrics; the
// second run re-fetches the pages refresh_after made stale.
func TestScheduler_SharedCrawlRunsOnItsCron(t *testing.T) {
	rs := redistest.Start(t)
	srv := newSite(t)
	cfg := jobConfig(t, srv, "shared", `  cron: "0 * * * *"`)
	// The frontier is what makes it shared (in a file, the frontier key or
	// GATHER_FRONTIER).
	cfg.Frontier = rs.URL()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock(dec1)
	s, m := newScheduler(t, clock, Options{Shared: redisRunner}, cfg)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	wg.Go(func() {
		c, err := crawler.New(cfg, nil, crawler.Options{Now: clock.Now})
		if err != nil {
			t.Error(err)
			return
		}
		fr, err := frontier.Open(cfg.Frontier, frontier.Options{Job: "shared", Consumer: "w"})
		if err != nil {
			t.Error(err)
			return
		}
		defer fr.Close()
		c.Work(ctx, fr, crawler.WorkOptions{Wait: true})
	})
	start(t, s)
	clock.blockedUntil(t, 1)
	clock.advance(time.Minute)
	eventually(t, "the 03:00 run", func() bool { return runs(m, "shared", storage.RunFinished) == 1 })
	if n := srv.count(); n != 3 {
		t.Fatalf("%d requests in the first run, want the job's 3 pages", n)
	}
	clock.blockedUntil(t, 1)
	clock.advance(time.Hour)
	eventually(t, "the 04:00 run", func() bool { return runs(m, "shared", storage.RunFinished) == 2 })
	if n := srv.count(); n != 6 {
		t.Fatalf("%d requests after the second run, want 6: its 3 pages were stale", n)
	}
	if got := readDB(t, cfg, "SELECT started_at || ' ' || status FROM gather_runs ORDER BY id"); len(got) != 2 ||
		got[0] != "2026-12-01T03:00:00.000Z finished" || got[1] != "2026-12-01T04:00:00.000Z finished" {
		t.Errorf("gather_runs: %v, want the runs of 03:00 and 04:00, finished", got)
	}
}

// redisRunner runs a shared run through the Redis frontier, as gather's
// command wires the scheduler.
func redisRunner(ctx context.Context, c *crawler.Crawler, cfg *config.Config, store *storage.Store, lease storage.LeaseOptions, now func() time.Time, log *slog.Logger) (crawler.Summary, error) {
	fr, err := frontier.Open(cfg.Frontier, frontier.Options{Job: cfg.Crawl.Name, Consumer: "schedule", Logger: log})
	if err != nil {
		return crawler.Summary{}, err
	}
	defer fr.Close()
	sum, err := scaleout.Run(ctx, fr, c, store, scaleout.SinkOptions{ItemsHash: cfg.ItemsHash(), Lease: lease, Now: now, Logger: log})
	return crawler.Summary{Run: sum.Run, Status: sum.Status, Counts: sum.Counts, Elapsed: sum.Elapsed, Err: err, Database: store.Path()}, err
}

// A job with a frontier needs a runner for it: without one, New refuses
// the job by its key rather than failing at its first due time.
func TestScheduler_SharedJobNeedsARunner(t *testing.T) {
	srv := newSite(t)
	cfg := jobConfig(t, srv, "shared", `  cron: "0 * * * *"`)
	cfg.Frontier = "redis://127.0.0.1:1"
	_, err := New([]*config.Config{cfg}, Options{Clock: newFakeClock(dec1)})
	if err == nil || !strings.Contains(err.Error(), "frontier") {
		t.Fatalf("New = %v, want an error naming the frontier", err)
	}
}
