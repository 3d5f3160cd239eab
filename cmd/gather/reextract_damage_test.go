package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/crawler/archive"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// reextract over an archive one of whose files is cut short and another
// gone (a worker's file on another machine): it finishes, re-extracts what
// it can read, reports the damaged record with its file and offset and the
// missing file by name with the pages it leaves, and leaves those pages as
// they were. Nothing is fetched.
func TestReextract_TruncatedAndMissingFiles(t *testing.T) {
	const n = 150
	site, dir := crawlIntoRotatedArchive(t, n)
	wdir := filepath.Join(dir, "out.warc")
	files, err := archive.Files(wdir)
	if err != nil || len(files) < 2 {
		t.Fatalf("%d files (%v): the test wants two at least", len(files), err)
	}
	db := gathertest.OpenDB(t, filepath.Join(dir, "out.db"))
	count := func(f string) int64 {
		return gathertest.QueryInt(t, db, `SELECT count(*) FROM gather_archive WHERE file = ?`, filepath.Base(f))
	}
	// The first file is cut a little past its middle; the last is moved
	// away.
	cut, gone := files[0], files[len(files)-1]
	st, _ := os.Stat(cut)
	if err := os.Truncate(cut, st.Size()/2+7); err != nil {
		t.Fatal(err)
	}
	goneURLs := count(gone)
	if err := os.Rename(gone, filepath.Join(t.TempDir(), "elsewhere.warc.gz")); err != nil {
		t.Fatal(err)
	}
	before := requests(site)

	cfg := demoJob(t, dir, site, n, `title: {css: title, regex: '^(\S+)'}`)
	code, out, errOut := runGather(t, "reextract", "-c", cfg)
	if code != 0 {
		t.Fatalf("reextract: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := requests(site); got != before {
		t.Errorf("reextract sent %d requests", got-before)
	}
	wantGone := "archive: 1 of the " + strconv.Itoa(len(files)) + " files the index names cannot be reached in " + wdir + ": " +
		filepath.Base(gone) + " (" + strconv.FormatInt(goneURLs, 10) + " pages); their " + strconv.FormatInt(goneURLs, 10) + " pages were left as they were"
	if !strings.Contains(out, wantGone) {
		t.Errorf("reextract does not say %q:\n%s", wantGone, out)
	}
	m := regexp.MustCompile(`archive: (\d+) archived responses could not be read .*first: archive: ` + regexp.QuoteMeta(filepath.Base(cut)) + ` at offset (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the truncated file's records are not reported with their offset:\n%s", out)
	}
	// The record cut in two, or one wholly past the cut.
	if off, _ := strconv.ParseInt(m[2], 10, 64); off < st.Size()/2-64<<10 || off >= st.Size() {
		t.Errorf("the damage is reported at offset %d; the file of %d bytes was cut at %d", off, st.Size(), st.Size()/2+7)
	}
	unreadable, _ := strconv.ParseInt(m[1], 10, 64)
	redone := gathertest.QueryInt(t, db, `SELECT count(*) FROM gather_pages WHERE run = 2`)
	if redone+unreadable+goneURLs != n || redone == 0 || unreadable == 0 {
		t.Errorf("%d pages re-extracted, %d unreadable, %d in the missing file: want %d in all", redone, unreadable, goneURLs, n)
	}
	if stale := gathertest.QueryInt(t, db, `SELECT count(*) FROM pages WHERE title LIKE '% %'`); stale != unreadable+goneURLs {
		t.Errorf("%d rows keep the old title, want the %d pages not re-extracted", stale, unreadable+goneURLs)
	}
}

// A crawl after a change of items, with a file of the archive gone: the
// pages the archive still holds are re-extracted, those of the missing
// file fetched again, and the file is named once, not once a page.
func TestCrawl_ItemChangeWithAFileGone(t *testing.T) {
	const n = 150
	site, dir := crawlIntoRotatedArchive(t, n)
	files, err := archive.Files(filepath.Join(dir, "out.warc"))
	if err != nil || len(files) < 2 {
		t.Fatalf("%d files (%v): the test wants two at least", len(files), err)
	}
	gone := files[0]
	db := gathertest.OpenDB(t, filepath.Join(dir, "out.db"))
	goneURLs := gathertest.QueryInt(t, db, `SELECT count(*) FROM gather_archive WHERE file = ?`, filepath.Base(gone))
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	before := requests(site)
	cfg := demoJob(t, dir, site, n, `title: {css: title, regex: '^(\S+)'}`)
	writeFile(t, dir, "job.yaml", string(must(os.ReadFile(cfg)))+"archive: {max_file_size: 1MB}\n")
	code, out, errOut := runGather(t, "crawl", "-c", cfg)
	if code != 0 {
		t.Fatalf("crawl after the change: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := int64(requests(site) - before); got != goneURLs+1 { // and robots.txt
		t.Errorf("%d requests, want the %d pages of the missing file and robots.txt", got, goneURLs)
	}
	if !strings.Contains(out, fmt.Sprintf("%d re-extracted from the archive", n-goneURLs)) {
		t.Errorf("the summary does not say %d pages were re-extracted:\n%s", n-goneURLs, out)
	}
	if c := strings.Count(errOut, "a file of the archive's index is not in the archive's directory"); c != 1 {
		t.Errorf("the missing file is said %d times, want once:\n%s", c, errOut)
	}
	if c := strings.Count(errOut, "could not be read"); c != 0 {
		t.Errorf("%d pages of the missing file reported one by one", c)
	}
	if stale := gathertest.QueryInt(t, db, `SELECT count(*) FROM pages WHERE title LIKE '% %'`); stale != 0 {
		t.Errorf("%d rows keep the old title", stale)
	}
}

// crawlIntoRotatedArchive crawls n demo pages (title only) with an archive
// rotated at 1 MB, so that it spans several files; it returns the tracking
// site (closed at the test's end), the job's directory and its config.
func crawlIntoRotatedArchive(t *testing.T, n int) (*demo.Server, string) {
	t.Helper()
	site, err := demo.New(demo.Options{Track: true}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	dir := t.TempDir()
	cfg := demoJob(t, dir, site, n, "title: {css: title}")
	writeFile(t, dir, "job.yaml", string(must(os.ReadFile(cfg)))+"archive: {max_file_size: 1MB}\n")
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	return site, dir
}
