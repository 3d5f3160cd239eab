package crawler_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// fidelitySite serves six article pages linking to each other, a
// stylesheet and an SVG they link to as well, and a page in windows-1251.
func fidelitySite(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	for i := 1; i <= 6; i++ {
		mux.HandleFunc(fmt.Sprintf("/docs/p%d.html", i), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<html><head><base href="/docs/"><link rel=stylesheet href="site.css"></head><body>
<h1>Page <code>%d</code>: with-<code>statement</code></h1>
<p class="count">Index</p>
<ul><li><a href="p%d.html">next</a></li><li><a href="site.css">css</a></li><li><a href="logo.svg">logo</a></li><li><a href="ru.html">ru</a></li></ul>
<table><tr><td>Writer</td><td>Kurt</td></tr><tr><td>Writer</td><td>Kurt</td></tr></table>
</body></html>`, i, i%6+1)
		})
	}
	mux.HandleFunc("/docs/site.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, "h1 { color: red }")
	})
	mux.HandleFunc("/docs/logo.svg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		fmt.Fprint(w, `<svg xmlns="http://www.w3.org/2000/svg"><title>logo</title></svg>`)
	})
	mux.HandleFunc("/docs/ru.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		b, _ := charmap.Windows1251.NewEncoder().Bytes([]byte(`<html><head><meta charset="windows-1251"></head><body><h1>Бойцовский клуб</h1><p class="count">12</p><a href="">self</a></body></html>`))
		w.Write(b)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// A follow crawl of pages nobody tuned gather for: text as the browser
// shows it, charsets decoded, links resolved against <base>, files that
// are not pages skipped, and every silent empty said out loud.
func TestCrawl_FidelityAndWarnings(t *testing.T) {
	srv := fidelitySite(t)
	cfg := testConfigWithItems(t, fmt.Sprintf(`crawl:
  name: fidelity
  start: {urls: ["%s/docs/p1.html"]}
  max_depth: 10
  follow: [{css: "a"}]
  retries: 0
`, srv.URL), `items:
  pages:
    fields:
      title: {css: h1}
      typo: {css: h9}
      count: {css: p.count, type: integer}
  credits:
    each: "tr"
    key: [_url, role, name]
    fields:
      role: {css: "td:nth-child(1)"}
      name: {css: "td:nth-child(2)"}
  links:
    each: "a"
    fields:
      href: {attr: href, type: url}
`)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 6 pages + ru.html ok; css and svg skipped.
	db := gathertest.OpenDB(t, cfg.Database)
	if sum.Counts.PagesOK != 7 || sum.Counts.PagesSkipped != 2 || sum.Counts.PagesFailed != 0 {
		t.Fatalf("summary: %v\nfailures: %s\npages: %s", sum, queryString(t, db, "SELECT group_concat(url || ' ' || error, '; ') FROM gather_failures"), queryString(t, db, "SELECT group_concat(url || ' ' || status || ' ' || coalesce(error,''), '; ') FROM gather_pages"))
	}
	if got := queryString(t, db, `SELECT title FROM pages WHERE _url LIKE '%/p1.html'`); got != "Page 1: with-statement" {
		t.Errorf("text: %q", got)
	}
	if got := queryString(t, db, `SELECT title FROM pages WHERE _url LIKE '%/ru.html'`); got != "Бойцовский клуб" {
		t.Errorf("windows-1251 page stored as %q", got)
	}
	rows, err := db.Query(`SELECT coalesce(title, '') FROM pages`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8 stored: %q", s)
		}
	}
	rows.Close()
	for _, path := range []string{"site.css", "logo.svg"} {
		why := queryString(t, db, `SELECT status || ': ' || error FROM gather_pages WHERE url = ?`, srv.URL+"/docs/"+path)
		if !strings.HasPrefix(why, "skipped: content type") {
			t.Errorf("%s: %q, want skipped for its content type", path, why)
		}
	}
	if n := queryInt(t, db, `SELECT count(*) FROM links WHERE href = ?`, srv.URL+"/docs/p1.html"); n != 1 {
		t.Errorf("%d links stored as the absolute URL of p1, want 1 (from p6, resolved against its <base>)", n)
	}
	// An empty href is the page itself: ru.html's own link, and the six
	// pages' links to it.
	if n := queryInt(t, db, `SELECT count(*) FROM links WHERE href = ?`, srv.URL+"/docs/ru.html"); n != 7 {
		t.Errorf("%d links to ru.html stored, want 7", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM gather_pages WHERE url LIKE '%/p1.html%'`); n != 1 {
		t.Errorf("p1 stored %d times", n)
	}
	want := []string{
		"items.pages.fields.typo: matched on 0 of 7 pages — check the selector",
		`items.pages.fields.count: 6 values did not convert to the field's type (e.g. "Index")`,
		"items.credits.key: 6 records shared their key ([_url role name]) with another record of the same page",
	}
	all := strings.Join(sum.Warnings, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("warnings:\n%s\nwant one containing %q", all, w)
		}
	}
	if !strings.Contains(sum.String(), "3 warnings") {
		t.Errorf("summary does not count the warnings: %s", sum)
	}
	if n := queryInt(t, db, `SELECT warnings FROM gather_runs WHERE id = ?`, sum.Run); n != 3 {
		t.Errorf("gather_runs.warnings = %d, want 3", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM credits`); n != 6 {
		t.Errorf("%d credits rows, want 6 (one per page)", n)
	}
}

// An ids file saved with a byte order mark crawls its first id, not
// "%EF%BB%BF" followed by it.
func TestCrawl_IDsFileWithBOM(t *testing.T) {
	site := startSite(t, "", demo.Options{})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(ids, []byte("\uFEFF"+demo.ID(1)+"\r\n"+demo.ID(2)+"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: bom
  start:
    url_template: %q
    ids_file: %s
`, demo.PageURL(site.URL, "{id}"), ids))
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil || sum.Counts.PagesOK != 2 {
		t.Fatalf("summary %v, err %v", sum, err)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	if n := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE url = ?", demo.PageURL(site.URL, demo.ID(1))); n != 1 {
		t.Errorf("the first id was not crawled as written: %s", queryString(t, db, "SELECT group_concat(url, ' ') FROM gather_pages"))
	}
}
