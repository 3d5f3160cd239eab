package scaleout_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/crawler/scaleout"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/browsertest"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/internal/redistest"
)

// Pages loaded in a browser hold the per-host limit across workers as
// HTTP pages do: two workers, each with its own Chromium and two tabs, at
// parallelism 1, never have two of the host's pages loading at once
// (counted by the site, from a page's shell to the end of its data).
func TestShared_BrowserPagesHoldTheHostLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := browsertest.Chromium(); err != nil {
		browsertest.SkipWithout(t, "no Chromium: %v", err)
	}
	rs := redistest.Start(t)
	site, err := demo.New(demo.Options{Latency: 100 * time.Millisecond}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	const n = 8
	ids := demo.IDs(n)
	var urls strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&urls, "      - %q\n", demo.SpaURL(site.URL, id))
	}
	dir := t.TempDir()
	cfg := gathertest.LoadConfig(t, dir, fmt.Sprintf(`database: out.db
frontier: %s
crawl:
  name: shared
  start:
    urls:
%s  parallelism: 1
  timeout: 20s
  fetch: browser
  browser:
    tabs: 2
    wait_for: "script#__NEXT_DATA__"
%s`, rs.URL(), urls.String(), gathertest.ShippedItems(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := crawler.New(cfg, nil, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := scaleout.Seed(ctx, open(t, rs.URL(), "seed", 10*time.Second), c, nil); err != nil || sum.Added != n {
		t.Fatalf("seed: %+v %v", sum, err)
	}
	crawlShared(t, ctx, rs.URL(), cfg, 2, crawler.Options{BrowserFlags: map[string]any{"host-resolver-rules": "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"}})
	if _, err := demo.VerifyIDs(ctx, gathertest.OpenDB(t, cfg.Database), ids, false, nil); err != nil {
		t.Fatal(err)
	}
	if peak := site.SpaPeak(); peak != 1 {
		t.Errorf("the site saw %d pages loading at once, want 1 (parallelism 1 across both workers)", peak)
	}
}
