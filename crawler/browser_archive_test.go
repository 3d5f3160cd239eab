package crawler_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/crawler/archive"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/storage"
)

// Pages fetched in a browser are archived: the document as Chromium
// received it (the SPA's shell, without its data) in a response record,
// the DOM it rendered in a resource record beside it, both indexed; and a
// re-extraction reads the DOM, with no browser and no request, and stores
// the rows the crawl stored.
func TestCrawl_BrowserPagesAreArchivedAndReextracted(t *testing.T) {
	needChromium(t)
	site := startSite(t, "", demo.Options{Track: true})
	cfg, ids := idTemplateConfig(t, demo.SpaURL(site.URL, "{id}"), "browser", 4, `  browser:
    wait_for: "script#__NEXT_DATA__"
`)
	sum, err := crawl(t, cfg, browserOpts())
	if err != nil || sum.Counts.PagesOK != 4 {
		t.Fatalf("%v\n%v", err, sum)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	if n := queryInt(t, db, `SELECT count(*) FROM gather_archive WHERE rendered_length > 0 AND length > 0`); n != 4 {
		t.Fatalf("%d browser pages indexed with their response and rendered DOM, want 4", n)
	}

	// In the WARC: each page's response is the document as sent (the
	// shell: its data comes later, from a script), its DOM beside it.
	responses, doms := 0, 0
	for e, err := range archive.ScanAll(cfg.ArchiveDir()) {
		if err != nil {
			t.Fatal(err)
		}
		r := e.Record
		switch {
		case r.Type == "response" && strings.Contains(r.URL, "/spa/title/"):
			responses++
			if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Type"), "text/html") || strings.Contains(string(r.Body), `id="__NEXT_DATA__"`) {
				t.Errorf("the response of %s: status %d, type %q, %d bytes holding the rendered data", r.URL, r.StatusCode, r.Header.Get("Content-Type"), len(r.Body))
			}
		case r.Type == "resource" && strings.HasPrefix(r.URL, archive.RenderedURIPrefix):
			doms++
			if !strings.Contains(string(r.Body), `__NEXT_DATA__`) {
				t.Errorf("the rendered DOM of %s lacks what the script added", r.URL)
			}
		}
	}
	if responses != 4 || doms != 4 {
		t.Errorf("%d responses and %d rendered DOMs of the pages archived, want 4 each", responses, doms)
	}

	// The rows go; a re-extraction brings them back from the DOMs, with no
	// request (the shell alone yields none: http mode fails these pages).
	rw, err := sql.Open("sqlite3", cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range cfg.ItemOrder {
		if _, err := rw.Exec(`DELETE FROM "` + item + `"`); err != nil {
			t.Fatal(err)
		}
	}
	rw.Close()
	before := 0
	for _, n := range site.Counts() {
		before += n
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := storage.Open(ctx, cfg.Database, crawler.Tables(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := crawler.New(cfg, store, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rsum, err := c.Reextract(ctx, crawler.ReextractOptions{})
	if err != nil || rsum.Counts.PagesOK != 4 || rsum.Counts.BrowserPages != 0 {
		t.Fatalf("reextract: %v\n%v", err, rsum)
	}
	after := 0
	for _, n := range site.Counts() {
		after += n
	}
	if after != before {
		t.Errorf("reextract sent %d requests", after-before)
	}
	if _, err := demo.VerifyIDs(ctx, db, ids, false, nil); err != nil {
		t.Fatalf("the rows re-extracted from the rendered DOMs: %v", err)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE fetched_by = 'archive'"); n != 4 {
		t.Errorf("%d pages fetched_by archive, want 4", n)
	}
}
