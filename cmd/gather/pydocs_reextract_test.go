package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gather-crawler/gather/internal/browsertest"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// pyDocs is the Python documentation as Debian's python3-doc installs it:
// 530 Sphinx pages nobody here wrote (crawler/pydocs_test.go crawls it
// too).
const pyDocs = "/usr/share/doc/python3-doc/html"

// staticServer serves dir as a plain static web server does, counting
// every request: its log.
func staticServer(t *testing.T, dir string) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		name := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") {
			name += "/index.html"
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, name, st.ModTime(), f)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func pyDocsJob(t *testing.T, dir, base, heading string) string {
	return writeFile(t, dir, "job.yaml", `database: out.db
crawl:
  name: pydocs
  start: {urls: ["`+base+`/index.html"]}
  max_depth: 50
  follow: [{css: "a[href]"}]
  parallelism: 8
  retries: 0
  extract_timeout: 2m
items:
  pages:
    fields:
      title: {css: h1}
  sections:
    each: "h2"
    fields:
      `+heading+`
      anchor: {css: a.headerlink, attr: href, type: url}
`)
}

// The check on a real site: after a selector change, reextract
// over the Python documentation sends no request at all (the server's
// count) and stores exactly what a fresh crawl with the new config stores.
func TestReextract_PythonDocsMatchesAFreshCrawl(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls 530 pages twice; skipped in -short mode")
	}
	if raceEnabled {
		t.Skip("checks values over a corpus, not concurrency: skipped under the race detector (CI runs it without)")
	}
	if _, err := os.Stat(filepath.Join(pyDocs, "index.html")); err != nil {
		if os.Getenv(browsertest.RequireEnv) != "" {
			t.Fatalf("the Python documentation corpus is missing (apt-get install python3-doc): %v", err)
		}
		t.Skip("python3-doc is not installed (apt-get install python3-doc)")
	}
	srv, served := staticServer(t, pyDocs)
	dir := t.TempDir()
	cfg := pyDocsJob(t, dir, srv.URL, "heading: {}")
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	before := served.Load()
	pilcrows := gathertest.QueryInt(t, gathertest.OpenDB(t, filepath.Join(dir, "out.db")), `SELECT count(*) FROM sections WHERE heading LIKE '%¶'`)
	if pilcrows < 1000 {
		t.Fatalf("%d headings end in a pilcrow before the change: the change would change nothing", pilcrows)
	}

	// The heading loses Sphinx's pilcrow link text: its own text only.
	const changed = `heading: {regex: '^(.*?)\s*¶?$'}`
	cfg = pyDocsJob(t, dir, srv.URL, changed)
	code, out, errOut := runGather(t, "reextract", "-c", cfg)
	if code != 0 {
		t.Fatalf("reextract: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := served.Load() - before; n != 0 {
		t.Fatalf("reextract sent %d requests to the server, want none", n)
	}
	db := gathertest.OpenDB(t, filepath.Join(dir, "out.db"))
	const pagesQ = `SELECT _url, coalesce(title, '') FROM pages ORDER BY _url`
	const sectionsQ = `SELECT _url, _index, coalesce(heading, ''), coalesce(anchor, '') FROM sections ORDER BY _url, _index`
	gotPages, gotSections := tableRows(t, db, pagesQ), tableRows(t, db, sectionsQ)

	fresh := t.TempDir()
	cfg2 := pyDocsJob(t, fresh, srv.URL, changed)
	if code, out, errOut := runGather(t, "crawl", "-c", cfg2); code != 0 {
		t.Fatalf("fresh crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	fdb := gathertest.OpenDB(t, filepath.Join(fresh, "out.db"))
	wantPages, wantSections := tableRows(t, fdb, pagesQ), tableRows(t, fdb, sectionsQ)
	if len(wantPages) < 500 || len(wantSections) < 1000 {
		t.Fatalf("the fresh crawl stored %d pages, %d sections: not the whole corpus", len(wantPages), len(wantSections))
	}
	same := func(what string, got, want []string) {
		if strings.Join(got, "\n") == strings.Join(want, "\n") {
			return
		}
		for i := 0; i < len(got) && i < len(want); i++ {
			if got[i] != want[i] {
				t.Errorf("%s: row %d is %q after reextract, %q from a fresh crawl", what, i, got[i], want[i])
				break
			}
		}
		t.Errorf("%s: %d rows after reextract, %d from a fresh crawl", what, len(got), len(want))
	}
	same("pages", gotPages, wantPages)
	same("sections", gotSections, wantSections)
	changedRows := gathertest.QueryInt(t, db, `SELECT count(*) FROM sections WHERE heading NOT LIKE '%¶'`)
	if changedRows != int64(len(gotSections)) {
		t.Errorf("%d of %d headings follow the new selector", changedRows, len(gotSections))
	}
	if n := gathertest.QueryInt(t, db, `SELECT count(*) FROM gather_changes WHERE run = 2`); n < pilcrows/10 {
		t.Errorf("%d changes recorded by reextract", n)
	}
	t.Logf("reextract: %d pages, %d sections (%d headings changed), equal to a fresh crawl's; 0 requests (the crawl sent %d)",
		len(gotPages), len(gotSections), pilcrows, before)
}
