package crawler_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// silentSite serves a small documentation site: an index linking to
// /sql-*.html pages, each with a table and, on one, a row without a name.
func silentSite(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/index.html":
			fmt.Fprint(w, `<html><body><h1>Index</h1>
<a href="/sql-select.html">SELECT</a> <a href="/sql-insert.html">INSERT</a> <a href="/about.html">about</a></body></html>`)
		case "/sql-select.html", "/sql-insert.html":
			fmt.Fprintf(w, `<html><body><h1>%s</h1><table><tr><td class="n">a</td></tr><tr><td></td></tr></table></body></html>`, r.URL.Path)
		case "/about.html":
			fmt.Fprint(w, `<html><body><h1>About</h1></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Every way a config stores less than it says, without a page failing, is
// named at the end of the run with its key: a follow rule anchored to the
// path (links are matched as absolute URLs), an each that selects nothing,
// an item whose url pattern matches no page, records dropped for a missing
// required field. They count in gather_runs.warnings.
func TestCrawl_SilencesNamed(t *testing.T) {
	srv := silentSite(t)
	cfg := testConfigWithItems(t, fmt.Sprintf(`crawl:
  name: silent
  start: {urls: ["%s/index.html"]}
  max_depth: 3
  follow: [{css: "a[href]", match: '^/sql-.*'}, {css: "a.next"}]
`, srv.URL), `items:
  pages:
    fields:
      title: {css: h1}
      typo: {css: h9}
  rows:
    each: "table tr.row"
    fields:
      n: {css: td}
  details:
    url: '^/sql-'
    fields:
      title: {css: h1}
`)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.PagesOK != 1 {
		t.Fatalf("%d pages ok, want the start page alone: %v", sum.Counts.PagesOK, sum)
	}
	want := []string{
		`crawl.follow[0].match: "^/sql-.*" matched none of the 3 links its css selected on the 1 page it was tried on (e.g. ` + srv.URL + `/index.html), so nothing was followed; e.g. "` + srv.URL + `/sql-select.html" does not match`,
		`crawl.follow[1].css: "a.next" selected no link`,
		`items.rows.each.css: "table tr.row" selected nothing on any of the 1 page the item was read on (e.g. ` + srv.URL + `/index.html)`,
		`items.details.url: "^/sql-" matched none of the 1 page extracted (e.g. ` + srv.URL + `/index.html), so the item stored nothing`,
		// A selector typo is said on a run of one page too.
		`items.pages.fields.typo: matched on 0 of 1 page — check the selector`,
	}
	checkWarnings(t, sum, want)
	db := gathertest.OpenDB(t, cfg.Database)
	if n := queryInt(t, db, `SELECT warnings FROM gather_runs WHERE id = ?`, sum.Run); n != int64(len(sum.Warnings)) || n != 5 {
		t.Errorf("gather_runs.warnings = %d, want 5 (%q)", n, sum.Warnings)
	}

	// Fixed: the follow rule matches the absolute URL, and the each row
	// selector exists; one row per page has no n, and is dropped.
	cfg = testConfigWithItems(t, fmt.Sprintf(`crawl:
  name: silent
  start: {urls: ["%s/index.html"]}
  max_depth: 3
  follow: [{css: "a[href]", match: '/sql-'}]
`, srv.URL), `items:
  rows:
    url: '/sql-'
    each: "tr"
    fields:
      n: {css: td.n, required: true}
`)
	sum, err = crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.PagesOK != 3 || sum.Counts.Items != 2 {
		t.Fatalf("summary %v, want 3 pages and 2 rows", sum)
	}
	checkWarnings(t, sum, []string{"items.rows.fields.n: 2 records dropped for lacking this required field, on 2 pages (e.g. " + srv.URL + "/sql-"})
	if len(sum.Warnings) != 1 {
		t.Errorf("warnings %q, want the drops alone", sum.Warnings)
	}
	if !strings.Contains(sum.String(), "1 warning\n  warning: items.rows.fields.n: 2 records dropped") {
		t.Errorf("summary does not show the drops:\n%s", sum)
	}
}

// A field that matches on none of the pages an item's url pattern picks
// says the pattern may be why, not only the selector.
func TestCrawl_EmptyFieldBlamesURLPattern(t *testing.T) {
	srv := silentSite(t)
	cfg := testConfigWithItems(t, fmt.Sprintf(`crawl:
  name: pattern
  start: {urls: ["%[1]s/index.html", "%[1]s/sql-select.html", "%[1]s/sql-insert.html", "%[1]s/about.html", "%[1]s/sql-select.html?a", "%[1]s/sql-select.html?b"]}
`, srv.URL), `items:
  details:
    url: 'html'
    fields:
      syntax: {css: pre.synopsis}
`)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkWarnings(t, sum, []string{`items.details.fields.syntax: matched on 0 of 6 pages — check the selector, and that items.details.url ("html") picks the pages that have it (e.g. ` + srv.URL})
}

func checkWarnings(t *testing.T, sum crawler.Summary, want []string) {
	t.Helper()
	all := strings.Join(sum.Warnings, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("warnings:\n%s\nwant one containing %q", all, w)
		}
	}
}
