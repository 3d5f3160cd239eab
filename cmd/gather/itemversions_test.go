package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// twoItemsJob crawls n pages of each of the demo's layouts, with an item
// for each (by url pattern); classicTitle is the classic item's title
// field, extra any more YAML under items.
func twoItemsJob(t *testing.T, dir string, site *demo.Server, n int, classicTitle, extra string) string {
	return twoItemsJobOn(t, dir, site, n, `^http://[^/]+/title/`, classicTitle, extra)
}

// twoItemsJobOn is twoItemsJob with the modern item's url pattern.
func twoItemsJobOn(t *testing.T, dir string, site *demo.Server, n int, modernURL, classicTitle, extra string) string {
	var urls strings.Builder
	for _, id := range demo.IDs(n) {
		fmt.Fprintf(&urls, "      - %q\n      - %q\n", demo.PageURL(site.URL, id), demo.ClassicURL(site.URL, id))
	}
	return writeFile(t, dir, "job.yaml", fmt.Sprintf(`database: out.db
crawl:
  name: two
  start:
    urls:
%s  parallelism: 4
items:
  modern:
    url: '%s'
    fields:
      title: {css: title}
  classic:
    url: '/classic/title/'
    fields:
      %s
%s`, urls.String(), modernURL, classicTitle, extra))
}

// A change of one item touches only the pages that item applies to (its
// url pattern): the other item's pages keep their rows and their run, and
// nothing is fetched. A change that alters no item's extraction (an item
// removed) touches none.
func TestCrawl_ItemChangeTouchesOnlyItsPages(t *testing.T) {
	site, err := demo.New(demo.Options{Track: true}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	const n = 6
	dir := t.TempDir()
	cfg := twoItemsJob(t, dir, site, n, "title: {css: title}", "  extra:\n    url: '/nowhere/'\n    fields: {x: {css: h1}}\n")
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	before := requests(site)

	cfg = twoItemsJob(t, dir, site, n, `title: {css: title, regex: '^(\S+)'}`, "  extra:\n    url: '/nowhere/'\n    fields: {x: {css: h1}}\n")
	code, out, errOut := runGather(t, "crawl", "-c", cfg)
	if code != 0 {
		t.Fatalf("crawl after the change: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := requests(site); got != before {
		t.Errorf("the second crawl sent %d requests, want none", got-before)
	}
	if !strings.Contains(out, fmt.Sprintf("%d re-extracted from the archive", n)) {
		t.Errorf("the summary does not say %d pages were re-extracted:\n%s", n, out)
	}
	db := gathertest.OpenDB(t, filepath.Join(dir, "out.db"))
	got := gathertest.QueryStrings(t, db, `SELECT url || ' ' || run || ' ' || fetched_by FROM gather_pages ORDER BY url`)
	for _, line := range got {
		classic := strings.Contains(line, "/classic/")
		if classic && !strings.HasSuffix(line, " 2 archive") || !classic && !strings.HasSuffix(line, " 1 http") {
			t.Errorf("page %s: want the classic pages re-extracted in run 2, the others left in run 1", line)
		}
	}
	if len(got) != 2*n {
		t.Fatalf("%d pages, want %d", len(got), 2*n)
	}
	if c := gathertest.QueryInt(t, db, `SELECT count(*) FROM classic WHERE title NOT LIKE '% %'`); c != n {
		t.Errorf("%d classic rows follow the new selector, want %d", c, n)
	}

	// An item removed: no page's rows change, none is touched.
	cfg = twoItemsJob(t, dir, site, n, `title: {css: title, regex: '^(\S+)'}`, "")
	code, out, errOut = runGather(t, "crawl", "-c", cfg)
	if code != 0 || strings.Contains(out, "re-extracted") {
		t.Fatalf("crawl after removing an item: exit %d\n%s\n%s", code, out, errOut)
	}
	if c := gathertest.QueryInt(t, db, `SELECT count(*) FROM gather_pages WHERE run = 3`); c != 0 {
		t.Errorf("%d pages touched by run 3, want none", c)
	}
	if got := requests(site); got != before {
		t.Errorf("%d requests after removing an item, want none", got-before)
	}

	// The modern item now applies to three of its six pages: the six it
	// applied to before are re-extracted (three lose their rows), the
	// classic pages are left alone.
	cfg = twoItemsJobOn(t, dir, site, n, `^http://[^/]+/title/tt000000[1-3]/`, `title: {css: title, regex: '^(\S+)'}`, "")
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 || !strings.Contains(out, fmt.Sprintf("%d re-extracted from the archive", n)) {
		t.Fatalf("crawl after narrowing an item's url: exit %d\n%s\n%s", code, out, errOut)
	}
	if c := gathertest.QueryInt(t, db, `SELECT count(*) FROM gather_pages WHERE run = 4 AND url NOT LIKE '%/classic/%'`); c != n {
		t.Errorf("%d modern pages re-extracted by run 4, want %d", c, n)
	}
	if c := gathertest.QueryInt(t, db, `SELECT count(*) FROM gather_pages WHERE run = 4 AND url LIKE '%/classic/%'`); c != 0 {
		t.Errorf("%d classic pages touched by run 4, want none", c)
	}
	if c := gathertest.QueryInt(t, db, `SELECT count(*) FROM modern`); c != 3 {
		t.Errorf("%d modern rows, want the 3 its new pattern matches", c)
	}
}
