package schedule

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/storage"
)

// fakeClock moves only when the test advances it; waits fire then.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits map[*fakeWait]struct{}
}

type fakeWait struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, waits: map[*fakeWait]struct{}{}}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &fakeWait{at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		w.ch <- c.now
		return w.ch, func() {}
	}
	c.waits[w] = struct{}{}
	return w.ch, func() {
		c.mu.Lock()
		delete(c.waits, w)
		c.mu.Unlock()
	}
}

// advance moves the clock on by d and fires the waits that are due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for w := range c.waits {
		if !w.at.After(c.now) {
			w.ch <- c.now
			delete(c.waits, w)
		}
	}
}

// pending lists when the waits not yet fired are due.
func (c *fakeClock) pending() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var at []time.Time
	for w := range c.waits {
		at = append(at, w.at)
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	return at
}

// eventually waits for cond, which real work (a crawl) makes true.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// blockedUntil waits until the scheduler waits on n fake timers.
func (c *fakeClock) blockedUntil(t *testing.T, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d waits on the clock", n), func() bool { return len(c.pending()) == n })
}

// site serves /p/1../p/n, each a title whose version the test sets; with
// a gate set, pages wait for it to open.
type site struct {
	*httptest.Server
	mu       sync.Mutex
	version  map[string]int
	requests int
	gate     chan struct{}
}

func newSite(t *testing.T) *site {
	s := &site{version: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/p/") {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.requests++
		gate, v := s.gate, s.version[r.URL.Path]
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		fmt.Fprintf(w, "<html><h1>%s v%d</h1></html>", r.URL.Path, v)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *site) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *site) setGate(gate chan struct{}) {
	s.mu.Lock()
	s.gate = gate
	s.mu.Unlock()
}

// jobConfig is a job that crawls the site's three pages on schedule.
func jobConfig(t *testing.T, srv *site, name, schedule string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	doc := fmt.Sprintf(`database: %s
crawl:
  name: %s
  start:
    urls: [%s/p/1, %s/p/2, %s/p/3]
  refresh_after: 1h
items:
  pages:
    fields:
      title: {css: h1}
schedule:
%s
`, filepath.Join(dir, "out.db"), name, srv.URL, srv.URL, srv.URL, schedule)
	return gathertest.LoadConfig(t, dir, doc)
}

// start runs the scheduler until the test ends, and checks Run returns.
func start(t *testing.T, s *Scheduler) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return cancel
}

func newScheduler(t *testing.T, clock *fakeClock, opts Options, cfgs ...*config.Config) (*Scheduler, *Metrics) {
	t.Helper()
	opts.Clock, opts.Metrics = clock, NewMetrics()
	s, err := New(cfgs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, opts.Metrics
}

func runs(m *Metrics, job, status string) int {
	return int(testutil.ToFloat64(m.runs.WithLabelValues(job, status)))
}

func skips(m *Metrics, job, reason string) int {
	return int(testutil.ToFloat64(m.skipped.WithLabelValues(job, reason)))
}

func readDB(t *testing.T, cfg *config.Config, q string) []string {
	t.Helper()
	rows, err := gathertest.OpenDB(t, cfg.Database).Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

var dec1 = time.Date(2026, 12, 1, 2, 59, 0, 0, time.UTC)

// A daily job runs at its time, not before, records the clock's time, and
// its next run is the next day; the time zone is the schedule's.
func TestScheduler_RunsWhenDue(t *testing.T) {
	srv := newSite(t)
	clock := newFakeClock(dec1)
	utc := jobConfig(t, srv, "utc", `  cron: "0 3 * * *"`)
	ny := jobConfig(t, srv, "ny", `  cron: "0 3 * * *"
  timezone: America/New_York`)
	s, m := newScheduler(t, clock, Options{}, utc, ny)
	start(t, s)
	clock.blockedUntil(t, 2)
	if got, want := s.Next("utc"), dec1.Add(time.Minute); !got.Equal(want) {
		t.Errorf("next utc run %s, want %s", got, want)
	}
	if got, want := s.Next("ny").UTC(), time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next New York run %s, want %s (03:00 EST)", got, want)
	}

	clock.advance(59 * time.Second)
	if n := srv.count(); n != 0 {
		t.Fatalf("%d requests a second before the job was due", n)
	}
	clock.advance(time.Second)
	eventually(t, "the 03:00 run", func() bool { return runs(m, "utc", storage.RunFinished) == 1 })
	if n := srv.count(); n != 3 {
		t.Errorf("%d requests, want the job's 3 pages", n)
	}
	if got := readDB(t, utc, "SELECT started_at || ' ' || finished_at || ' ' || status FROM gather_runs"); len(got) != 1 ||
		got[0] != "2026-12-01T03:00:00.000Z 2026-12-01T03:00:00.000Z finished" {
		t.Errorf("gather_runs: %v, want one run recorded at the clock's 03:00", got)
	}
	if got := testutil.ToFloat64(m.lastSuccess.WithLabelValues("utc")); got != float64(dec1.Add(time.Minute).Unix()) {
		t.Errorf("last success %v, want the clock's time", got)
	}
	clock.blockedUntil(t, 2)
	if got, want := s.Next("utc"), dec1.Add(24*time.Hour+time.Minute); !got.Equal(want) {
		t.Errorf("after the run, next utc run %s, want %s", got, want)
	}
	if runs(m, "ny", storage.RunFinished) != 0 {
		t.Error("the New York job ran at 03:00 UTC")
	}
}

// A run still going when the next is due makes that one a skip, counted
// as an overlap; the job is never run twice at once.
func TestScheduler_SkipsOverlap(t *testing.T) {
	srv := newSite(t)
	gate := make(chan struct{})
	srv.setGate(gate)
	clock := newFakeClock(dec1)
	cfg := jobConfig(t, srv, "job", `  cron: "@every 1m"`)
	s, m := newScheduler(t, clock, Options{}, cfg)
	start(t, s)
	clock.blockedUntil(t, 1)
	clock.advance(time.Minute)
	eventually(t, "the first run's requests", func() bool { return srv.count() == 3 })
	for i := 1; i <= 3; i++ {
		clock.blockedUntil(t, 1)
		clock.advance(time.Minute)
		eventually(t, "an overlap skip", func() bool { return skips(m, "job", "overlap") == i })
	}
	close(gate)
	eventually(t, "the first run's end", func() bool { return runs(m, "job", storage.RunFinished) == 1 })
	if got := readDB(t, cfg, "SELECT count(*) FROM gather_runs"); got[0] != "1" {
		t.Errorf("%s runs recorded, want 1", got[0])
	}
	// The next due time starts a run again.
	clock.blockedUntil(t, 1)
	clock.advance(2 * time.Hour) // pages are stale (refresh_after: 1h)
	eventually(t, "the second run", func() bool { return runs(m, "job", storage.RunFinished) == 2 })
	if got := testutil.ToFloat64(m.pages.WithLabelValues("job", "ok")); got != 6 {
		t.Errorf("pages ok %v, want 6 (3 per run)", got)
	}
}

// A job whose lease another process holds is skipped, counted as locked,
// and sends no request.
func TestScheduler_SkipsWhenLeaseHeld(t *testing.T) {
	srv := newSite(t)
	clock := newFakeClock(dec1)
	cfg := jobConfig(t, srv, "job", `  cron: "@every 1m"`)
	store, err := storage.Open(context.Background(), cfg.Database, crawler.Tables(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	other := store.NewLease("job", storage.LeaseOptions{Owner: "elsewhere.example:42", TTL: time.Hour})
	if err := other.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	s, m := newScheduler(t, clock, Options{}, cfg)
	start(t, s)
	clock.blockedUntil(t, 1)
	clock.advance(time.Minute)
	eventually(t, "a locked skip", func() bool { return skips(m, "job", "locked") == 1 })
	if n := srv.count(); n != 0 {
		t.Errorf("%d requests while another process held the job", n)
	}
	if err := other.Release(); err != nil {
		t.Fatal(err)
	}
	clock.blockedUntil(t, 1)
	clock.advance(time.Minute)
	eventually(t, "the run once the lease is free", func() bool { return runs(m, "job", storage.RunFinished) == 1 })
	if got := runs(m, "job", storage.RunFailed); got != 0 {
		t.Errorf("%d failed runs counted", got)
	}
}

// Jitter delays the run by what the jitter source picks, within the
// configured bound, on the scheduler's clock.
func TestScheduler_Jitter(t *testing.T) {
	srv := newSite(t)
	clock := newFakeClock(dec1)
	cfg := jobConfig(t, srv, "job", `  cron: "0 3 * * *"
  jitter: 10m`)
	var asked []time.Duration
	s, m := newScheduler(t, clock, Options{Jitter: func(max time.Duration) time.Duration {
		asked = append(asked, max)
		return 7 * time.Minute
	}}, cfg)
	start(t, s)
	clock.blockedUntil(t, 1)
	clock.advance(time.Minute) // due: the jitter wait begins
	clock.blockedUntil(t, 2)   // the jitter wait and the next day's run
	if got := clock.pending()[0]; !got.Equal(dec1.Add(8 * time.Minute)) {
		t.Errorf("the run waits until %s, want 03:07", got)
	}
	clock.advance(7*time.Minute - time.Second)
	if n := srv.count(); n != 0 {
		t.Fatalf("%d requests before the jitter passed", n)
	}
	clock.advance(time.Second)
	eventually(t, "the jittered run", func() bool { return runs(m, "job", storage.RunFinished) == 1 })
	if len(asked) != 1 || asked[0] != 10*time.Minute {
		t.Errorf("jitter asked for %v, want one wait within 10m", asked)
	}
	if got := readDB(t, cfg, "SELECT started_at FROM gather_runs"); got[0] != "2026-12-01T03:07:00.000Z" {
		t.Errorf("run started at %s, want 03:07", got[0])
	}
}

// Stopping the scheduler while a run is going interrupts the run cleanly:
// it is recorded interrupted, its pages stay pending, and Run returns.
func TestScheduler_StopInterruptsRunningCrawl(t *testing.T) {
	srv := newSite(t)
	srv.setGate(make(chan struct{})) // pages never come
	clock := newFakeClock(dec1)
	cfg := jobConfig(t, srv, "job", `  cron: "@every 1m"`)
	s, m := newScheduler(t, clock, Options{}, cfg)
	stop := start(t, s)
	clock.blockedUntil(t, 1)
	clock.advance(time.Minute)
	// All three requests are at the site, so all three were dispatched and
	// marked pending first; stopping before then left a page that was never
	// dispatched and so never pending (a CI run did), which is right but
	// not what this test asks about.
	eventually(t, "the run's requests", func() bool { return srv.count() == 3 })
	stop()
	eventually(t, "the interrupted run", func() bool { return runs(m, "job", storage.RunInterrupted) == 1 })
	if got := readDB(t, cfg, "SELECT status FROM gather_runs"); len(got) != 1 || got[0] != "interrupted" {
		t.Errorf("runs: %v", got)
	}
	if got := readDB(t, cfg, "SELECT count(*) FROM gather_pages WHERE status = 'pending'"); got[0] != "3" {
		t.Errorf("%s pages pending, want 3", got[0])
	}
}

// Re-runs refresh pages older than refresh_after on the scheduler's
// clock, and the metrics count what changed.
func TestScheduler_RefreshAndChangeMetrics(t *testing.T) {
	srv := newSite(t)
	clock := newFakeClock(dec1)
	cfg := jobConfig(t, srv, "job", `  cron: "*/30 * * * *"`)
	s, m := newScheduler(t, clock, Options{}, cfg)
	start(t, s)
	step := func(d time.Duration, want int) {
		t.Helper()
		clock.blockedUntil(t, 1)
		clock.advance(d)
		eventually(t, fmt.Sprintf("run %d", want), func() bool { return runs(m, "job", storage.RunFinished) == want })
	}
	step(time.Minute, 1) // 03:00: all three fetched
	step(30*time.Minute, 2)
	if n := srv.count(); n != 3 {
		t.Errorf("the 03:30 run fetched %d pages stored 30 minutes before (refresh_after: 1h)", n-3)
	}
	srv.mu.Lock()
	srv.version["/p/2"] = 1
	srv.mu.Unlock()
	step(30*time.Minute, 3) // 04:00: stored an hour ago, stale
	if n := srv.count(); n != 6 {
		t.Errorf("%d requests after the 04:00 run, want 6", n)
	}
	if got := testutil.ToFloat64(m.changed.WithLabelValues("job")); got != 1 {
		t.Errorf("changed pages %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.items.WithLabelValues("job")); got != 6 {
		t.Errorf("items %v, want 6", got)
	}
	if got := readDB(t, cfg, "SELECT url FROM gather_changes"); len(got) != 1 || !strings.HasSuffix(got[0], "/p/2") {
		t.Errorf("gather_changes: %v", got)
	}
}

func TestNew_RejectsJobsWithoutScheduleOrWithOneName(t *testing.T) {
	srv := newSite(t)
	a := jobConfig(t, srv, "same", `  cron: "@daily"`)
	b := jobConfig(t, srv, "same", `  cron: "@hourly"`)
	if _, err := New([]*config.Config{a, b}, Options{}); err == nil || !strings.Contains(err.Error(), `crawl.name: job "same" is also the name of`) {
		t.Errorf("two jobs of one name: %v", err)
	}
	none := jobConfig(t, srv, "none", `  cron: ""`)
	if _, err := New([]*config.Config{none}, Options{}); err == nil || !strings.Contains(err.Error(), "schedule.cron: no schedule") {
		t.Errorf("no schedule: %v", err)
	}
}

// A config built in code, past validation, with a spec that never runs is
// refused: the scheduler used to wait for the zero time's run forever (or,
// on a real timer, fire at once in a loop). So is a zone given twice,
// which gather validate now refuses by the same parse.
func TestNew_RefusesSchedulesValidationRefuses(t *testing.T) {
	srv := newSite(t)
	for _, tc := range []struct{ spec, tz, msg string }{
		{"0 0 31 2 *", "", `schedule.cron: "0 0 31 2 *" never runs (no Feb 31)`},
		{"CRON_TZ=Asia/Tokyo 0 3 * * *", "Europe/Berlin", `schedule.cron: "CRON_TZ=Asia/Tokyo 0 3 * * *" names its own time zone with CRON_TZ= and schedule.timezone names "Europe/Berlin"`},
		{"CRON_TZ=Asia/Tokyo", "", "no schedule after CRON_TZ=Asia/Tokyo"},
	} {
		cfg := jobConfig(t, srv, "job", `  cron: "@daily"`)
		cfg.Schedule.Cron, cfg.Schedule.Timezone = tc.spec, tc.tz
		s, err := New([]*config.Config{cfg}, Options{Clock: newFakeClock(dec1)})
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !errors.Is(err, config.ErrInvalid) {
			t.Errorf("%s: New = %v, %v; want an invalid-config error containing %q", tc.spec, s, err, tc.msg)
		}
	}
}

// A job whose spec runs out of runs within robfig/cron's 5-year horizon
// (Feb 29 before 2100, no leap year) stops being scheduled after its last
// run instead of crawling again and again at once.
func TestScheduler_StopsAJobWithNoFurtherRun(t *testing.T) {
	srv := newSite(t)
	clock := newFakeClock(time.Date(2096, 2, 28, 23, 59, 0, 0, time.UTC))
	cfg := jobConfig(t, srv, "leap", `  cron: "0 0 29 2 *"
  timezone: UTC`)
	s, m := newScheduler(t, clock, Options{}, cfg)
	start(t, s)
	clock.blockedUntil(t, 1)
	clock.advance(time.Minute)
	eventually(t, "the Feb 29 run", func() bool { return runs(m, "leap", storage.RunFinished) == 1 })
	time.Sleep(50 * time.Millisecond)
	if n, sk := runs(m, "leap", storage.RunFinished), skips(m, "leap", "overlap"); n != 1 || sk != 0 || len(clock.pending()) != 0 {
		t.Errorf("after the last run: %d runs, %d skips, waits %v; want the job left alone", n, sk, clock.pending())
	}
	if next := s.Next("leap"); !next.IsZero() {
		t.Errorf("Next = %s, want none", next)
	}
}

// Over scheduled re-runs of the shipped config against a site whose
// content changes with every fetch, gather_changes lists exactly what the
// site changed, diffed from the site's own ground truth.
func TestScheduler_RecordsExactlyTheSiteChanges(t *testing.T) {
	changing := map[string]bool{demo.ID(1): true, demo.ID(2): true}
	var site *demo.Server
	site, err := demo.New(demo.Options{Track: true, Version: func(id string) int {
		if !changing[id] {
			return 0
		}
		return site.Count("/title/"+id+"/fullcredits") - 1 // each fetch serves a new version
	}}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	dir := t.TempDir()
	doc := fmt.Sprintf(`database: %s
crawl:
  name: changes
  start:
    url_template: %q
    ids_file: %s
  refresh_after: 1h
%s
schedule:
  cron: "@hourly"
`, filepath.Join(dir, "out.db"), demo.PageURL(site.URL, "{id}"), gathertest.WriteIDs(t, 1, 4), gathertest.ShippedItems(t))
	cfg := gathertest.LoadConfig(t, dir, doc)
	clock := newFakeClock(time.Date(2026, 12, 1, 2, 30, 0, 0, time.UTC))
	s, m := newScheduler(t, clock, Options{}, cfg)
	start(t, s)
	const runsWanted = 4
	for i := 1; i <= runsWanted; i++ {
		clock.blockedUntil(t, 1)
		clock.advance(time.Hour)
		eventually(t, fmt.Sprintf("run %d", i), func() bool { return runs(m, "changes", storage.RunFinished) == i })
	}
	if got := testutil.ToFloat64(m.changed.WithLabelValues("changes")); got != 2*(runsWanted-1) {
		t.Errorf("changed pages %v, want %d", got, 2*(runsWanted-1))
	}
	db := gathertest.OpenDB(t, cfg.Database)
	for _, id := range demo.IDs(4) {
		if n := site.Count("/title/" + id + "/fullcredits"); n != runsWanted {
			t.Errorf("%s fetched %d times in %d hourly runs (refresh_after 1h)", id, n, runsWanted)
		}
		got := changeRows(t, db, demo.PageURL(site.URL, id))
		if !changing[id] {
			if len(got) != 0 {
				t.Errorf("%s never changed, yet gather_changes has %v", id, got)
			}
			continue
		}
		if len(got) != runsWanted-1 {
			t.Errorf("%s: %d change rows after %d fetches", id, len(got), runsWanted)
		}
		for k, row := range got {
			if want := expectedChange(id, k+1); row != want {
				t.Errorf("%s change %d:\n got %s\nwant %s", id, k+1, row, want)
			}
		}
	}
}

func changeRows(t *testing.T, d *sql.DB, url string) []string {
	t.Helper()
	rows, err := d.Query("SELECT item, added, removed, modified, detail FROM gather_changes WHERE url = ? ORDER BY run, item", url)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var item, detail string
		var a, r, m int
		if err := rows.Scan(&item, &a, &r, &m, &detail); err != nil {
			t.Fatal(err)
		}
		// The keys; the modified rows' old and new values (",diff") are
		// checked in storage.
		if i := strings.Index(detail, `,"diff":`); i >= 0 {
			detail = detail[:i] + "}"
		}
		out = append(out, fmt.Sprintf("%s +%d -%d ~%d %s", item, a, r, m, detail))
	}
	return out
}

// expectedChange diffs the site's ground truth of id between versions v-1
// and v, the way gather_changes reports it (cast is the item that changes).
func expectedChange(id string, v int) string {
	before := demo.Expected([]string{id}, false, func(string) int { return v - 1 })["cast"]
	after := demo.Expected([]string{id}, false, func(string) int { return v })["cast"]
	var added, removed, modified []string
	for k, row := range after {
		if old, ok := before[k]; !ok {
			added = append(added, k)
		} else if old != row {
			modified = append(modified, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			removed = append(removed, k)
		}
	}
	js := func(keys []string) string {
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			mv := strings.SplitN(k, "|", 2)
			parts[i] = fmt.Sprintf(`[%q,%q]`, mv[0], mv[1])
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprintf(`cast +%d -%d ~%d {"added":%s,"modified":%s,"removed":%s}`, len(added), len(removed), len(modified), js(added), js(modified), js(removed))
}

// A scheduled job whose site has one dead link: every run finishes (none
// is failed for it), the dead page stays failed in gather_pages and
// gather_failures, and it is retried on the back-off across runs.
func TestScheduler_DeadLinkNeverFailsARun(t *testing.T) {
	var mu sync.Mutex
	deadFetches := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/index.html":
			fmt.Fprint(w, `<html><h1>index</h1><a href="dead.html">dead</a></html>`)
		case "/dead.html":
			mu.Lock()
			deadFetches++
			mu.Unlock()
			http.NotFound(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := gathertest.LoadConfig(t, dir, fmt.Sprintf(`database: %s
crawl:
  name: dead
  start: {urls: ["%s/index.html"]}
  max_depth: 2
  follow: [{css: a}]
  retries: 0
  retry_gone_after: 1h
items:
  pages:
    fields:
      title: {css: h1}
schedule:
  cron: "*/30 * * * *"
`, filepath.Join(dir, "out.db"), srv.URL))
	clock := newFakeClock(dec1)
	s, m := newScheduler(t, clock, Options{}, cfg)
	start(t, s)
	// 03:00 first fetch; retries due 1h, then 2h, then 4h after a failure.
	wantFetches := map[string]int{"03:00": 1, "03:30": 1, "04:00": 2, "04:30": 2, "05:00": 2, "05:30": 2, "06:00": 3}
	for i, when := range []string{"03:00", "03:30", "04:00", "04:30", "05:00", "05:30", "06:00"} {
		clock.blockedUntil(t, 1)
		step := 30 * time.Minute
		if i == 0 {
			step = time.Minute
		}
		clock.advance(step)
		eventually(t, "the "+when+" run", func() bool { return runs(m, "dead", storage.RunFinished) == i+1 })
		mu.Lock()
		got := deadFetches
		mu.Unlock()
		if got != wantFetches[when] {
			t.Errorf("%s: dead.html fetched %d times in all, want %d", when, got, wantFetches[when])
		}
		if f := readDB(t, cfg, "SELECT url || ' ' || error FROM gather_failures"); len(f) != 1 || f[0] != srv.URL+"/dead.html HTTP 404 Not Found" {
			t.Errorf("%s: gather_failures %v", when, f)
		}
	}
	if n := runs(m, "dead", storage.RunFailed); n != 0 {
		t.Errorf("%d runs failed because of one dead link", n)
	}
	if got := readDB(t, cfg, "SELECT group_concat(DISTINCT status) FROM gather_runs"); len(got) != 1 || got[0] != "finished" {
		t.Errorf("run statuses: %v", got)
	}
}
