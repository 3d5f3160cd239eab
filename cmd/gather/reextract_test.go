package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// requests is how many requests the site has served in all.
func requests(site *demo.Server) int {
	n := 0
	for _, c := range site.Counts() {
		n += c
	}
	return n
}

func demoJob(t *testing.T, dir string, site *demo.Server, ids int, titleField string) string {
	var urls strings.Builder
	for _, id := range demo.IDs(ids) {
		fmt.Fprintf(&urls, "      - %q\n", demo.PageURL(site.URL, id))
	}
	return writeFile(t, dir, "job.yaml", fmt.Sprintf(`database: out.db
crawl:
  name: loop
  start:
    urls:
%s  parallelism: 4
items:
  pages:
    fields:
      %s
      heading: {css: h1}
`, urls.String(), titleField))
}

// The config author's loop: crawl once, change a selector, reextract: no
// request reaches the site, and the database holds exactly what a fresh
// crawl with the new config stores.
func TestReextract_SelectorChangeSendsNoRequest(t *testing.T) {
	site, err := demo.New(demo.Options{Track: true}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	const n = 25
	dir := t.TempDir()
	cfg := demoJob(t, dir, site, n, "title: {css: title}")
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.warc")); err != nil {
		t.Fatalf("no archive beside the database: %v", err)
	}
	before := requests(site)

	// The selector changes: the title's first word only.
	cfg = demoJob(t, dir, site, n, `title: {css: title, regex: '^(\S+)'}`)
	code, out, errOut := runGather(t, "reextract", "-c", cfg)
	if code != 0 {
		t.Fatalf("reextract: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, fmt.Sprintf("run 2 finished: %d ok", n)) {
		t.Errorf("reextract said:\n%s", out)
	}
	if got := requests(site); got != before {
		t.Fatalf("reextract sent %d requests to the site, want none", got-before)
	}
	db := gathertest.OpenDB(t, filepath.Join(dir, "out.db"))
	var fetchedBy string
	var pages int
	if err := db.QueryRow(`SELECT count(*), min(fetched_by) FROM gather_pages WHERE run = 2`).Scan(&pages, &fetchedBy); err != nil || pages != n || fetchedBy != "archive" {
		t.Fatalf("run 2 holds %d pages fetched_by %q (%v), want %d from the archive", pages, fetchedBy, err, n)
	}
	got := tableRows(t, db, "SELECT _url, title, heading FROM pages ORDER BY _url")

	// A fresh crawl with the new config, into another database.
	fresh := t.TempDir()
	cfg2 := demoJob(t, fresh, site, n, `title: {css: title, regex: '^(\S+)'}`)
	if code, out, errOut := runGather(t, "crawl", "-c", cfg2); code != 0 {
		t.Fatalf("fresh crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	want := tableRows(t, gathertest.OpenDB(t, filepath.Join(fresh, "out.db")), "SELECT _url, title, heading FROM pages ORDER BY _url")
	if len(got) != n || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("reextracted rows differ from a fresh crawl's:\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if title := strings.Split(got[0], " | ")[1]; title == "" || strings.Contains(title, " ") {
		t.Errorf("the new selector did not apply: %s", got[0])
	}
	// The change was recorded as a crawl records one.
	var changes int
	db.QueryRow(`SELECT count(*) FROM gather_changes WHERE run = 2`).Scan(&changes)
	if changes != n {
		t.Errorf("%d changes recorded in run 2, want %d", changes, n)
	}
}

// tableRows runs q and returns each row's columns joined by " | ".
func tableRows(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = v.String
		}
		out = append(out, strings.Join(parts, " | "))
	}
	return out
}

// A crawl after a change of items extracts the stored pages again from
// the archive instead of fetching them; only a page the archive does not
// hold is fetched.
func TestCrawl_ChangedItemsReextractInsteadOfRefetching(t *testing.T) {
	site, err := demo.New(demo.Options{Track: true}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	const n = 20
	dir := t.TempDir()
	cfg := demoJob(t, dir, site, n, "title: {css: title}")
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	before := site.Counts()
	newPage := demo.PageURL("", demo.IDs(n + 1)[n])
	// One more page, which the archive cannot hold, and a changed field.
	cfg = demoJob(t, dir, site, n+1, `title: {css: title, regex: '^(\S+)'}`)
	code, out, errOut := runGather(t, "crawl", "-c", cfg)
	if code != 0 {
		t.Fatalf("second crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, fmt.Sprintf("%d re-extracted from the archive", n)) {
		t.Errorf("the summary does not say the pages were re-extracted:\n%s", out)
	}
	for path, c := range site.Counts() {
		// robots.txt is read once a run, for the new page.
		if c != before[path] && path != newPage && path != "/robots.txt" {
			t.Errorf("%s was requested again (%d → %d)", path, before[path], c)
		}
	}
	if got := site.Count(newPage); got != 1 {
		t.Errorf("the new page was requested %d times, want 1", got)
	}
	db := gathertest.OpenDB(t, filepath.Join(dir, "out.db"))
	var left int
	db.QueryRow(`SELECT count(*) FROM pages WHERE title LIKE '% %'`).Scan(&left)
	if left != 0 {
		t.Errorf("%d rows still hold the old selector's value", left)
	}
}
