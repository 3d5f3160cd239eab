package serve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/serve"
)

func progressOf(t *testing.T, srv string) serve.Progress {
	t.Helper()
	resp, err := http.Get(srv + "/api/progress")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p serve.Progress
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// A crawl in another process (a crawler this server is not told of)
// records snapshots of its progress: the runs page shows its queued
// pages, ETA and pages in flight from them, and nothing once it ended.
// Without snapshots, the committed pages are all it can show.
func TestProgress_FromTheCrawlsSnapshots(t *testing.T) {
	site, err := demo.New(demo.Options{Latency: 100 * time.Millisecond}).Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	for _, every := range []time.Duration{50 * time.Millisecond, -1} {
		cfg := demoConfig(t, t.TempDir(), site, 1, 40, 2, "0s")
		c := newCrawler(t, cfg, crawler.Options{ProgressEvery: every})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var wg sync.WaitGroup
		var done sync.Once
		ended := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer done.Do(func() { close(ended) })
			if _, err := c.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
		srv, _ := startServer(t, cfg.Database, serve.Options{})
		var seen serve.RunProgress
	poll:
		for {
			select {
			case <-ended:
				break poll
			case <-time.After(20 * time.Millisecond):
			}
			p := progressOf(t, srv.URL)
			if len(p.Runs) != 1 {
				continue
			}
			r := p.Runs[0]
			if every < 0 && (r.Source != "database" || r.Queued != -1) {
				t.Fatalf("without snapshots: %+v", r)
			}
			if r.Source == "snapshot" && r.Done > 0 && r.ETA != "" {
				seen = r
				break
			}
			if every < 0 && r.OK > 0 {
				seen = r
				break
			}
		}
		wg.Wait()
		cancel()
		if every > 0 {
			if seen.Source != "snapshot" || seen.Queued < 0 || seen.Queued > 40 || seen.InFlight < 0 || seen.Rate <= 0 {
				t.Errorf("progress from the crawl's snapshot: %+v", seen)
			}
		} else if seen.Source != "database" {
			t.Errorf("progress from the committed pages: %+v", seen)
		}
		if p := progressOf(t, srv.URL); len(p.Runs) != 0 {
			t.Errorf("the ended run still shows progress: %+v", p.Runs)
		}
		if n := gathertest.QueryInt(t, gathertest.OpenDB(t, cfg.Database), "SELECT count(*) FROM gather_progress"); n != 0 {
			t.Errorf("%d snapshots left after the run", n)
		}
	}
}
