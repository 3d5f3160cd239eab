package crawler_test

import (
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/internal/browsertest"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/storage"
)

// pyDocs is the Python documentation as Debian's python3-doc installs it.
const pyDocs = gathertest.PyDocs

// needPyDocs skips the test in -short mode, and when the corpus is not
// installed unless CI says it must be there.
func needPyDocs(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("crawls 530 pages; skipped in -short mode")
	}
	gathertest.NeedPyDocs(t)
}

// A crawl of the whole Python documentation, following links within the
// site from index.html: every page is fetched and stored once under its
// absolute URL, stylesheets, images and reST sources are skipped for their
// type, and relative links become absolute where the config asks.
func TestCrawl_PythonDocs(t *testing.T) {
	needPyDocs(t)
	srv := gathertest.ServeDir(t, pyDocs)
	requests := srv.Counts
	cfg := testConfigWithItems(t, `crawl:
  name: pydocs
  start: {urls: ["`+srv.URL+`/index.html"]}
  max_depth: 50
  follow: [{css: "a[href]"}]
  parallelism: 8
  retries: 0
  # genindex-all.html is 1.7 MB of links: under the race detector, on two
  # cores busy with other packages' tests, its extraction once took over
  # the default 10s. What this test checks is what is stored, not speed.
  extract_timeout: 2m
`, `items:
  pages:
    fields:
      title: {css: h1}
  sections:
    each: "h2"
    fields:
      heading: {}
      anchor: {css: a.headerlink, attr: href, type: url}
`)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil || sum.Status != storage.RunFinished {
		t.Fatalf("summary %v, err %v", sum, err)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	var htmlFiles int
	root, _ := filepath.EvalSymlinks(pyDocs)
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".html") && !strings.Contains(path, "/_") {
			htmlFiles++
		}
		return nil
	})
	ok := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE status = 'ok'")
	t.Logf("%v; %d HTML files in the corpus, %d pages ok", sum, htmlFiles, ok)
	// Pages no link reaches are not crawled; nearly all are reached.
	if ok < int64(htmlFiles)*95/100 || ok > int64(htmlFiles)+5 {
		t.Errorf("%d pages stored, want about the corpus' %d HTML files", ok, htmlFiles)
	}
	for path, n := range requests() {
		if n > 1 && path != "/robots.txt" {
			t.Errorf("%s requested %d times, want once", path, n)
		}
	}
	if n := queryInt(t, db, "SELECT count(*) FROM pages"); n != ok {
		t.Errorf("%d rows in pages for %d ok pages", n, ok)
	}
	// Debian's package leaves out the changelog the docs link to: a 404,
	// recorded as such. The example scripts are skipped for their type.
	if got := queryString(t, db, "SELECT group_concat(url || ' ' || error, '; ') FROM gather_failures"); got != srv.URL+"/whatsnew/changelog.html HTTP 404 Not Found" {
		t.Errorf("failures: %s", got)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE status = 'skipped' AND error LIKE 'content type text/x-python is not HTML%'"); n == 0 {
		t.Error("the linked example scripts (.py) were not skipped for their type")
	}
	if n := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE url LIKE '%#%'"); n != 0 {
		t.Errorf("%d pages stored with a fragment in their URL", n)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM sections WHERE anchor NOT LIKE ?", srv.URL+"/%#%"); n != 0 {
		t.Errorf("%d section anchors not absolute: %s", n, queryString(t, db, "SELECT anchor FROM sections WHERE anchor NOT LIKE ? LIMIT 1", srv.URL+"/%#%"))
	}
	checkAgainstBrowser(t, db, srv.URL)
	got := queryString(t, db, "SELECT heading FROM sections WHERE _url = ? AND anchor LIKE '%#the-with-statement'", srv.URL+"/reference/compound_stmts.html")
	// As a browser shows it: the ¶ link is inline, no space before it
	// (Chromium's innerText of this h2 is the same).
	if got != "8.5. The with statement¶" {
		t.Errorf("compound_stmts.html's with-statement heading: %q", got)
	}
}

// A sample of the pages the Python docs crawl stored, field by field,
// against what Chromium shows of the same pages: every 50th page's title
// (its h1) and section headings (its h2s, in order).
func checkAgainstBrowser(t *testing.T, db *sql.DB, base string) {
	if raceEnabled {
		t.Log("the browser comparison is skipped under the race detector: it checks values, not concurrency")
		return
	}
	if testing.Short() {
		t.Log("the browser comparison starts Chromium: go test without -short runs it")
		return
	}
	exe, err := browsertest.Chromium()
	if err != nil {
		browsertest.SkipWithout(t, "no Chromium on PATH (%v)", err)
	}
	// Chromium sees the HTML alone, as gather reads it: no style sheets,
	// no scripts that could change the page.
	htmlOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean("/" + r.URL.Path)
		if !strings.HasSuffix(name, ".html") {
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join(pyDocs, filepath.FromSlash(name)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	}))
	defer htmlOnly.Close()
	b := browsertest.Start(t, exe)
	rows, err := db.Query(`SELECT _url, coalesce(title, '') FROM pages WHERE _url LIKE '%.html' ORDER BY _url`)
	if err != nil {
		t.Fatal(err)
	}
	type page struct{ url, title string }
	var sample []page
	for i := 0; rows.Next(); i++ {
		var p page
		if err := rows.Scan(&p.url, &p.title); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			sample = append(sample, p)
		}
	}
	rows.Close()
	compared := 0
	for _, p := range sample {
		rel := strings.TrimPrefix(p.url, base)
		h1, err := b.Texts(htmlOnly.URL+rel, "h1")
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if len(h1) > 0 {
			want = collapse(h1[0].Text)
		}
		if p.title != want {
			t.Errorf("%s: title %q, Chromium shows %q", rel, p.title, want)
		}
		h2, err := b.Texts(htmlOnly.URL+rel, "h2")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		hs, err := db.Query(`SELECT coalesce(heading, '') FROM sections WHERE _url = ? ORDER BY _index`, p.url)
		if err != nil {
			t.Fatal(err)
		}
		for hs.Next() {
			var h string
			hs.Scan(&h)
			got = append(got, h)
		}
		hs.Close()
		if len(got) != len(h2) {
			t.Errorf("%s: %d sections stored, Chromium shows %d h2", rel, len(got), len(h2))
			continue
		}
		for i := range h2 {
			if w := collapse(h2[i].Text); got[i] != w {
				t.Errorf("%s: section %d %q, Chromium shows %q", rel, i+1, got[i], w)
			}
		}
		compared += 1 + len(h2)
	}
	t.Logf("%d fields of %d stored pages equal what Chromium shows", compared, len(sample))
	if len(sample) < 10 {
		t.Errorf("only %d pages sampled", len(sample))
	}
}

// collapse is white space as gather stores it: runs of it (no-break
// spaces too) one space, none at either end.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
