package main

import (
	"regexp"
	"strings"
	"testing"

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
