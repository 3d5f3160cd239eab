package storage_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/storage"
)

// A late outcome (a shared crawl's worker stalled past its lease) brings
// a page's record up to date when it is newer, in the run that recorded
// the page, and is never counted as a page of a run: an older one, or a
// late failure over a recorded outcome, is left out; a page with no
// outcome takes it in the writer's run; a page that failed in a finished
// run and comes late as ok is counted again in that run's record.
func TestWriter_PutLate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "late.db")
	s := open(t, path, castTable)
	t0 := time.Now().Add(-time.Hour)
	run1, err := s.StartRun(ctx, "test", t0)
	if err != nil {
		t.Fatal(err)
	}
	w := writer(t, s, run1)
	at := func(p storage.Page, d time.Duration) storage.Page { p.FetchedAt = t0.Add(d); return p }
	failed := func(url string, d time.Duration) storage.Page {
		return storage.Page{URL: url, Status: storage.PageFailed, Error: "HTTP 500", Attempts: 3, FetchedAt: t0.Add(d)}
	}
	for _, p := range []storage.Page{at(okPage("a", row("a", "p1", 1)), time.Minute), at(okPage("b", row("b", "p1", 1)), time.Minute), failed("c", time.Minute)} {
		if err := w.Put(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, run1, storage.RunFinished, storage.RunCounts{PagesOK: 2, PagesFailed: 1}, t0.Add(2*time.Minute), ""); err != nil {
		t.Fatal(err)
	}

	run2, err := s.StartRun(ctx, "test", t0.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	w = writer(t, s, run2)
	late := []struct {
		p     storage.Page
		links []storage.PendingLink
	}{
		{p: at(okPage("a", row("a", "p2", 1)), 2*time.Minute)},                                                     // newer: lands, stays in run 1
		{p: at(okPage("b", row("b", "p9", 1)), 30*time.Second)},                                                    // older: left out
		{p: failed("a", 3*time.Minute)},                                                                            // a late failure over an outcome: left out
		{p: at(okPage("c", row("c", "p1", 1)), 2*time.Minute)},                                                     // failed in run 1, ok now: run 1 counts it
		{p: at(okPage("d", row("d", "p1", 1)), 2*time.Minute), links: []storage.PendingLink{{URL: "e", Depth: 1}}}, // unknown: lands in run 2, its link pending
	}
	for _, l := range late {
		if err := w.PutLate(ctx, l.p, l.links); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if landed, stale := w.LateCounts(); landed != 3 || stale != 2 {
		t.Errorf("late outcomes: %d landed, %d left out; want 3 and 2", landed, stale)
	}
	if c := w.Counts(); c.PagesOK+c.PagesFailed+c.Items != 0 {
		t.Errorf("the run counted late outcomes: %+v", c)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rows(t, path, "SELECT url || ' ' || status || ' run ' || coalesce(run, 0) FROM gather_pages ORDER BY url"), ", ")
	if want := "a ok run 1, b ok run 1, c ok run 1, d ok run 2, e pending run 2"; got != want {
		t.Errorf("pages: %s\nwant   %s", got, want)
	}
	got = strings.Join(rows(t, path, `SELECT movie_id || ':' || person_id FROM "cast" ORDER BY movie_id`), ", ")
	if want := "a:p2, b:p1, c:p1, d:p1"; got != want {
		t.Errorf("cast rows: %s, want %s", got, want)
	}
	r1, err := s.Run(ctx, run1)
	if err != nil {
		t.Fatal(err)
	}
	if r1.PagesOK != 3 || r1.PagesFailed != 0 || r1.Status != storage.RunFinished {
		t.Errorf("run 1 after the late outcomes: %s, %d ok, %d failed; want finished, 3 ok, 0 failed", r1.Status, r1.PagesOK, r1.PagesFailed)
	}
}
