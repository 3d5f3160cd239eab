package scaleout_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/crawler/scaleout"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/frontier"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/internal/redistest"
	"github.com/gather-crawler/gather/storage"
)

// Chaos: a shared crawl (a sink and workers in this process, each with
// its own Redis connection) while a real redis-server is stopped, killed,
// frozen or restored from its snapshot. Each ends with the ground truth
// exact, no page failed (the demo sites fail none), the run's record
// equal to what was stored, and every part of the crawl ended by itself
// within a bound.

// chaos is one such crawl.
type chaos struct {
	t     *testing.T
	rs    *redistest.Server
	sites []*demo.Server
	cfg   *config.Config
	n     int
	lease time.Duration
	st    *storage.Store
	// bound is how long the crawl may take (the const bound unless set
	// before start); ctx ends then.
	bound time.Duration
	ctx   context.Context

	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
	// ended is closed once the sink and every worker returned.
	ended chan struct{}
	sink  scaleout.SinkSummary
	sums  []crawler.Summary
	fr    *frontier.Redis // the sink's
	// log is what the sink and the workers said, shown on failure.
	log *slog.Logger
	buf *gathertest.Buffer
}

// open is open with the chaos crawl's log.
func (c *chaos) open(consumer string) *frontier.Redis {
	fr, err := frontier.Open(c.rs.URL(), frontier.Options{Job: "shared", Consumer: consumer, LeaseTTL: c.lease, Logger: c.log.With("who", consumer)})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { fr.Close() })
	return fr
}

// bound is how long a chaos crawl may take, faults included: past it the
// crawl is taken for hung.
const bound = 90 * time.Second

func newChaos(t *testing.T, p redistest.Persistence, n int, latency, lease time.Duration) *chaos {
	t.Helper()
	if testing.Short() {
		t.Skip("chaos: faults injected into a real redis-server")
	}
	c := &chaos{t: t, rs: redistest.StartWith(t, p), sites: sites(t, 3, latency), n: n, lease: lease, bound: bound, ended: make(chan struct{}), buf: &gathertest.Buffer{}}
	c.log = slog.New(slog.NewTextHandler(c.buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the crawl said:\n%s", c.buf)
		}
	})
	dir := t.TempDir()
	c.cfg = gathertest.LoadConfig(t, dir, sharedConfig(t, dir, c.rs.URL(), c.sites, n, 2))
	return c
}

// start seeds the crawl and starts a sink and workers workers, until bound.
func (c *chaos) start(workers int) {
	c.t.Helper()
	c.startWorkers(workers)
	c.startSink()
}

// startSink starts the sink of a crawl startWorkers began.
func (c *chaos) startSink() {
	c.wg.Go(func() {
		sum, err := scaleout.Sink(c.ctx, c.fr, c.st, scaleout.SinkOptions{ItemsHash: c.cfg.ItemsHash(), Crawler: c.crawler(), Retry: 50 * time.Millisecond, Logger: c.log.With("who", "sink")})
		c.ended1("sink", c.ctx, err)
		c.mu.Lock()
		c.sink = sum
		c.mu.Unlock()
	})
}

// startWorkers seeds the crawl and starts workers workers, until bound;
// the crawl ends once startSink has started its sink.
func (c *chaos) startWorkers(workers int) {
	t := c.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.bound)
	t.Cleanup(cancel)
	c.ctx = ctx
	st, err := storage.Open(ctx, c.cfg.Database, crawler.Tables(c.cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c.st = st
	if _, err := scaleout.Seed(ctx, open(t, c.rs.URL(), "seed", c.lease), c.crawler(), nil); err != nil {
		t.Fatal(err)
	}
	c.fr = c.open("sink")
	for i := range workers {
		c.wg.Go(func() {
			name := fmt.Sprintf("w%d", i)
			sum, err := c.crawler(name).Work(ctx, c.open(name), crawler.WorkOptions{Retry: 50 * time.Millisecond})
			c.ended1(fmt.Sprintf("worker w%d", i), ctx, err)
			c.mu.Lock()
			c.sums = append(c.sums, sum)
			c.mu.Unlock()
		})
	}
	go func() {
		c.wg.Wait()
		close(c.ended)
	}()
	// A crawl that hangs is told by where it waits: every goroutine's
	// stack goes to the log, shown on failure, just before the bound.
	hung := time.AfterFunc(c.bound-2*time.Second, func() {
		select {
		case <-c.ended:
			return
		default:
		}
		buf := make([]byte, 8<<20)
		fmt.Fprintf(c.buf, "the crawl has not ended after %s; every goroutine:\n%s\n", c.bound-2*time.Second, buf[:runtime.Stack(buf, true)])
	})
	t.Cleanup(func() { hung.Stop() })
	t.Cleanup(func() {
		cancel()
		<-c.ended
	})
}

func (c *chaos) crawler(who ...string) *crawler.Crawler {
	cr, err := crawler.New(c.cfg, nil, crawler.Options{Logger: c.log.With("who", strings.Join(who, ""))})
	if err != nil {
		c.t.Fatal(err)
	}
	return cr
}

func (c *chaos) ended1(who string, ctx context.Context, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ctx.Err() != nil {
		c.errs = append(c.errs, fmt.Errorf("%s did not end by itself within %s", who, c.bound))
	} else if err != nil {
		c.errs = append(c.errs, fmt.Errorf("%s: %w", who, err))
	}
}

// stored is how many pages the database holds as ok.
func (c *chaos) stored() int {
	urls, _, err := c.st.StoredPages(context.Background(), "shared", 0, 10*c.n)
	if err != nil {
		c.t.Fatal(err)
	}
	return len(urls)
}

// waitStored waits until at least k pages are stored, or the crawl ends.
func (c *chaos) waitStored(k int) {
	c.t.Helper()
	for c.stored() < k {
		select {
		case <-c.ended:
			c.t.Fatalf("the crawl ended with %d pages stored, before %d", c.stored(), k)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// check waits for the crawl to end and holds it to the ground truth.
func (c *chaos) check() {
	t := c.t
	t.Helper()
	<-c.ended
	for _, err := range c.errs {
		t.Error(err)
	}
	if t.Failed() {
		st, err := c.fr.Status(context.Background())
		t.Logf("the frontier's status: %+v %v", st, err)
		t.FailNow()
	}
	db := gathertest.OpenDB(t, c.cfg.Database)
	if got := gathertest.QueryString(t, db, "PRAGMA integrity_check"); got != "ok" {
		t.Fatalf("integrity_check: %s", got)
	}
	if _, err := demo.Verify(context.Background(), db, c.n, false); err != nil {
		t.Fatal(err)
	}
	for _, f := range gathertest.QueryStrings(t, db, "SELECT url || ': ' || coalesce(error, '') FROM gather_pages WHERE status <> 'ok'") {
		t.Errorf("not ok, though its site failed nothing: %s", f)
	}
	ok := gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_pages WHERE status = 'ok'")
	if got := gathertest.QueryString(t, db, "SELECT group_concat(status || ' ' || pages_ok || ' ok ' || pages_failed || ' failed', ', ') FROM gather_runs"); got != fmt.Sprintf("finished %d ok 0 failed", ok) {
		t.Errorf("gather_runs: %s; the database holds %d pages ok", got, ok)
	}
	t.Logf("sink: %s", c.sink)
}

// A Redis stopped for 3 s mid-crawl (as a service restart with a pause
// does): the pages wait for it, none fails, and none is blamed on its
// site; the workers say so, and gather status counts the wait.
func TestChaos_RedisOutageMakesPagesWait(t *testing.T) {
	c := newChaos(t, redistest.Snapshots, 120, 40*time.Millisecond, 10*time.Second)
	c.start(2)
	c.waitStored(30)
	c.rs.Stop() // SIGTERM: saves its snapshot, so nothing is lost
	time.Sleep(3 * time.Second)
	c.rs.StartAgain(t)
	c.check()
	// Each worker reports its waits (status, /metrics) until it closes.
	for deadline := time.Now().Add(3 * c.lease); ; time.Sleep(100 * time.Millisecond) {
		st, err := c.fr.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var outages int64
		var waited time.Duration
		for _, w := range st.Workers {
			outages += w.Outages
			waited += w.Waited
		}
		if outages > 0 && waited >= time.Second {
			t.Logf("the workers say: %d outages, %s waited", outages, waited)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gather status says no worker waited for the frontier: %+v", st.Workers)
		}
	}
}

// Redis killed and restarted on its RDB snapshot, taken a while before:
// it went back in time (outcomes handed over and stored since are gone,
// their entries leased again). The sink sees the restart and reconciles
// the frontier with the database, the workers stop renewing what the
// restart lost, and the run ends, exact.
func TestChaos_RedisRestoredFromItsSnapshot(t *testing.T) {
	c := newChaos(t, redistest.Snapshots, 150, 40*time.Millisecond, 3*time.Second)
	c.start(2)
	c.waitStored(30)
	c.rs.Save(t)
	c.waitStored(90)
	c.rs.Kill()
	c.rs.StartAgain(t)
	c.check()
}

// Redis frozen (SIGSTOP) for longer than the lease, near the end of the
// run: leases are taken over when it thaws, pages are fetched twice, and
// still no page is lost or failed, every part ends, and the run's record
// counts each page once.
func TestChaos_RedisFrozenPastTheLease(t *testing.T) {
	c := newChaos(t, redistest.Snapshots, 150, 40*time.Millisecond, 2*time.Second)
	c.start(2)
	// Near the end: a lease given back to the worker still fetching it
	// must not be taken for a duplicate and dropped, which left the
	// frontier looking drained with an outcome still to come.
	c.waitStored(120)
	c.rs.Freeze()
	time.Sleep(5 * time.Second)
	c.rs.Thaw()
	c.check()
}

// Redis killed (SIGKILL) and started again with each persistence: AOF
// (fsync every second) loses at most the last second, no persistence
// everything; either way the sink reconciles from the database and the
// run ends exact, without gather seed --resume.
func TestChaos_RedisKilled(t *testing.T) {
	for _, p := range []struct {
		name string
		p    redistest.Persistence
	}{{"aof", redistest.AOF}, {"none", redistest.None}} {
		t.Run(p.name, func(t *testing.T) {
			c := newChaos(t, p.p, 120, 40*time.Millisecond, 3*time.Second)
			c.start(2)
			c.waitStored(50)
			c.rs.Kill()
			c.rs.StartAgain(t)
			c.check()
		})
	}
}

// A sink of another database on the crawl's frontier is refused before it
// reads anything, saying which database the crawl belongs to; so are
// seed --resume and a new run of that database.
func TestShared_SinkOfAnotherDatabaseIsRefused(t *testing.T) {
	rs := redistest.Start(t)
	ss := sites(t, 1, 0)
	dir := t.TempDir()
	cfg := gathertest.LoadConfig(t, dir, sharedConfig(t, dir, rs.URL(), ss, 3, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := crawler.New(cfg, nil, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fr := open(t, rs.URL(), "sink", 5*time.Second)
	if _, err := scaleout.Seed(ctx, fr, c, nil); err != nil {
		t.Fatal(err)
	}
	crawlShared(t, ctx, rs.URL(), cfg, 1, crawler.Options{})
	other, err := storage.Open(ctx, dir+"/other.db", crawler.Tables(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
	defer scancel()
	_, err = scaleout.Sink(sctx, fr, other, scaleout.SinkOptions{ItemsHash: cfg.ItemsHash()})
	if !errors.Is(err, frontier.ErrOtherDatabase) || !strings.Contains(err.Error(), cfg.Database) || !strings.Contains(err.Error(), "other.db") {
		t.Fatalf("a sink of another database: %v", err)
	}
	if n := gathertest.QueryInt(t, gathertest.OpenDB(t, dir+"/other.db"), "SELECT count(*) FROM gather_runs"); n != 0 {
		t.Errorf("the refused sink recorded %d runs", n)
	}
	if _, err := scaleout.Seed(ctx, fr, c, other); !errors.Is(err, frontier.ErrOtherDatabase) {
		t.Fatalf("seed --resume of another database: %v", err)
	}
	if _, err := scaleout.Run(sctx, fr, c, other, scaleout.SinkOptions{ItemsHash: cfg.ItemsHash()}); !errors.Is(err, frontier.ErrOtherDatabase) {
		t.Fatalf("a new run of another database: %v", err)
	}
	// The crawl's own database is still welcome.
	st, err := storage.Open(ctx, cfg.Database, crawler.Tables(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := scaleout.Sink(sctx, fr, st, scaleout.SinkOptions{ItemsHash: cfg.ItemsHash()}); err != nil {
		t.Fatalf("the crawl's own sink: %v", err)
	}
}

// Redis restarted cleanly (SIGTERM: it saves its snapshot on the way out)
// while outcomes wait for a sink that is not running yet: the workers see
// the restart, find their outcomes still there and keep renewing their
// leases, so that when the sink comes, a lease later, nothing has been
// fetched again. (Taking every outcome handed over before a restart for
// lost fetched them all again once their lease lapsed.)
func TestChaos_CleanRestartFetchesNothingAgain(t *testing.T) {
	c := newChaos(t, redistest.Snapshots, 120, 40*time.Millisecond, 2*time.Second)
	c.startWorkers(2)
	status := open(t, c.rs.URL(), "status", c.lease)
	for {
		st, err := status.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Results >= 30 {
			break
		}
		select {
		case <-c.ended:
			t.Fatal("the crawl ended without a sink")
		case <-time.After(20 * time.Millisecond):
		}
	}
	c.rs.Stop()
	c.rs.StartAgain(t)
	// Past the lease, twice: leases not renewed would have lapsed.
	time.Sleep(2 * c.lease)
	c.startSink()
	c.check()
	for i, site := range c.sites {
		for path, k := range site.Counts() {
			if strings.Contains(path, "/title/") && k != 1 {
				t.Errorf("site %d: %s fetched %d times", i, path, k)
			}
		}
	}
}
