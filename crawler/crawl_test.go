package crawler_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/storage"
)

// Two hosts, parallelism 4: each host sees exactly 4 requests in flight at
// its peak (reached, never exceeded), every page is fetched once, and the
// database equals the site's ground truth row for row.
func TestCrawl_PerHostParallelismAndGroundTruth(t *testing.T) {
	opts := demo.Options{Latency: 40 * time.Millisecond, Track: true}
	a := startSite(t, "127.0.0.1:0", opts)
	b := startSite(t, "127.0.0.2:0", opts)
	var urls []string
	for i := 1; i <= 120; i++ {
		srv := a
		if i > 60 {
			srv = b
		}
		urls = append(urls, fmt.Sprintf("%q", demo.PageURL(srv.URL, demo.ID(i))))
	}
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: two-hosts
  start:
    urls: [%s]
  parallelism: 4
  timeout: 10s
`, strings.Join(urls, ", ")))
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.PagesOK != 120 || sum.Counts.PagesFailed != 0 || sum.Status != storage.RunFinished {
		t.Fatalf("summary: %v", sum)
	}
	for _, s := range []*demo.Server{a, b} {
		if got := s.MaxInFlight(); got != 4 {
			t.Errorf("%s: max requests in flight = %d, want exactly 4 (the per-host parallelism)", s.Host(), got)
		}
		for path, n := range s.Counts() {
			if n != 1 {
				t.Errorf("%s%s fetched %d times, want once", s.Host(), path, n)
			}
		}
		if n := len(s.Counts()); n != 61 { // 60 pages and robots.txt
			t.Errorf("%s: %d distinct paths requested, want 61", s.Host(), n)
		}
	}
	db := gathertest.OpenDB(t, cfg.Database)
	report, err := demo.Verify(context.Background(), db, 120, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(report)
	if n := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE status = 'ok' AND attempts = 1 AND run = ?", sum.Run); n != 120 {
		t.Errorf("gather_pages: %d ok pages after one attempt, want 120", n)
	}
	if st := queryString(t, db, "SELECT status FROM gather_runs WHERE id = ?", sum.Run); st != "finished" {
		t.Errorf("run status %q", st)
	}
}

// A long id list is streamed: goroutines stay bounded by the window, not by
// the number of ids.
func TestCrawl_StreamsIDsWithBoundedGoroutines(t *testing.T) {
	site := startSite(t, "", demo.Options{})
	ids := gathertest.WriteIDs(t, 1, 1000)
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: many
  start:
    url_template: %q
    ids_file: %s
  parallelism: 8
`, demo.PageURL(site.URL, "{id}"), ids))
	var peak int
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				mu.Lock()
				peak = max(peak, runtime.NumGoroutine())
				mu.Unlock()
			}
		}
	}()
	sum, err := crawl(t, cfg, crawler.Options{})
	close(stop)
	wg.Wait()
	if err != nil || sum.Counts.PagesOK != 1000 {
		t.Fatalf("summary %v, err %v", sum, err)
	}
	if peak > 150 {
		t.Errorf("peak goroutines %d while crawling 1000 ids at parallelism 8; the feed is not bounded", peak)
	}
	t.Logf("peak goroutines: %d", peak)
}

// A run stopped by --limit leaves the rest for the next run, which fetches
// only what is missing; duplicates in the id list are fetched once.
func TestCrawl_ResumeFetchesOnlyWhatIsMissing(t *testing.T) {
	site := startSite(t, "", demo.Options{Track: true})
	ids := gathertest.WriteIDs(t, 1, 200)
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: resume
  start:
    url_template: %q
    ids: [tt0000005, tt0000005, tt0000007]
    ids_file: %s
  parallelism: 8
`, demo.PageURL(site.URL, "{id}"), ids))
	first, err := crawl(t, cfg, crawler.Options{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if first.Counts.PagesOK != 50 || first.NotReached != 150 || !strings.Contains(first.String(), "150 still to fetch") {
		t.Fatalf("first run: %v; want 50 ok and the 150 start entries it never reached still to fetch", first)
	}
	second, err := crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 53 start entries name the 50 pages stored: tt0000005 (twice) and
	// tt0000007 from the ids list are among those of the id file.
	if second.Counts.PagesOK != 150 || second.Already != 50 || second.NotReached != 0 {
		t.Errorf("second run: %v; want 150 ok and 50 already stored", second)
	}
	for path, n := range site.Counts() {
		if n != 1 && path != "/robots.txt" {
			t.Errorf("%s fetched %d times", path, n)
		}
	}
	third, err := crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if third.Counts.PagesOK != 0 || third.Already != 200 {
		t.Errorf("third run: %v; want nothing fetched", third)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	if _, err := demo.Verify(context.Background(), db, 200, false); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM gather_runs WHERE status = 'finished'"); n != 3 {
		t.Errorf("%d finished runs, want 3", n)
	}
}

// The classic layout, through CSS and XPath, stores the same ground truth.
func TestCrawl_ClassicLayout(t *testing.T) {
	site := startSite(t, "", demo.Options{})
	ids := gathertest.WriteIDs(t, 1, 40)
	cfg := testConfigWithItems(t, fmt.Sprintf(`crawl:
  name: classic
  start:
    url_template: %q
    ids_file: %s
`, demo.ClassicURL(site.URL, "{id}"), ids), gathertest.ClassicItems(t))
	if _, err := crawl(t, cfg, crawler.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Verify(context.Background(), gathertest.OpenDB(t, cfg.Database), 40, true); err != nil {
		t.Fatal(err)
	}
}

// Queries run while a crawl writes the same file: no "database is locked",
// and each query sees a consistent snapshot (a movie's cast is all there or
// not at all).
func TestCrawl_QueryWhileWriting(t *testing.T) {
	site := startSite(t, "", demo.Options{Latency: 20 * time.Millisecond})
	ids := gathertest.WriteIDs(t, 1, 300)
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: concurrent
  start:
    url_template: %q
    ids_file: %s
  parallelism: 8
`, demo.PageURL(site.URL, "{id}"), ids))
	// The crawl creates the schema; wait for the file before reading.
	done := make(chan error, 1)
	go func() {
		_, err := crawl(t, cfg, crawler.Options{BatchOps: 4})
		done <- err
	}()
	want := demo.Expected(demo.IDs(300), false, nil)
	perMovie := map[string]int{}
	for k := range want["cast"] {
		perMovie[strings.SplitN(k, "|", 2)[0]]++
	}
	var reader *storage.Reader
	queries, last := 0, int64(0)
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		case <-time.After(5 * time.Millisecond):
		}
		if reader == nil {
			r, err := storage.OpenReader(context.Background(), cfg.Database)
			if err != nil {
				continue // not created yet
			}
			reader = r
			defer r.Close()
		}
		// Cast counted per page first: joined row by row, with no index on
		// _url, a query took over a second under the race detector, and
		// too few ran during the crawl.
		rows, err := reader.Query(context.Background(), `SELECT p.url, coalesce(c.n, 0) FROM gather_pages p
			LEFT JOIN (SELECT _url, count(person_id) AS n FROM "cast" GROUP BY _url) c ON c._url = p.url WHERE p.status = 'ok'`)
		if err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue
			}
			t.Fatalf("query %d: %v", queries, err)
		}
		var n int64
		for rows.Next() {
			var url string
			var cast int
			if err := rows.Scan(&url, &cast); err != nil {
				t.Fatal(err)
			}
			id := url[strings.Index(url, "/title/")+7 : strings.Index(url, "/fullcredits")]
			if cast != perMovie[id] {
				t.Errorf("snapshot shows %s ok with %d cast rows, want %d", id, cast, perMovie[id])
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("query %d: %v", queries, err)
		}
		rows.Close()
		if n < last {
			t.Errorf("ok pages went from %d to %d", last, n)
		}
		last = n
		queries++
	}
	if last != 300 || queries < 10 {
		t.Errorf("%d queries, last saw %d ok pages", queries, last)
	}
	t.Logf("%d queries during the crawl", queries)
}

// allowed_domains are matched without regard to case, and New leaves the
// caller's config as it was.
func TestNew_LeavesTheConfigAlone(t *testing.T) {
	site := startSite(t, "", demo.Options{})
	host := strings.TrimPrefix(site.URL, "http://")
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: case
  start:
    urls: [%q]
  allowed_domains: [LOCALHOST, "127.0.0.1"]
`, demo.PageURL("http://"+host, demo.ID(1))))
	before := slices.Clone(cfg.Crawl.AllowedDomains)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil || sum.Counts.PagesOK != 1 {
		t.Fatalf("%v: %v", sum, err)
	}
	if !slices.Equal(cfg.Crawl.AllowedDomains, before) {
		t.Errorf("allowed_domains changed from %v to %v", before, cfg.Crawl.AllowedDomains)
	}
}
