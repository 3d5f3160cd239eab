package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/internal/gathertest"
)

// pyDocs is the Python documentation as Debian's python3-doc installs it
// (crawler/pydocs_test.go crawls it too).
const pyDocs = gathertest.PyDocs

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
	gathertest.NeedPyDocs(t)
	srv := gathertest.ServeDir(t, pyDocs)
	dir := t.TempDir()
	cfg := pyDocsJob(t, dir, srv.URL, "heading: {}")
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	before := srv.Requests()
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
	if n := srv.Requests() - before; n != 0 {
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
