package crawler_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/storage"
)

// startSite serves a demo site on addr ("" for 127.0.0.1:0) until the test
// ends.
func startSite(t testing.TB, addr string, opts demo.Options) *demo.Server {
	t.Helper()
	srv, err := demo.New(opts).Start(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// testConfig parses a config whose crawl section is given, with the
// shipped items, writing into a database in a temp dir.
func testConfig(t testing.TB, crawlYAML string) *config.Config {
	t.Helper()
	return testConfigWithItems(t, crawlYAML, gathertest.ShippedItems(t))
}

// crawl runs one crawl of cfg to completion, with a deadline so that a
// deadlock fails the test instead of hanging it. Retries back off for
// milliseconds, not seconds, unless opts say otherwise: what the tests
// check is which pages are retried and how often, not how long the
// default waits are (policy_internal_test.go checks those).
func crawl(t testing.TB, cfg *config.Config, opts crawler.Options) (crawler.Summary, error) {
	t.Helper()
	if opts.BackoffBase == 0 {
		opts.BackoffBase, opts.BackoffCap = 5*time.Millisecond, 40*time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := storage.Open(ctx, cfg.Database, crawler.Tables(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := crawler.New(cfg, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := c.Run(ctx)
	if ctx.Err() != nil {
		t.Fatalf("crawl did not finish within its deadline: %v", sum)
	}
	return sum, err
}

func queryInt(t testing.TB, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func queryString(t testing.TB, db *sql.DB, q string, args ...any) string {
	t.Helper()
	var s sql.NullString
	if err := db.QueryRow(q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s.String
}

func testConfigWithItems(t testing.TB, crawlYAML, items string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	return gathertest.LoadConfig(t, dir, "database: "+filepath.Join(dir, "test.db")+"\n"+crawlYAML+"\n"+items)
}
