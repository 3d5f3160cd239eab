package serve_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/serve"
	"github.com/gather-crawler/gather/storage"
)

// What a re-fetch changed is shown as a diff: the page view and the run's
// changes list give the fields that changed with their old and new values,
// not the raw detail.
func TestServe_ChangesAsDiff(t *testing.T) {
	// Version 4 of a movie renames a role of version 1: a modified row.
	var version atomic.Int64
	version.Store(1)
	site, err := demo.New(demo.Options{Version: func(string) int { return int(version.Load()) }}).Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	cfg := demoConfig(t, t.TempDir(), site, 1, 3, 2, "1ms")
	runCrawl(t, cfg)
	version.Store(4)
	runCrawl(t, cfg)
	dbPath := cfg.Database
	db := gathertest.OpenDB(t, dbPath)
	changed := gathertest.QueryString(t, db, "SELECT url FROM gather_changes WHERE modified > 0 ORDER BY url LIMIT 1")
	run := gathertest.QueryString(t, db, "SELECT run FROM gather_changes WHERE url = ? LIMIT 1", changed)
	detail := gathertest.QueryString(t, db, "SELECT detail FROM gather_changes WHERE url = ? AND modified > 0 LIMIT 1", changed)
	d, ok := storage.ParseChangeDetail(detail)
	if !ok || len(d.Diff) == 0 || len(d.Diff[0].Fields) == 0 {
		t.Fatalf("detail without a diff: %s", detail)
	}
	f := d.Diff[0].Fields[0]
	srv, _ := startServer(t, dbPath, serve.Options{})
	diffRe := regexp.MustCompile(`<b>` + regexp.QuoteMeta(f.Field) + `</b> <del>[^<]*</del> → <ins>[^<]*</ins>`)
	_, page := get(t, http.DefaultClient, srv.URL+"/page?"+url.Values{"url": {changed}}.Encode())
	if !diffRe.MatchString(page) {
		t.Errorf("the page view does not show %s's old and new value:\n%s", f.Field, section(page, `id="changes"`))
	}
	if strings.Contains(section(page, `id="changes"`), `&#34;modified&#34;`) {
		t.Errorf("the page view shows the raw detail")
	}
	_, runPage := get(t, http.DefaultClient, srv.URL+"/runs/"+run)
	if !strings.Contains(runPage, "Changes of this run") || !diffRe.MatchString(runPage) {
		t.Errorf("run %s's page does not list its changes as diffs:\n%s", run, section(runPage, `id="run-changes"`))
	}
}

func section(page, marker string) string {
	i := strings.Index(page, marker)
	if i < 0 {
		return "(no " + marker + ")"
	}
	return page[i:min(len(page), i+2000)]
}

// A run where every page failed shows no pages/s: a rate of failures
// reads as throughput.
func TestServe_AllFailedRunHasNoRate(t *testing.T) {
	dir := t.TempDir()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer site.Close()
	cfg := gathertest.LoadConfig(t, dir, "database: "+filepath.Join(dir, "f.db")+"\ncrawl:\n  name: down\n  retries: 0\n  robots_txt: false\n  start: {urls: [\""+site.URL+"/a\"]}\nitems:\n  pages:\n    fields:\n      t: h1\n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := newCrawler(t, cfg).Run(ctx); err == nil {
		t.Fatal("a run of failures did not fail")
	}
	srv, _ := startServer(t, cfg.Database, serve.Options{})
	_, page := get(t, http.DefaultClient, srv.URL+"/runs/1")
	if !strings.Contains(page, "<dt>pages/s</dt><dd>– (no page stored)</dd>") {
		t.Errorf("run page: %s", section(page, "pages/s"))
	}
}
