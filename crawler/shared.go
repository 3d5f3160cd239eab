package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gather-crawler/gather/crawler/fetch"
	"github.com/gather-crawler/gather/storage"
)

// The crawler's side of a crawl shared by many workers (gather worker):
// the frontier is elsewhere (frontier.Redis), and so is the database. This
// file holds what the crawler asks of such a frontier; work.go runs a
// worker on it.

// Task is one page a shared frontier leased to this worker.
type Task struct {
	// ID is the frontier's handle on the lease.
	ID    string
	URL   string
	Depth int
}

// Link is a page to fetch: a followed link, or a start URL when seeding.
type Link struct {
	URL   string
	Depth int
}

// Frontier is a frontier shared by the workers of one crawl. A leased task
// stays the worker's while it lives; the frontier gives it to another
// worker when this one stops renewing it (it died). The lease ends when
// the sink has committed the task's outcome to the database, not before.
type Frontier interface {
	// Lease returns up to n tasks, waiting a little (under a second) when
	// there are none; none is not an error.
	Lease(ctx context.Context, n int) ([]Task, error)
	// Finish adds links to the frontier (each once per crawl, whoever
	// finds it) and hands the task's outcome to the sink, links first: a
	// page whose outcome is stored always has its links in the frontier.
	// It returns ErrLeaseGone, adding nothing, when the task's lease is
	// gone from the frontier.
	Finish(ctx context.Context, t Task, page storage.Page, links []Link) error
	// Drop gives up a task that needs no outcome: the same URL is on its
	// way in this worker under another lease.
	Drop(ctx context.Context, t Task) error
	// Drained reports that the crawl is over: seeding is done and every
	// page's outcome is stored.
	Drained(ctx context.Context) (bool, error)
	// HostSlot takes one of host's limit slots, shared by all workers,
	// waiting for one to free; release frees it after delay. A slot is
	// leased as a task is: a dead worker's slots come back.
	HostSlot(ctx context.Context, host string, limit int) (release func(delay time.Duration), err error)
}

// ErrLeaseGone is Finish's answer for a task whose lease is gone: an
// outcome for it was stored (the lease was taken over while this worker
// stalled), the run is over, or the frontier lost it (and then queues the
// page again). The outcome is not handed over; another lease of the same
// URL this worker holds may take it instead.
var ErrLeaseGone = errors.New("the task's lease is gone from the frontier")

// LateKeeper is a Frontier that keeps an outcome none of whose leases is
// left (ErrLeaseGone: another fetch of the page was stored, or the run is
// over) for the sink, which stores it if it is newer than the page's
// record (storage.Writer.PutLate), in the run the page was recorded in.
type LateKeeper interface {
	Late(ctx context.Context, page storage.Page, links []Link) error
}

// HostPauser is a Frontier that holds a host's pause (Retry-After) for
// every worker of the crawl: HostSlot waits for it to end.
type HostPauser interface {
	PauseHost(ctx context.Context, host string, d time.Duration) error
}

// HostStopper is a Frontier that stops a host for every worker of the
// crawl for the rest of its run, as a local run stops a host after a
// CAPTCHA: once StopHost is called, HostSlot answers the host's pages
// with a *HostStopped error, and they fail with its reason without a
// request.
type HostStopper interface {
	StopHost(ctx context.Context, host, why string) error
}

// HostStopped is HostSlot's error for a host StopHost stopped: Why is the
// reason its pages fail with (the CAPTCHA that stopped it).
type HostStopped struct{ Why string }

func (e *HostStopped) Error() string { return e.Why }

// sharedSlots makes crawl.parallelism and crawl.delay hold per host across
// every worker: a request takes one of the host's slots in the frontier
// before it goes out, and gives it back its delay after its body is read
// (the fetch chain's LimitGate takes it, as fetch.Slots). The local limit
// (fetch.HostLimits) still applies inside each worker. A host
// stopped by a CAPTCHA is stopped through it for every worker too.
type sharedSlots struct {
	fr          Frontier
	parallelism int
	delay       time.Duration
	// paused is the run's map of hosts a CAPTCHA stopped (run.paused):
	// a stop another worker made goes in it, so that the host's next
	// pages here fail before they ask the frontier.
	paused *sync.Map
	log    *slog.Logger
}

// slots is s as the fetch chain's Slots: none (a nil interface, not a nil
// *sharedSlots in one) for a local crawl.
func (s *sharedSlots) slots() fetch.Slots {
	if s == nil {
		return nil
	}
	return s
}

// Take waits for a slot of host.
func (s *sharedSlots) Take(ctx context.Context, host string) (release func(), err error) {
	rel, err := s.fr.HostSlot(ctx, host, s.parallelism)
	var stopped *HostStopped
	if errors.As(err, &stopped) {
		if _, was := s.paused.LoadOrStore(host, stopped.Why); !was {
			s.log.Warn("CAPTCHA: a worker of the crawl stopped the host; its pages fail without a request for the rest of the run", "host", host, "why", stopped.Why)
		}
		return nil, fmt.Errorf("%w: %s", fetch.ErrHostPaused, stopped.Why)
	}
	if err != nil {
		return nil, err
	}
	return func() { rel(s.delay) }, nil
}

// stop stops host for every worker of the crawl (a CAPTCHA met here),
// before the request that met it gives its slot back, so that no worker
// takes one of the host's slots after it. A frontier that cannot say so
// leaves the stop to this worker alone, and says that.
func (s *sharedSlots) stop(ctx context.Context, host, why string) {
	if s == nil {
		return
	}
	st, ok := s.fr.(HostStopper)
	if !ok {
		return
	}
	if err := st.StopHost(ctx, host, why); err != nil {
		s.log.Warn("a CAPTCHA's stop of the host holds in this worker only", "host", host, "error", err)
	}
}

// StartURLs hands fn the crawl's start URLs in batches, canonical, as a
// local run's feed reads them (ids_file streamed), and returns how many
// ids were skipped (each is logged). Sitemaps are read by StartSitemaps.
func (c *Crawler) StartURLs(ctx context.Context, fn func(urls []string) error) (skipped int64, err error) {
	f := newFeed(c.cfg.Crawl.Start)
	f.log = c.log
	defer f.close()
	batch := make([]string, 0, feedBatch)
	for ctx.Err() == nil {
		batch = batch[:0]
		for len(batch) < feedBatch {
			u, err := f.next()
			if err != nil {
				return f.skipped, err
			}
			if u == "" {
				break
			}
			batch = append(batch, c.canon.url(u))
		}
		if len(batch) == 0 {
			return f.skipped, nil
		}
		if err := fn(batch); err != nil {
			return f.skipped, err
		}
	}
	return f.skipped, ctx.Err()
}

// StartSitemaps reads the crawl's sitemaps as a local run does
// (crawl.start.sitemaps, then those robots.txt names for each start host
// with sitemaps_from_robots; indexes followed, the protocol's limits, the
// fetch policy's retries) and hands fn the pages they list in batches,
// canonical, each with its <lastmod> (zero: not given). Each sitemap read
// is handed to record, ok or failed with why, as a local run stores it.
// Its requests do not take the shared per-host slots: a seeding reads a
// few files, one at a time.
func (c *Crawler) StartSitemaps(ctx context.Context, record func(storage.Page) error, fn func(urls []string, lastmods []time.Time) error) error {
	start := c.cfg.Crawl.Start
	if len(start.Sitemaps) == 0 && !start.SitemapsFromRobots {
		return nil
	}
	// A run whose source is the sitemaps alone: nothing is fetched but
	// them, so no collector or browser is started.
	r := c.newRun(ctx, c.log.With("role", "seed"))
	r.w = recordSink(record)
	defer r.cancel(nil)
	defer r.tr.CloseIdleConnections()
	if err := r.readSitemaps(fn); err != nil {
		return err
	}
	return ctx.Err()
}

// recordSink is the pageSink of StartSitemaps: the sitemaps' records go to
// its func, and nothing else comes.
type recordSink func(storage.Page) error

func (s recordSink) Pending(context.Context, string, int) error  { return nil }
func (s recordSink) Put(_ context.Context, p storage.Page) error { return s(p) }
func (s recordSink) Flush(context.Context) error                 { return nil }
func (s recordSink) Close() error                                { return nil }
func (s recordSink) Counts() storage.RunCounts                   { return storage.RunCounts{} }
