package main

import (
	"strings"
	"testing"

	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// A process list added to a field applies in gather reextract as in a
// crawl and in try: no request, and the stored values are the processed
// ones.
func TestReextract_AppliesProcessSteps(t *testing.T) {
	site, err := demo.New(demo.Options{Track: true}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	dir := t.TempDir()
	cfg := demoJob(t, dir, site, 3, "title: {css: title}")
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	before := requests(site)
	cfg = demoJob(t, dir, site, 3, `title: {css: title, process: [upper, {split: " "}, first]}`)
	if code, out, errOut := runGather(t, "reextract", "-c", cfg); code != 0 {
		t.Fatalf("reextract: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := requests(site); got != before {
		t.Fatalf("reextract sent %d requests", got-before)
	}
	db := gathertest.OpenDB(t, strings.TrimSuffix(cfg, "job.yaml")+"out.db")
	for _, title := range gathertest.QueryStrings(t, db, "SELECT title FROM pages") {
		if title == "" || title != strings.ToUpper(title) || strings.Contains(title, " ") {
			t.Errorf("title %q: not the processed first word in upper case", title)
		}
	}
	// try shows the same value for one of the pages.
	u := gathertest.QueryString(t, db, "SELECT _url FROM pages ORDER BY _url LIMIT 1")
	want := gathertest.QueryString(t, db, "SELECT title FROM pages WHERE _url = ?", u)
	code, out, _ := runGather(t, "try", "-c", cfg, u)
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("try on %s: exit %d, want %q in\n%s", u, code, want, out)
	}
}
