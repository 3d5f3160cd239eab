package serve_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/serve"
	"github.com/gather-crawler/gather/storage"
)

// demoConfig is a crawl of the demo site at url with the shipped items,
// into a database in dir.
func demoConfig(t testing.TB, dir string, site *demo.Server, first, last, parallelism int, refresh string) *config.Config {
	t.Helper()
	return gathertest.LoadConfig(t, dir, fmt.Sprintf(`database: %s
crawl:
  name: demo
  start:
    url_template: %q
    ids_file: %s
  parallelism: %d
  retries: 0
  refresh_after: %s
%s`, filepath.Join(dir, "demo.db"), demo.PageURL(site.URL, "{id}"), gathertest.WriteIDs(t, first, last), parallelism, refresh, gathertest.ShippedItems(t)))
}

// newCrawler opens cfg's database (closed when the test ends) and makes a
// crawler on it, with opts if given.
func newCrawler(t testing.TB, cfg *config.Config, opts ...crawler.Options) *crawler.Crawler {
	t.Helper()
	store, err := storage.Open(context.Background(), cfg.Database, crawler.Tables(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var o crawler.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	c, err := crawler.New(cfg, store, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runCrawl runs one crawl of cfg to completion.
func runCrawl(t testing.TB, cfg *config.Config) crawler.Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sum, err := newCrawler(t, cfg).Run(ctx)
	if err != nil {
		t.Fatalf("crawl: %v", err)
	}
	return sum
}

// demoDB crawls 40 demo pages twice into a database in a temp dir: some
// pages fail (404, and a page of another kind), and the second run sees
// changed data on some pages, so every page of serve has something to show.
func demoDB(t testing.TB) string {
	t.Helper()
	var version atomic.Int64
	version.Store(1)
	site, err := demo.New(demo.Options{
		Version: func(id string) int {
			if strings.HasSuffix(id, "2") || strings.HasSuffix(id, "5") {
				return int(version.Load())
			}
			return 1
		},
		Fault: func(path string, _ int) demo.Fault {
			switch {
			case strings.Contains(path, "tt0000007"), strings.Contains(path, "tt0000017"), strings.Contains(path, "tt0000027"):
				return demo.FaultNotFound
			case strings.Contains(path, "tt0000009"):
				return demo.FaultWrongPage
			}
			return demo.FaultNone
		},
	}).Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	cfg := demoConfig(t, t.TempDir(), site, 1, 40, 8, "1ms")
	runCrawl(t, cfg)
	version.Store(2)
	runCrawl(t, cfg)
	return cfg.Database
}

// startServer serves the pages of db on 127.0.0.1 until the test ends.
func startServer(t testing.TB, db string, opts serve.Options) (*httptest.Server, *storage.Reader) {
	t.Helper()
	r, err := storage.OpenReader(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	opts.Reader = r
	h, err := serve.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		r.Close()
	})
	return srv, r
}
