package frontier_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/frontier"
	"github.com/gather-crawler/gather/internal/redistest"
	"github.com/gather-crawler/gather/internal/testingutil"
	"github.com/gather-crawler/gather/storage"
)

// linkSite serves /index.html linking to /p1.html … /p5.html, each of
// which links to /dead.html (404) and back; it counts the requests per
// path.
type linkSite struct {
	*httptest.Server
	mu       sync.Mutex
	requests map[string]int
}

func newLinkSite(t *testing.T) *linkSite {
	s := &linkSite{requests: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		switch {
		case r.URL.Path == "/index.html":
			fmt.Fprint(w, "<h1>Index</h1>")
			for i := 1; i <= 5; i++ {
				fmt.Fprintf(w, `<a href="p%d.html">p%d</a>`, i, i)
			}
		case strings.HasPrefix(r.URL.Path, "/p"):
			fmt.Fprintf(w, `<h1>Page %s</h1><a href="dead.html">dead</a><a href="index.html">up</a>`, r.URL.Path)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *linkSite) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.requests {
		if k == "/robots.txt" {
			continue // read once per worker, not a page
		}
		out[k] = v
	}
	return out
}

// A scheduled shared crawl runs again and again (frontier.Redis.Run, as
// gather schedule calls it) while one worker waits between runs: each run
// re-fetches exactly what a local run would — nothing while the pages are
// fresh, the stale pages after refresh_after but not the dead link during
// its back-off (not even as a link found again), then everything — and
// each is a run in gather_runs.
func TestShared_ScheduledRunsRefetchWhatIsDue(t *testing.T) {
	rs := redistest.Start(t)
	site := newLinkSite(t)
	dir := t.TempDir()
	cfg := testingutil.LoadConfig(t, dir, fmt.Sprintf(`database: out.db
frontier: %s
crawl:
  name: shared
  start: {urls: ["%s/index.html"]}
  max_depth: 3
  follow: [{css: "a"}]
  retries: 0
  refresh_after: 1h
  retry_gone_after: 3h
items:
  pages:
    fields:
      title: {css: h1}
`, rs.URL(), site.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	st, err := storage.Open(ctx, cfg.Database, storage.TablesFor(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// One worker for all the runs: it waits for each next one.
	wctx, wcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer wcancel()
	wg.Go(func() {
		c, err := crawler.New(cfg, nil, crawler.Options{Now: now})
		if err != nil {
			t.Error(err)
			return
		}
		c.Work(wctx, open(t, rs.URL(), "w", 5*time.Second), crawler.WorkOptions{Wait: true})
	})

	fr := open(t, rs.URL(), "schedule", 5*time.Second)
	run := func(step string, after time.Duration, want map[string]int, wantOK int64) {
		t.Helper()
		clock.Add(int64(after))
		c, err := crawler.New(cfg, nil, crawler.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := fr.Run(ctx, c, st, frontier.SinkOptions{ItemsHash: cfg.ItemsHash(), Now: now})
		if err != nil || sum.Status != storage.RunFinished || sum.Counts.PagesOK != wantOK {
			t.Fatalf("%s: %s (%+v) %v, want %d ok", step, sum, sum.Seed, err, wantOK)
		}
		if got := site.counts(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: the site served %v, want %v", step, got, want)
		}
	}
	all := func(pages, dead int) map[string]int {
		m := map[string]int{"/index.html": pages, "/dead.html": dead}
		for i := 1; i <= 5; i++ {
			m[fmt.Sprintf("/p%d.html", i)] = pages
		}
		return m
	}
	run("first run", 0, all(1, 1), 6)
	run("10 minutes later: all fresh, the dead link waits", 10*time.Minute, all(1, 1), 0)
	run("2 hours later: stale, the dead link still waits", 2*time.Hour, all(2, 1), 6)
	run("4 hours later: all due", 2*time.Hour, all(3, 2), 6)

	db := testingutil.OpenDB(t, cfg.Database)
	var runs, finished int
	if err := db.QueryRow(`SELECT count(*), coalesce(sum(status = 'finished'), 0) FROM gather_runs WHERE job = 'shared'`).Scan(&runs, &finished); err != nil {
		t.Fatal(err)
	}
	if runs != 4 || finished != 4 {
		t.Fatalf("gather_runs has %d runs, %d finished; want 4 and 4", runs, finished)
	}
	var failRuns int
	if err := db.QueryRow(`SELECT fail_runs FROM gather_pages WHERE url = ?`, site.URL+"/dead.html").Scan(&failRuns); err != nil || failRuns != 2 {
		t.Fatalf("the dead link failed in %d runs (%v), want 2", failRuns, err)
	}
}
