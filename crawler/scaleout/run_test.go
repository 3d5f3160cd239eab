package scaleout_test

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

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/crawler/scaleout"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/internal/redistest"
	"github.com/gather-crawler/gather/storage"
)

// linkSite is a site on 127.0.0.1 that counts the requests per path.
type linkSite struct {
	*httptest.Server
	mu       sync.Mutex
	requests map[string]int
}

// newLinkSite serves /index.html linking to /p1.html … /p5.html, each of
// which links to /dead.html (404) and back, and to /private.html, which
// robots.txt disallows.
func newLinkSite(t *testing.T) *linkSite {
	return countingSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /private.html\n")
		case r.URL.Path == "/index.html":
			fmt.Fprint(w, `<h1>Index</h1><a href="private.html">private</a>`)
			for i := 1; i <= 5; i++ {
				fmt.Fprintf(w, `<a href="p%d.html">p%d</a>`, i, i)
			}
		case strings.HasPrefix(r.URL.Path, "/p"):
			fmt.Fprintf(w, `<h1>Page %s</h1><a href="dead.html">dead</a><a href="index.html">up</a>`, r.URL.Path)
		default:
			http.NotFound(w, r)
		}
	})
}

// pageItems takes each page's h1.
const pageItems = `items:
  pages:
    fields:
      title: {css: h1}
`

// countingSite serves HTML with h on 127.0.0.1 and counts the requests
// per path.
func countingSite(t *testing.T, h http.HandlerFunc) *linkSite {
	s := &linkSite{requests: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		h(w, r)
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

// A scheduled shared crawl runs again and again (scaleout.Run, as
// gather schedule calls it) while one worker waits between runs: each run
// re-fetches exactly what a local run would — nothing while the pages are
// fresh, the stale pages after refresh_after but not the dead link during
// its back-off (not even as a link found again), then everything — and
// each is a run in gather_runs.
func TestShared_ScheduledRunsRefetchWhatIsDue(t *testing.T) {
	rs := redistest.Start(t)
	site := newLinkSite(t)
	dir := t.TempDir()
	cfg := gathertest.LoadConfig(t, dir, fmt.Sprintf(`database: out.db
frontier: %s
crawl:
  name: shared
  start: {urls: ["%s/index.html"]}
  max_depth: 3
  follow: [{css: "a"}]
  retries: 0
  refresh_after: 1h
  retry_gone_after: 3h
%s`, rs.URL(), site.URL, pageItems))
	runAfter := scheduled(t, cfg, time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	run := func(step string, after time.Duration, want map[string]int, wantOK int64) {
		t.Helper()
		sum, err := runAfter(after)
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

	db := gathertest.OpenDB(t, cfg.Database)
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
	// A followed link robots.txt forbids is skipped once, as in a local
	// run: no later run takes it up again.
	var status string
	var lastRun int
	if err := db.QueryRow(`SELECT status, run FROM gather_pages WHERE url = ?`, site.URL+"/private.html").Scan(&status, &lastRun); err != nil ||
		status != "skipped" || lastRun != 1 {
		t.Fatalf("the disallowed link is %s in run %d (%v), want skipped in run 1", status, lastRun, err)
	}
}

// gather seed reads sitemaps as a local crawl does (robots.txt's Sitemap
// lines with sitemaps_from_robots), the sink records each sitemap read in
// gather_pages, and a later run re-fetches a page whose <lastmod> is after
// it was stored, and not one whose <lastmod> is older, long before
// refresh_after.
func TestShared_SeedReadsSitemaps(t *testing.T) {
	rs := redistest.Start(t)
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	var lastmodA atomic.Int64
	lastmodA.Store(t0.Add(-time.Hour).UnixNano())
	var site *linkSite
	site = countingSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprintf(w, "User-agent: *\nAllow: /\nSitemap: %s/sitemap.xml\n", site.URL)
		case "/sitemap.xml":
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`+
				`<url><loc>%s/a.html</loc><lastmod>%s</lastmod></url><url><loc>%s/b.html</loc><lastmod>%s</lastmod></url></urlset>`,
				site.URL, time.Unix(0, lastmodA.Load()).UTC().Format(time.RFC3339), site.URL, t0.Add(-time.Hour).Format(time.RFC3339))
		case "/", "/a.html", "/b.html":
			fmt.Fprintf(w, "<h1>%s</h1>", r.URL.Path)
		default:
			http.NotFound(w, r)
		}
	})
	dir := t.TempDir()
	cfg := gathertest.LoadConfig(t, dir, fmt.Sprintf(`database: out.db
frontier: %s
crawl:
  name: shared
  start: {urls: ["%s/"], sitemaps_from_robots: true}
  refresh_after: 24h
%s`, rs.URL(), site.URL, pageItems))
	runAfter := scheduled(t, cfg, t0)
	run := func(step string, after time.Duration, want map[string]int) {
		t.Helper()
		sum, err := runAfter(after)
		if err != nil || sum.Status != storage.RunFinished {
			t.Fatalf("%s: %s %v", step, sum, err)
		}
		got := site.counts()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: the site served %v, want %v (%s; %s)", step, got, want, sum, sum.Seed)
		}
	}
	run("first run", 0, map[string]int{"/": 1, "/a.html": 1, "/b.html": 1, "/sitemap.xml": 1})
	db := gathertest.OpenDB(t, cfg.Database)
	var status string
	if err := db.QueryRow(`SELECT status FROM gather_pages WHERE url = ?`, site.URL+"/sitemap.xml").Scan(&status); err != nil || status != "ok" {
		t.Fatalf("the sitemap's record: %q %v, want ok", status, err)
	}
	lastmodA.Store(t0.Add(time.Hour).UnixNano())
	run("2 hours later, a.html changed after it was stored", 2*time.Hour, map[string]int{"/": 1, "/a.html": 2, "/b.html": 1, "/sitemap.xml": 2})
}

// scheduled starts a worker that waits between the runs of cfg's shared
// crawl until the test ends, and returns what runs the crawl once as
// gather schedule does (scaleout.Run), after moving the clock (at
// start to begin with) on.
func scheduled(t *testing.T, cfg *config.Config, start time.Time) func(after time.Duration) (scaleout.SinkSummary, error) {
	var clock atomic.Int64
	clock.Store(start.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	st, err := storage.Open(ctx, cfg.Database, crawler.Tables(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		st.Close()
	})
	wg.Go(func() {
		c, err := crawler.New(cfg, nil, crawler.Options{Now: now})
		if err != nil {
			t.Error(err)
			return
		}
		c.Work(ctx, open(t, cfg.Frontier, "w", 5*time.Second), crawler.WorkOptions{Wait: true})
	})
	fr := open(t, cfg.Frontier, "schedule", 5*time.Second)
	return func(after time.Duration) (scaleout.SinkSummary, error) {
		clock.Add(int64(after))
		c, err := crawler.New(cfg, nil, crawler.Options{Now: now})
		if err != nil {
			return scaleout.SinkSummary{}, err
		}
		return scaleout.Run(ctx, fr, c, st, scaleout.SinkOptions{ItemsHash: cfg.ItemsHash(), Now: now})
	}
}
