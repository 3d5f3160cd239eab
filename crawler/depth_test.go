package crawler_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// max_depth: unlimited follows a chain of links to its end; it needs
// allowed_domains, and max_depth 0 says how to write it.
func TestCrawl_UnlimitedDepth(t *testing.T) {
	const n = 40
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<html><body><h1>%d</h1>", i)
		if i < n {
			fmt.Fprintf(w, `<a href="/p/%d">next</a>`, i+1)
		}
		fmt.Fprint(w, "</body></html>")
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	crawlYAML := fmt.Sprintf(`crawl:
  name: chain
  start: {urls: ["%s/p/1"]}
  max_depth: unlimited
  follow: [{css: a}]
%%s`, srv.URL)
	items := "items:\n  pages:\n    fields:\n      n: {css: h1, type: integer}\n"
	dir := t.TempDir()
	_, err := config.Parse(dir+"/c.yaml", []byte("database: x.db\n"+fmt.Sprintf(crawlYAML, "")+items), func(string) (string, bool) { return "", false })
	if err == nil || !strings.Contains(err.Error(), "crawl.allowed_domains: max_depth: unlimited follows links as far as they go") {
		t.Fatalf("unlimited depth without allowed_domains: %v", err)
	}
	_, err = config.Parse(dir+"/c.yaml", []byte("database: x.db\n"+strings.Replace(fmt.Sprintf(crawlYAML, ""), "unlimited", "0", 1)+items), func(string) (string, bool) { return "", false })
	if err == nil || !strings.Contains(err.Error(), "for no limit write max_depth: unlimited") {
		t.Fatalf("max_depth 0: %v", err)
	}
	cfg := testConfigWithItems(t, fmt.Sprintf(crawlYAML, "  allowed_domains: ["+u.Hostname()+"]\n"), items)
	if cfg.Crawl.MaxDepth != config.MaxDepthUnlimited {
		t.Fatalf("max_depth read as %d", cfg.Crawl.MaxDepth)
	}
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	if got := queryInt(t, db, "SELECT max(n) FROM pages"); sum.Counts.PagesOK != n || got != n {
		t.Errorf("%d pages, deepest %d; want all %d: %v", sum.Counts.PagesOK, got, n, sum)
	}
}
