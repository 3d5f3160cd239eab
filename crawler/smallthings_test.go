package crawler_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// A run whose every page failed reports no pages/s: a rate of failures
// reads as throughput.
func TestSummary_AllFailedHasNoRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg := testConfigWithItems(t, fmt.Sprintf("crawl:\n  name: down\n  retries: 0\n  robots_txt: false\n  start: {urls: [\"%[1]s/a\", \"%[1]s/b\"]}\n", srv.URL),
		"items:\n  pages:\n    fields:\n      t: h1\n")
	sum, err := crawl(t, cfg, crawler.Options{})
	if err == nil || sum.Counts.PagesFailed != 2 {
		t.Fatalf("summary %v, err %v", sum, err)
	}
	if s := sum.String(); strings.Contains(s, "pages/s") {
		t.Errorf("a run where every page failed reports a rate: %s", s)
	}
}

// With --limit, what the progress counts as still to do stops at the
// limit: the ETA is this run's, not that of every start page.
func TestStats_TotalHonoursLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<h1>x</h1>")
	}))
	defer srv.Close()
	var urls []string
	for i := range 10 {
		urls = append(urls, fmt.Sprintf("%q", fmt.Sprintf("%s/p%d", srv.URL, i)))
	}
	cfg := testConfigWithItems(t, fmt.Sprintf("crawl:\n  name: lim\n  robots_txt: false\n  start: {urls: [%s]}\n", strings.Join(urls, ", ")),
		"items:\n  pages:\n    fields:\n      t: h1\n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := storage.Open(ctx, cfg.Database, crawler.Tables(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := crawler.New(cfg, store, crawler.Options{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Total != 3 || st.Queued() != 0 {
		t.Errorf("after a run limited to 3 pages: total %d, queued %d; want 3 and 0", st.Total, st.Queued())
	}
}
