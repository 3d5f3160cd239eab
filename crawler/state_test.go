package crawler_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/storage"
)

// linkSite serves /index.html linking to /p1.html … /pN.html, each of
// which links to /dead.html (404) and back to the index. version changes
// what the pages say.
type linkSite struct {
	*httptest.Server
	version  atomic.Int64
	mu       sync.Mutex
	requests map[string]int
}

func newLinkSite(t *testing.T, pages int) *linkSite {
	s := &linkSite{requests: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		v := s.version.Load()
		w.Header().Set("Content-Type", "text/html")
		switch {
		case r.URL.Path == "/index.html":
			fmt.Fprintf(w, "<h1>Index v%d</h1>", v)
			for i := 1; i <= pages; i++ {
				fmt.Fprintf(w, `<a href="p%d.html">p%d</a>`, i, i)
			}
		case strings.HasPrefix(r.URL.Path, "/p") && r.URL.Path != "/p0.html":
			fmt.Fprintf(w, `<h1>Page %s v%d</h1><a href="dead.html">dead</a><a href="index.html">up</a>`, r.URL.Path, v)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *linkSite) fetches(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.requests[path]
	delete(s.requests, path)
	return n
}

func linkConfig(t *testing.T, s *linkSite, extra string) string {
	return fmt.Sprintf(`crawl:
  name: links
  start: {urls: ["%s/index.html"]}
  max_depth: 3
  follow: [{css: "a"}]
  retries: 0
%s`, s.URL, extra)
}

const linkItems = `items:
  pages:
    fields:
      title: {css: h1}
`

// clock is a settable wall clock for runs that happen days apart.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }

// A dead link reached from many pages stays failed after every run, is
// retried on the documented back-off across runs (404: retry_gone_after,
// doubled per failed run, given up after retry_failed_runs), and never
// makes a run fail.
func TestCrawl_DeadLinkAcrossRuns(t *testing.T) {
	site := newLinkSite(t, 5)
	cfg := testConfigWithItems(t, linkConfig(t, site, "  retry_gone_after: 24h\n  retry_failed_runs: 3\n"), linkItems)
	clk := &clock{}
	clk.t.Store(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC).UnixNano())
	opts := crawler.Options{Now: clk.now}
	db := gathertest.OpenDB(t, cfg.Database)
	deadURL := site.URL + "/dead.html"
	check := func(step string, wantFetches int, wantFailRuns int64) crawler.Summary {
		t.Helper()
		sum, err := crawl(t, cfg, opts)
		if err != nil || sum.Status != storage.RunFinished {
			t.Fatalf("%s: summary %v, err %v", step, sum, err)
		}
		if n := site.fetches("/dead.html"); n != wantFetches {
			t.Errorf("%s: dead.html fetched %d times, want %d", step, n, wantFetches)
		}
		if st := queryString(t, db, "SELECT status || ' ' || fail_runs || ' ' || error FROM gather_pages WHERE url = ?", deadURL); st != fmt.Sprintf("failed %d HTTP 404 Not Found", wantFailRuns) {
			t.Errorf("%s: dead.html is %q in gather_pages", step, st)
		}
		if n := queryInt(t, db, "SELECT count(*) FROM gather_failures WHERE url = ?", deadURL); n != 1 {
			t.Errorf("%s: dead.html in gather_failures %d times", step, n)
		}
		if st := queryString(t, db, "SELECT status FROM gather_runs WHERE id = ?", sum.Run); st != "finished" {
			t.Errorf("%s: run recorded %q", step, st)
		}
		return sum
	}
	sum := check("first run", 1, 1)
	if sum.Counts.PagesOK != 6 || sum.Counts.PagesFailed != 1 {
		t.Errorf("first run: %v", sum)
	}
	clk.advance(time.Minute)
	if sum := check("a minute later", 0, 1); sum.Deferred != 1 || !strings.Contains(sum.String(), "1 failed before and not due for a retry yet") {
		t.Errorf("a minute later: %v", sum)
	}
	clk.advance(24 * time.Hour)
	check("a day later: retried, its only page, and the run still finishes", 1, 2)
	clk.advance(25 * time.Hour)
	check("25h later: the back-off doubled to 48h", 0, 2)
	clk.advance(24 * time.Hour)
	check("49h after the retry", 1, 3)
	clk.advance(1000 * time.Hour)
	if sum := check("failed in 3 runs: given up", 0, 3); sum.GivenUp != 1 {
		t.Errorf("given up: %v", sum)
	}
}

// A transient failure of a page no run has seen before does fail the
// run when it is all the run did; the same page failing again in later
// runs does not.
func TestCrawl_RunFailsOnlyOnNewFailures(t *testing.T) {
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "<h1>up</h1>")
	}))
	defer srv.Close()
	cfg := testConfigWithItems(t, fmt.Sprintf("crawl:\n  name: down\n  start: {urls: [%q]}\n  retries: 0\n  robots_txt: false\n", srv.URL+"/a.html"), linkItems)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err == nil || sum.Status != storage.RunFailed {
		t.Fatalf("a run whose every new page failed: %v, %v", sum, err)
	}
	sum, err = crawl(t, cfg, crawler.Options{})
	if err != nil || sum.Status != storage.RunFinished || sum.Counts.PagesFailed != 1 {
		t.Fatalf("the same page failing again: %v, %v", sum, err)
	}
	up.Store(true)
	if sum, err = crawl(t, cfg, crawler.Options{}); err != nil || sum.Counts.PagesOK != 1 {
		t.Fatalf("back up: %v, %v", sum, err)
	}
}

// With refresh_after, a re-run fetches the followed pages again, not just
// the start page, and records what changed; without it, it fetches
// nothing.
func TestCrawl_FollowedPagesRefresh(t *testing.T) {
	for _, refresh := range []bool{false, true} {
		t.Run(fmt.Sprintf("refresh=%v", refresh), func(t *testing.T) {
			site := newLinkSite(t, 3)
			extra := ""
			if refresh {
				extra = "  refresh_after: 1h\n"
			}
			cfg := testConfigWithItems(t, linkConfig(t, site, extra), linkItems)
			clk := &clock{}
			clk.t.Store(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC).UnixNano())
			opts := crawler.Options{Now: clk.now}
			if sum, err := crawl(t, cfg, opts); err != nil || sum.Counts.PagesOK != 4 {
				t.Fatalf("first run: %v, %v", sum, err)
			}
			site.version.Store(1)
			clk.advance(2 * time.Hour)
			sum, err := crawl(t, cfg, opts)
			if err != nil {
				t.Fatal(err)
			}
			db := gathertest.OpenDB(t, cfg.Database)
			title := queryString(t, db, "SELECT title FROM pages WHERE _url = ?", site.URL+"/p2.html")
			changed := queryInt(t, db, "SELECT count(DISTINCT url) FROM gather_changes WHERE run = ?", sum.Run)
			if refresh {
				if sum.Counts.PagesOK != 4 || title != "Page /p2.html v1" || changed != 4 {
					t.Errorf("refresh: %v; p2 title %q; %d pages with changes recorded, want 4", sum, title, changed)
				}
			} else if sum.Counts.PagesOK != 0 || title != "Page /p2.html v0" || changed != 0 {
				t.Errorf("no refresh: %v; p2 title %q; %d changes", sum, title, changed)
			}
		})
	}
}

// On a follow crawl the progress total grows with the pages discovered,
// and "in flight" counts requests on the wire (at most parallelism per
// host), not pages waiting in the window.
func TestCrawl_StatsOnAFollowCrawl(t *testing.T) {
	site := newLinkSite(t, 20)
	cfg := testConfigWithItems(t, linkConfig(t, site, "  parallelism: 2\n  robots_txt: false\n"), linkItems)
	store, err := storage.Open(context.Background(), cfg.Database, crawler.Tables(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := crawler.New(cfg, store, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var maxWire, maxTotal int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			s := c.Stats()
			maxWire, maxTotal = max(maxWire, s.InFlight), max(maxTotal, s.Total)
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	sum, err := c.Run(context.Background())
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	s := c.Stats()
	// index, 20 pages, dead.html
	if s.Total != 22 || s.Done != 22 || s.Queued() != 0 || sum.Counts.Discovered != 21 {
		t.Errorf("final stats: total %d, done %d, queued %d; discovered %d", s.Total, s.Done, s.Queued(), sum.Counts.Discovered)
	}
	if maxWire > 2 {
		t.Errorf("%d requests seen in flight at parallelism 2", maxWire)
	}
	if !strings.Contains(sum.String(), "21 discovered") {
		t.Errorf("summary: %s", sum)
	}
}

// portFarm serves pages pages on each of servers ports, each answer after
// 30ms, and counts the requests in flight at once, in all and per port.
type portFarm struct {
	urls []string // quoted, for a YAML list

	inFlight, peak atomic.Int64
	mu             sync.Mutex
	hostNow        map[string]int
	hostPeak       map[string]int
}

func newPortFarm(t *testing.T, servers, pages int) *portFarm {
	f := &portFarm{hostNow: map[string]int{}, hostPeak: map[string]int{}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		for p := f.peak.Load(); n > p && !f.peak.CompareAndSwap(p, n); p = f.peak.Load() {
		}
		f.mu.Lock()
		f.hostNow[r.Host]++
		f.hostPeak[r.Host] = max(f.hostPeak[r.Host], f.hostNow[r.Host])
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.hostNow[r.Host]--
			f.mu.Unlock()
		}()
		time.Sleep(30 * time.Millisecond)
		fmt.Fprint(w, "<h1>x</h1>")
	})
	for i := 0; i < servers; i++ {
		srv := httptest.NewServer(handler)
		t.Cleanup(srv.Close)
		for p := 0; p < pages; p++ {
			f.urls = append(f.urls, fmt.Sprintf("%q", fmt.Sprintf("%s/p%d", srv.URL, p)))
		}
	}
	return f
}

// Parallelism is per host:port, and so is the window that feeds it: ten
// servers on the ports of one address each get their parallelism, not a
// tenth of one host's window.
func TestCrawl_WindowPerHostPort(t *testing.T) {
	const servers, pages, parallelism = 10, 8, 2
	f := newPortFarm(t, servers, pages)
	cfg := testConfigWithItems(t, fmt.Sprintf("crawl:\n  name: ports\n  start: {urls: [%s]}\n  parallelism: %d\n  robots_txt: false\n",
		strings.Join(f.urls, ", "), parallelism), linkItems)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil || sum.Counts.PagesOK != servers*pages {
		t.Fatalf("%v, %v", sum, err)
	}
	// The window (4 × parallelism × hosts) lets every port have its
	// parallelism in flight at once; sized for one host name it held 8.
	if got := f.peak.Load(); got < servers*parallelism*3/4 {
		t.Errorf("peak %d requests in flight over %d ports at parallelism %d, want about %d", got, servers, parallelism, servers*parallelism)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for host, n := range f.hostPeak {
		if n > parallelism {
			t.Errorf("%s had %d requests at once, over its parallelism %d", host, n, parallelism)
		}
	}
}

// crawl.concurrency caps the pages in progress in the process whatever
// their hosts: 10 ports at parallelism 2 could take 20 requests at once,
// and get 5.
func TestCrawl_ConcurrencyCapsTheProcess(t *testing.T) {
	const servers, pages, concurrency = 10, 6, 5
	f := newPortFarm(t, servers, pages)
	cfg := testConfigWithItems(t, fmt.Sprintf("crawl:\n  name: capped\n  start: {urls: [%s]}\n  parallelism: 2\n  concurrency: %d\n  robots_txt: false\n",
		strings.Join(f.urls, ", "), concurrency), linkItems)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil || sum.Counts.PagesOK != servers*pages {
		t.Fatalf("%v, %v", sum, err)
	}
	if got := f.peak.Load(); got > concurrency || got < 2 {
		t.Errorf("peak %d requests in flight at concurrency %d", got, concurrency)
	}
}

// A redirect's next hop takes a slot of the host it goes to; at
// parallelism 1 the hop must not wait for the slot its own first request
// holds (the client closes a redirect's body before the next hop).
func TestCrawl_RedirectsAtParallelismOne(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/old/") {
			http.Redirect(w, r, "/mid/"+strings.TrimPrefix(r.URL.Path, "/old/"), http.StatusMovedPermanently)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/mid/") {
			http.Redirect(w, r, "/new/"+strings.TrimPrefix(r.URL.Path, "/mid/"), http.StatusFound)
			return
		}
		fmt.Fprintf(w, "<h1>%s</h1>", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	var urls []string
	for p := range 5 {
		urls = append(urls, fmt.Sprintf("%q", fmt.Sprintf("%s/old/%d", srv.URL, p)))
	}
	cfg := testConfigWithItems(t, fmt.Sprintf("crawl:\n  name: moved\n  start: {urls: [%s]}\n  parallelism: 1\n  delay: 10ms\n  robots_txt: false\n",
		strings.Join(urls, ", ")), linkItems)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil || sum.Counts.PagesOK != 5 {
		t.Fatalf("%v, %v", sum, err)
	}
}

// Two jobs on one database crawling the same URLs each fetch them and
// store their own items: a job's pages, row keys and history never touch
// the other's.
func TestCrawl_JobsShareADatabase(t *testing.T) {
	site := newLinkSite(t, 2)
	dir := t.TempDir()
	db := filepath.Join(dir, "shared.db")
	cfgA := gathertest.LoadConfig(t, dir, "database: "+db+"\n"+strings.Replace(linkConfig(t, site, "  robots_txt: false\n"), "name: links", "name: job_a", 1)+"\n"+linkItems)
	cfgB := gathertest.LoadConfig(t, dir, "database: "+db+"\n"+strings.Replace(linkConfig(t, site, "  robots_txt: false\n"), "name: links", "name: job_b", 1)+`
items:
  headings:
    fields:
      text: {css: h1}
`)
	for _, cfg := range []*config.Config{cfgA, cfgB} {
		sum, err := crawl(t, cfg, crawler.Options{})
		if err != nil || sum.Counts.PagesOK != 3 || sum.Already != 0 {
			t.Fatalf("%s: %v, %v", cfg.Crawl.Name, sum, err)
		}
	}
	d := gathertest.OpenDB(t, db)
	if a, b := queryInt(t, d, "SELECT count(*) FROM pages"), queryInt(t, d, "SELECT count(*) FROM headings"); a != 3 || b != 3 {
		t.Errorf("pages %d rows, headings %d rows; want 3 each", a, b)
	}
	if n := queryInt(t, d, "SELECT count(*) FROM gather_pages WHERE url = ?", site.URL+"/index.html"); n != 2 {
		t.Errorf("index.html has %d page records, want one per job", n)
	}
	if n := queryInt(t, d, "SELECT count(*) FROM gather_failures WHERE url = ? AND job = 'job_b'", site.URL+"/dead.html"); n != 1 {
		t.Errorf("job_b's dead link: %d failure records", n)
	}
	// A re-run of job A finds its own pages stored, whatever B did.
	if sum, err := crawl(t, cfgA, crawler.Options{}); err != nil || sum.Counts.PagesOK != 0 || sum.Already != 3 {
		t.Errorf("job_a again: %v, %v", sum, err)
	}
}

// When the items of a config change, the pages stored under the older
// items are fetched again, followed pages included, so a field added
// fills in everywhere; an unchanged config fetches nothing.
func TestCrawl_ItemsChangedRefetches(t *testing.T) {
	site := newLinkSite(t, 3)
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	crawlYAML := "database: " + db + "\n" + linkConfig(t, site, "  robots_txt: false\n") + "\n"
	cfg := gathertest.LoadConfig(t, dir, crawlYAML+linkItems)
	if sum, err := crawl(t, cfg, crawler.Options{}); err != nil || sum.Counts.PagesOK != 4 {
		t.Fatalf("first run: %v, %v", sum, err)
	}
	if sum, err := crawl(t, cfg, crawler.Options{}); err != nil || sum.Counts.PagesOK != 0 {
		t.Fatalf("same items: %v, %v", sum, err)
	}
	more := gathertest.LoadConfig(t, dir, crawlYAML+linkItems+"      links: {css: a, all: true}\n")
	sum, err := crawl(t, more, crawler.Options{})
	if err != nil || sum.Counts.PagesOK != 4 {
		t.Fatalf("a field added: %v, %v; want the 4 stored pages fetched again", sum, err)
	}
	d := gathertest.OpenDB(t, db)
	if n := queryInt(t, d, "SELECT count(*) FROM pages WHERE links IS NULL"); n != 0 {
		t.Errorf("%d rows lack the new field", n)
	}
	if sum, err := crawl(t, more, crawler.Options{}); err != nil || sum.Counts.PagesOK != 0 {
		t.Errorf("again with the same new items: %v, %v", sum, err)
	}
}
