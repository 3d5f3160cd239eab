package scaleout_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/crawler/scaleout"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/frontier"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/internal/redistest"
	"github.com/gather-crawler/gather/storage"
)

// sites starts n demo sites, each its own host (port).
func sites(t *testing.T, n int, latency time.Duration) []*demo.Server {
	t.Helper()
	var out []*demo.Server
	for range n {
		s, err := demo.New(demo.Options{Latency: latency, Track: true}).Start("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out = append(out, s)
	}
	return out
}

// sharedConfig spreads the first n demo movies over the sites, as start
// URLs.
func sharedConfig(t *testing.T, dir, front string, ss []*demo.Server, n, parallelism int) string {
	var urls strings.Builder
	for i, id := range demo.IDs(n) {
		fmt.Fprintf(&urls, "      - %q\n", demo.PageURL(ss[i%len(ss)].URL, id))
	}
	return fmt.Sprintf(`database: out.db
frontier: %s
crawl:
  name: shared
  start:
    urls:
%s  parallelism: %d
  retries: 2
%s`, front, urls.String(), parallelism, gathertest.ShippedItems(t))
}

// crawlShared runs a sink and n workers (each its own Redis connection
// and collector, made with opts) on the frontier at url until the crawl is
// drained, and fails the test on any error of theirs.
func crawlShared(t *testing.T, ctx context.Context, url string, cfg *config.Config, n int, opts crawler.Options) {
	t.Helper()
	st, err := storage.Open(ctx, cfg.Database, crawler.Tables(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	wg.Go(func() {
		_, err := scaleout.Sink(ctx, open(t, url, "sink", 10*time.Second), st, scaleout.SinkOptions{ItemsHash: cfg.ItemsHash()})
		errs <- err
	})
	for i := range n {
		wg.Go(func() {
			c, err := crawler.New(cfg, nil, opts)
			if err == nil {
				_, err = c.Work(ctx, open(t, url, fmt.Sprintf("w%d", i), 10*time.Second), crawler.WorkOptions{})
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func open(t *testing.T, url, consumer string, ttl time.Duration) *frontier.Redis {
	t.Helper()
	fr, err := frontier.Open(url, frontier.Options{Job: "shared", Consumer: consumer, LeaseTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fr.Close() })
	return fr
}

// Three workers (each its own Redis connection and collector) and a sink
// crawl three hosts: the database equals the ground truth, each page was
// fetched once, and no host ever saw more requests at once than
// crawl.parallelism, across all workers.
func TestShared_ThreeWorkersAndASink(t *testing.T) {
	rs := redistest.Start(t)
	ss := sites(t, 3, 30*time.Millisecond)
	const n, parallelism = 150, 2
	dir := t.TempDir()
	cfg := gathertest.LoadConfig(t, dir, sharedConfig(t, dir, rs.URL(), ss, n, parallelism))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	seeder := open(t, rs.URL(), "seed", 5*time.Second)
	c, err := crawler.New(cfg, nil, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := scaleout.Seed(ctx, seeder, c, nil)
	if err != nil || sum.Added != n {
		t.Fatalf("seed: %+v %v", sum, err)
	}
	// Seeding again adds nothing.
	c2, _ := crawler.New(cfg, nil, crawler.Options{})
	if sum, err := scaleout.Seed(ctx, seeder, c2, nil); err != nil || sum.Added != 0 || sum.Start != n {
		t.Fatalf("seed again: %+v %v", sum, err)
	}

	crawlShared(t, ctx, rs.URL(), cfg, 3, crawler.Options{})
	db := gathertest.OpenDB(t, cfg.Database)
	if _, err := demo.Verify(ctx, db, n, false); err != nil {
		t.Fatal(err)
	}
	for i, s := range ss {
		if m := s.MaxInFlight(); m > parallelism {
			t.Errorf("site %d saw %d requests at once, want at most %d across workers", i, m, parallelism)
		}
		for path, k := range s.Counts() {
			if strings.Contains(path, "/title/") && k != 1 {
				t.Errorf("site %d: %s fetched %d times", i, path, k)
			}
		}
	}
	status, err := seeder.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if status.Queued != 0 || status.Leased != 0 || status.Results != 0 || status.Stored != n || status.Seen != n {
		t.Fatalf("status after the crawl: %+v", status)
	}
}

// Redis loses its data mid-crawl: seed --resume rebuilds the frontier from
// the database, the crawl finishes equal to the ground truth, and no page
// the database had stored is fetched again.
func TestShared_ResumeAfterRedisLostItsData(t *testing.T) {
	rs := redistest.Start(t)
	ss := sites(t, 2, 20*time.Millisecond)
	const n, parallelism = 120, 2
	dir := t.TempDir()
	cfg := gathertest.LoadConfig(t, dir, sharedConfig(t, dir, rs.URL(), ss, n, parallelism))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := storage.Open(ctx, cfg.Database, crawler.Tables(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	newCrawler := func() *crawler.Crawler {
		c, err := crawler.New(cfg, nil, crawler.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// crawl runs a sink and a worker until stop says so (or the end).
	crawl := func(stop func() bool) {
		cctx, ccancel := context.WithCancel(ctx)
		defer ccancel()
		var wg sync.WaitGroup
		wg.Go(func() {
			scaleout.Sink(cctx, open(t, rs.URL(), "sink", 5*time.Second), st, scaleout.SinkOptions{ItemsHash: cfg.ItemsHash()})
		})
		wg.Go(func() {
			newCrawler().Work(cctx, open(t, rs.URL(), "w", 5*time.Second), crawler.WorkOptions{})
		})
		done := make(chan struct{})
		go func() {
			wg.Wait()
			close(done)
		}()
		for !stop() {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		ccancel()
		<-done
	}
	fr := open(t, rs.URL(), "seed", 5*time.Second)
	if _, err := scaleout.Seed(ctx, fr, newCrawler(), nil); err != nil {
		t.Fatal(err)
	}
	storedOK := func() []string {
		urls, _, err := st.StoredPages(ctx, "shared", 0, n+1)
		if err != nil {
			t.Fatal(err)
		}
		return urls
	}
	crawl(func() bool { return len(storedOK()) >= 40 })
	before := storedOK()
	if len(before) >= n {
		t.Fatalf("the first part stored all %d pages; nothing left to resume", len(before))
	}
	fetchedBefore := map[string]int{}
	for _, s := range ss {
		for path, k := range s.Counts() {
			fetchedBefore[s.URL+path] = k
		}
	}

	if err := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", rs.Port)}).FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	sum, err := scaleout.Seed(ctx, fr, newCrawler(), st)
	if err != nil || sum.Stored != int64(len(before)) || sum.Added != int64(n-len(before)) {
		t.Fatalf("seed --resume over %d stored pages: %+v %v", len(before), sum, err)
	}
	crawl(func() bool { return false })

	if _, err := demo.Verify(ctx, gathertest.OpenDB(t, cfg.Database), n, false); err != nil {
		t.Fatal(err)
	}
	for _, u := range before {
		var s *demo.Server
		for _, site := range ss {
			if strings.HasPrefix(u, site.URL) {
				s = site
			}
		}
		path := strings.TrimPrefix(u, s.URL)
		if k := s.Count(path); k != fetchedBefore[u] {
			t.Errorf("%s was stored before Redis lost its data, and fetched again (%d times, %d before)", u, k, fetchedBefore[u])
		}
	}
}

// An outcome the sink cannot read (as from a worker of another version of
// gather): its page is recorded failed, saying why, instead of staying
// leased to be fetched again and again; the run drains, and the other
// pages land.
func TestShared_UnreadableOutcomeIsRecordedFailed(t *testing.T) {
	rs := redistest.Start(t)
	ss := sites(t, 1, 0)
	const n = 6
	dir := t.TempDir()
	cfg := gathertest.LoadConfig(t, dir, sharedConfig(t, dir, rs.URL(), ss, n, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := crawler.New(cfg, nil, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := scaleout.Seed(ctx, open(t, rs.URL(), "seed", 5*time.Second), c, nil); err != nil || sum.Added != n {
		t.Fatalf("seed: %+v %v", sum, err)
	}
	other := open(t, rs.URL(), "other-version", 5*time.Second)
	tasks, err := other.Lease(ctx, 1)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("lease: %v %v", tasks, err)
	}
	ropts, err := redis.ParseURL(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropts)
	defer rdb.Close()
	if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: "gather:shared:results", Values: []any{"q", tasks[0].ID, "p", `{"format": 99, "pag`}}).Err(); err != nil {
		t.Fatal(err)
	}
	other.Close()

	crawlShared(t, ctx, rs.URL(), cfg, 1, crawler.Options{})
	db := gathertest.OpenDB(t, cfg.Database)
	got := gathertest.QueryString(t, db, "SELECT status || ': ' || error FROM gather_pages WHERE url = ?", tasks[0].URL)
	if !strings.HasPrefix(got, "failed: the sink could not read the worker's outcome (another version of gather?): ") {
		t.Errorf("the unreadable page: %q", got)
	}
	if ok := gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_pages WHERE status = 'ok'"); ok != n-1 {
		t.Errorf("%d pages ok, want the %d others", ok, n-1)
	}
	if k := ss[0].Counts()[strings.TrimPrefix(tasks[0].URL, ss[0].URL)]; k != 0 {
		t.Errorf("the unreadable page was fetched %d times by this version's worker, want 0 (it is over for this run)", k)
	}
}
