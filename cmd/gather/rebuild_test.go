package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/crawler/archive"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// rebuildJob is demoJob's config with its own list of pages and the
// archive on or off.
func rebuildJob(t *testing.T, dir string, site *demo.Server, ids []string, titleField string, archived bool) string {
	var urls strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&urls, "      - %q\n", demo.PageURL(site.URL, id))
	}
	return writeFile(t, dir, "job.yaml", fmt.Sprintf(`database: out.db
archive: {enabled: %t}
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
`, archived, urls.String(), titleField))
}

func columns(t *testing.T, dbPath, table string) string {
	t.Helper()
	db := gathertest.OpenDB(t, dbPath)
	return strings.Join(gathertest.QueryStrings(t, db, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table), ",")
}

// A renamed field leaves a dead column: validate and the run say so, and
// reextract --rebuild remakes the table without it, re-extracting what the
// archive holds. Rows of pages the archive does not hold stay, and so does
// the backup that keeps their old column.
func TestReextractRebuild_DropsDeadColumns(t *testing.T) {
	site, err := demo.New(demo.Options{Track: true}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	ids := demo.IDs(10)
	dir := t.TempDir()
	db := filepath.Join(dir, "out.db")
	// Three pages crawled with no archive, then all ten with one: the
	// three are stored, so not fetched (nor archived) again.
	cfg := rebuildJob(t, dir, site, ids[:3], "title: {css: title}", false)
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	cfg = rebuildJob(t, dir, site, ids, "title: {css: title}", true)
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}

	// title is renamed name.
	cfg = rebuildJob(t, dir, site, ids, "name: {css: title}", true)
	code, out, errOut := runGather(t, "validate", "-c", cfg)
	if code != 0 || !strings.Contains(out, "table pages has columns no field of its item fills any more (title)") {
		t.Fatalf("validate: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := columns(t, db, "pages"); got != "title,heading,_url,_run,_fetched_at" {
		t.Fatalf("validate changed the table: %s", got)
	}
	before := requests(site)
	code, out, errOut = runGather(t, "reextract", "-c", cfg, "--rebuild", "pages")
	if code != 0 {
		t.Fatalf("reextract --rebuild: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "no field of its item fills any more (title)") {
		t.Errorf("the run did not warn of the dead column:\n%s", errOut)
	}
	if got := requests(site); got != before {
		t.Errorf("the rebuild sent %d requests", got-before)
	}
	for _, want := range []string{"rebuilt table pages with today's columns (dropped title): 10 rows of 10 pages",
		"3 pages have rows but no archived response", "the old table is kept as gather_backup_pages_", "3 pages' rows were not re-extracted"} {
		if !strings.Contains(out, want) {
			t.Errorf("reextract --rebuild does not say %q:\n%s", want, out)
		}
	}
	if got := columns(t, db, "pages"); got != "name,heading,_url,_run,_fetched_at" {
		t.Errorf("pages has columns %s after the rebuild, want name,heading,_url,_run,_fetched_at", got)
	}
	rdb := gathertest.OpenDB(t, db)
	if n := gathertest.QueryInt(t, rdb, `SELECT count(*) FROM pages`); n != 10 {
		t.Errorf("%d rows after the rebuild, want 10: the unarchived pages' rows must stay", n)
	}
	if n := gathertest.QueryInt(t, rdb, `SELECT count(*) FROM pages WHERE name LIKE '%' || heading || '%'`); n != 7 {
		t.Errorf("%d rows re-extracted with the new field, want the 7 archived", n)
	}
	backup := gathertest.QueryString(t, rdb, `SELECT name FROM sqlite_master WHERE name LIKE 'gather_backup_pages_%'`)
	if n := gathertest.QueryInt(t, rdb, `SELECT count(title) FROM `+backup); n != 10 {
		t.Errorf("the backup holds %d titles, want all 10", n)
	}
	if code, out, _ := runGather(t, "validate", "-c", cfg); code != 0 || strings.Contains(out, "fills any more") {
		t.Errorf("validate after the rebuild:\n%s", out)
	}

	// A crawl fetches the three (their items changed); once the archive
	// holds every page, a rebuild leaves no backup of its own.
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runGather(t, "reextract", "-c", cfg, "--rebuild", "pages")
	if code != 0 || !strings.Contains(out, "(no column to drop): 10 rows of 10 pages") || !strings.Contains(out, "every page was re-extracted; the backup") {
		t.Fatalf("second rebuild: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := gathertest.QueryInt(t, rdb, `SELECT count(*) FROM sqlite_master WHERE name LIKE 'gather_backup_pages_%'`); n != 1 {
		t.Errorf("%d backups, want the first rebuild's only", n)
	}
	if n := gathertest.QueryInt(t, rdb, `SELECT count(*) FROM pages WHERE name LIKE '%' || heading || '%'`); n != 10 {
		t.Errorf("%d rows with the new field, want 10", n)
	}

	// Usage errors name the flag, before anything is touched.
	if code, _, errOut := runGather(t, "reextract", "-c", cfg, "--rebuild", "nosuch"); code == 0 || !strings.Contains(errOut, "--rebuild nosuch") {
		t.Errorf("--rebuild of an unknown item: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runGather(t, "reextract", "-c", cfg, "--rebuild", "pages", "--limit", "2"); code == 0 || !strings.Contains(errOut, "--rebuild") {
		t.Errorf("--rebuild with --limit: exit %d\n%s", code, errOut)
	}
}

// A rebuild over a damaged archive (every file cut in half, as a full disk
// or a copy cut short leaves it) loses nothing: the records it can read are
// re-extracted, the others are reported with their file and offset, every
// row stays in the table and the backup is kept.
func TestReextractRebuild_TruncatedArchiveLosesNothing(t *testing.T) {
	site, err := demo.New(demo.Options{}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	ids := demo.IDs(12)
	dir := t.TempDir()
	db := filepath.Join(dir, "out.db")
	cfg := rebuildJob(t, dir, site, ids, "title: {css: title}", true)
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	truncateArchive(t, filepath.Join(dir, "out.warc"))

	cfg = rebuildJob(t, dir, site, ids, "name: {css: title}", true)
	code, out, errOut := runGather(t, "reextract", "-c", cfg, "--rebuild", "pages")
	if code != 0 {
		t.Fatalf("reextract --rebuild over a truncated archive: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "archived responses could not be read") || !strings.Contains(out, ".warc.gz at offset ") {
		t.Errorf("the unreadable records are not reported with their file and offset:\n%s", out)
	}
	if !strings.Contains(out, "the old table is kept as gather_backup_pages_") {
		t.Errorf("the backup was not kept:\n%s", out)
	}
	rdb := gathertest.OpenDB(t, db)
	if n := gathertest.QueryInt(t, rdb, `SELECT count(*) FROM pages`); n != 12 {
		t.Errorf("%d rows after the rebuild, want all 12", n)
	}
	fresh := gathertest.QueryInt(t, rdb, `SELECT count(*) FROM pages WHERE name IS NOT NULL`)
	if fresh == 0 || fresh == 12 {
		t.Errorf("%d of 12 rows re-extracted: the first half of the archive is readable, the rest is not", fresh)
	}
}

// truncateArchive cuts every file of the archive at dir in half.
func truncateArchive(t *testing.T, dir string) {
	t.Helper()
	files, err := archive.Files(dir)
	if err != nil || len(files) == 0 {
		t.Fatalf("no archive in %s: %v", dir, err)
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(f, st.Size()/2); err != nil {
			t.Fatal(err)
		}
	}
}
