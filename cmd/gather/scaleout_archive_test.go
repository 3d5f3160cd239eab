package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/internal/gathertest"
)

// A shared crawl's archive size: the worker's summary says what it
// archived, and the sink's run in gather_runs (and gather runs) counts the
// responses it indexed and their bytes.
func TestScaleOut_ArchiveSizeInTheSinksRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	s := newScaleOut(t, 30, 2, 0)
	s.seed()
	sink, sinkOut := s.start("sink")
	w, wOut := s.start("worker", "--name", "w0")
	waitExit(t, "worker", w, wOut)
	waitExit(t, "sink", sink, sinkOut)
	s.check()
	if !regexp.MustCompile(`worker finished: .*, 3[0-9] responses archived \(`).MatchString(wOut.String()) {
		t.Errorf("the worker does not say what it archived (30 pages, robots.txt of 3 hosts):\n%s", wOut)
	}
	if !strings.Contains(sinkOut.String(), ", 30 responses archived (") {
		t.Errorf("the sink does not say what it indexed:\n%s", sinkOut)
	}
	db := gathertest.OpenDB(t, s.db)
	bytes := gathertest.QueryInt(t, db, `SELECT sum(length) FROM gather_archive`)
	runs := runsJSON(t, s.db)
	if len(runs) != 1 || runs[0]["archived"] != float64(30) || runs[0]["archive_bytes"] != float64(bytes) || bytes == 0 {
		t.Errorf("gather runs: %v; the index holds %d bytes of 30 responses", runs, bytes)
	}
}

// A shared crawl's next run after a change of items seeds only the pages
// the changed item applies to: here a new item whose url pattern matches
// one of the three hosts. Workers do not re-extract, so those pages are
// fetched again; the other hosts' pages are not.
func TestScaleOut_NewRunSeedsOnlyTheChangedItemsPages(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	s := newScaleOut(t, 30, 2, 0)
	s.seed()
	sink, sinkOut := s.start("sink")
	w, wOut := s.start("worker")
	waitExit(t, "worker", w, wOut)
	waitExit(t, "sink", sink, sinkOut)

	doc := string(must(os.ReadFile(s.cfg)))
	host := s.sites[0].URL
	doc = strings.Replace(doc, "items:\n", fmt.Sprintf("items:\n  headings:\n    url: '^%s/'\n    fields: {h: {css: h1}}\n", regexp.QuoteMeta(host)), 1)
	writeFile(t, filepath.Dir(s.cfg), filepath.Base(s.cfg), doc)
	sink, sinkOut = s.start("sink", "--new-run")
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(sinkOut.String(), "seeded"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the sink did not seed:\n%s", sinkOut)
		}
	}
	w, wOut = s.start("worker")
	waitExit(t, "worker", w, wOut)
	waitExit(t, "sink", sink, sinkOut)
	for i, site := range s.sites {
		for path, k := range site.Counts() {
			if !strings.Contains(path, "/title/") {
				continue
			}
			if want := map[bool]int{true: 2, false: 1}[i == 0]; k != want {
				t.Errorf("host %d: %s fetched %d times, want %d", i, path, k, want)
			}
		}
	}
	db := gathertest.OpenDB(t, s.db)
	if n := gathertest.QueryInt(t, db, `SELECT count(*) FROM headings`); n != 10 {
		t.Errorf("%d rows of the new item, want the 10 pages of its host", n)
	}
}
