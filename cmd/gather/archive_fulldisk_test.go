//go:build linux

package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gather-crawler/gather/crawler/archive"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// mountSmallDisk mounts a tmpfs of size bytes on dir: a real file system
// that fills up, where a write fails with ENOSPC as on a full disk. It
// needs root (CI runs as root); elsewhere the test skips, unless
// GATHER_REQUIRE_TMPFS is set. grow gives the file system room again.
func mountSmallDisk(t *testing.T, dir string, size string) (grow func(size string)) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		if os.Getenv("GATHER_REQUIRE_TMPFS") != "" {
			t.Fatalf("mount a tmpfs on %s: %v", dir, err)
		}
		t.Skipf("mount a tmpfs on %s: %v (needs root; GATHER_REQUIRE_TMPFS=1 makes this a failure)", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return func(size string) {
		if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, "size="+size); err != nil {
			t.Fatalf("grow the tmpfs on %s: %v", dir, err)
		}
	}
}

// A crawl whose archive's disk fills up stops with the error, loses
// nothing and leaves nothing half-written: every page the database holds
// as stored has all its rows and an archived response that reads back;
// the files hold whole records only. Once there is room again, the same
// crawl fetches only the pages it had not stored, and ends exact.
func TestCrawl_FullDiskStopsCleanlyAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("a crawl into a tmpfs that fills up")
	}
	site, err := demo.New(demo.Options{Track: true}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	const n = 120
	dir := t.TempDir()
	wdir := filepath.Join(dir, "out.warc") // the archive's default place beside out.db
	// About 12 KB of records a page: room for some twenty.
	grow := mountSmallDisk(t, wdir, "256k")
	cfg := demoJob(t, dir, site, n, "title: {css: title}")

	code, out, errOut := runGather(t, "crawl", "-c", cfg)
	if code == 0 {
		t.Fatalf("the crawl into a full disk exited 0\n%s\n%s", out, errOut)
	}
	if !strings.Contains(out+errOut, "no space left on device") {
		t.Errorf("the crawl does not say the disk is full:\n%s\n%s", out, errOut)
	}
	db := gathertest.OpenDB(t, filepath.Join(dir, "out.db"))
	var status, runErr string
	if err := db.QueryRow(`SELECT status, coalesce(error, '') FROM gather_runs WHERE id = 1`).Scan(&status, &runErr); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || !strings.Contains(runErr, "no space left on device") || strings.Contains(runErr, "archive: archive:") {
		t.Errorf("run 1 is %s (%q): want failed, saying the disk is full", status, runErr)
	}
	stored := gathertest.QueryInt(t, db, `SELECT count(*) FROM gather_pages WHERE status = 'ok'`)
	if stored == 0 || stored >= n {
		t.Fatalf("%d of %d pages stored before the disk filled: the test wants some, not all", stored, n)
	}
	checkStoredPages(t, db, wdir, stored)
	t.Logf("%d of %d pages stored when the disk filled: %s", stored, n, runErr)
	before := site.Counts()

	// Room again: the same crawl goes on where it stopped.
	grow("64m")
	if code, out, errOut := runGather(t, "crawl", "-c", cfg); code != 0 {
		t.Fatalf("the crawl with room again: exit %d\n%s\n%s", code, out, errOut)
	}
	after := site.Counts()
	refetched := 0
	rows, err := db.Query(`SELECT url FROM gather_pages WHERE status = 'ok' AND run = 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		p := strings.TrimPrefix(u, site.URL)
		if after[p] != before[p] {
			refetched++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if refetched != 0 {
		t.Errorf("the second crawl fetched %d of the pages the first had stored", refetched)
	}
	if got := gathertest.QueryInt(t, db, `SELECT count(*) FROM gather_pages WHERE status = 'ok'`); got != n {
		t.Errorf("%d pages stored in the end, want %d", got, n)
	}
	checkStoredPages(t, db, wdir, n)
	for _, err := range archive.Scan(wdir) {
		if err != nil {
			t.Errorf("the archive after the full disk and the resumed crawl: %v", err)
		}
	}
}

// checkStoredPages holds every page stored as ok to what the crawl
// promises: its row is there, and its archived response reads back from
// the place the index gives, as the page's own.
func checkStoredPages(t *testing.T, db *sql.DB, wdir string, want int64) {
	t.Helper()
	if got := gathertest.QueryInt(t, db, `SELECT count(*) FROM pages`); got != want {
		t.Errorf("%d rows in pages for %d stored pages", got, want)
	}
	rows, err := db.Query(`SELECT p.url, a.file, a.offset, a.length FROM gather_pages p
		LEFT JOIN gather_archive a ON a.job = p.job AND a.url = p.url WHERE p.status = 'ok'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	rd := archive.NewReader(wdir)
	defer rd.Close()
	for rows.Next() {
		var u string
		var file *string
		var off, length *int64
		if err := rows.Scan(&u, &file, &off, &length); err != nil {
			t.Fatal(err)
		}
		if file == nil {
			t.Errorf("%s is stored with no archived response", u)
			continue
		}
		rec, err := rd.ReadResponse(archive.Location{File: *file, Offset: *off, Length: *length})
		switch {
		case err != nil:
			t.Errorf("%s: its archived response at %s@%d: %v", u, *file, *off, err)
		case rec.URL != u:
			t.Errorf("%s: the index points at the response of %s", u, rec.URL)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
