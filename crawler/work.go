package crawler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gather-crawler/gather/storage"
)

// pageSink is where a run's pages end: the database's writer in a local
// crawl, the shared frontier (and through it the sink) in a worker.
type pageSink interface {
	// Pending records a page to fetch: a followed link, or a page
	// dispatched.
	Pending(ctx context.Context, url string, depth int) error
	// Put records a page's outcome, with its rows.
	Put(ctx context.Context, p storage.Page) error
	// Flush returns once everything before it is stored.
	Flush(ctx context.Context) error
	Close() error
	Counts() storage.RunCounts
}

var _ pageSink = (*storage.Writer)(nil)

// WorkOptions tune a worker.
type WorkOptions struct {
	// Retry is the pause before a frontier operation that failed is tried
	// again (Redis unreachable), doubling up to 30 times it (default 250ms).
	Retry time.Duration
	// Wait keeps the worker when the crawl is drained, for the next run of
	// a scheduled crawl (gather schedule seeds it), until ctx is cancelled.
	Wait bool
}

// Work runs a worker of a shared crawl: it leases pages from fr, fetches
// and extracts them as Run does (policy, retries, robots.txt, the browser)
// and hands each outcome, with the links it found, back to fr, until the
// crawl is drained or ctx is cancelled. The Crawler's store may be nil: a
// worker has no database.
func (c *Crawler) Work(ctx context.Context, fr Frontier, opts WorkOptions) (Summary, error) {
	if !c.ran.CompareAndSwap(false, true) {
		return Summary{}, errors.New("crawler: Run called twice")
	}
	if opts.Retry <= 0 {
		opts.Retry = 250 * time.Millisecond
	}
	start := time.Now()
	c.stats.startNano.Store(start.UnixNano())
	c.stats.total.Store(-1)
	cr := c.cfg.Crawl
	r := c.newRun(ctx, c.log.With("role", "worker"))
	defer r.cancel(nil)
	ws := &workSink{fr: fr, ctx: r.ctx, log: r.log, retry: opts.Retry, tasks: map[string]Task{}, sent: r.win.onCommit}
	if p, ok := fr.(HostPauser); ok {
		// A Retry-After holds the host back for every worker.
		r.tr.OnPause = func(host string, d time.Duration) {
			ctx, cancel := context.WithTimeout(r.ctx, 2*time.Second)
			defer cancel()
			if err := p.PauseHost(ctx, host, d); err != nil {
				r.log.Warn("a host's Retry-After pause holds in this worker only", "host", host, "error", err)
			}
		}
	}
	if err := r.openArchive(); err != nil {
		return Summary{}, err
	}
	// A worker's archive is synced as its files rotate and at its end,
	// not before each outcome leaves (an fsync a page): a worker machine
	// that loses power can leave an indexed record short, which a
	// re-extraction reports and skips, and the next crawl fetches again.
	if err := r.startFetching(ws, &sharedSlots{fr: fr, parallelism: cr.Parallelism, delay: cr.Delay, paused: &r.paused, log: r.log}); err != nil {
		return Summary{}, err
	}
	r.log.Info("worker started", "parallelism", cr.Parallelism)

	ferr := r.feedShared(fr, ws, opts)
	r.stopFetching()
	astats, aerr := r.arch.close()
	if aerr != nil && ferr == nil {
		ferr = fmt.Errorf("archive: %w", aerr)
	}
	sum := Summary{Counts: ws.Counts(), Retries: c.stats.retries.Load(), Bytes: c.stats.bytes.Load(),
		Elapsed: time.Since(start), Status: storage.RunFinished,
		Archived: astats.Exchanges, ArchiveBytes: astats.Bytes, ArchiveDir: r.archiveDir()}
	sum.Counts.Archived, sum.Counts.ArchiveBytes = astats.Exchanges, astats.Bytes
	sum.Counts.BrowserPages, sum.Counts.Challenges = c.stats.browserPages.Load(), c.stats.challenges.Load()
	r.fatalMu.Lock()
	fatal := r.fatalErr
	r.fatalMu.Unlock()
	switch {
	case ferr != nil:
		sum.Status, sum.Err = storage.RunFailed, ferr
	case fatal != nil:
		sum.Status, sum.Err = storage.RunFailed, fatal
	case ctx.Err() != nil:
		sum.Status, sum.Err = storage.RunInterrupted, context.Cause(ctx)
	}
	r.log.Info("worker ended", "status", sum.Status, "ok", sum.Counts.PagesOK, "failed", sum.Counts.PagesFailed,
		"skipped", sum.Counts.PagesSkipped, "elapsed", sum.Elapsed.Round(time.Millisecond))
	return sum, sum.Err
}

// feedShared leases tasks while the window has room, until the frontier
// is drained or the run is cancelled. A frontier that cannot be reached is
// waited for, with back-off, and said so.
func (r *run) feedShared(fr Frontier, ws *workSink, opts WorkOptions) error {
	retry := opts.Retry
	wait := retry
	idle := false
	// later are tasks whose URL was leaving the window when they came:
	// dispatched with the next lease, up to maxDeferrals times.
	var later []Task
	deferred := map[string]int{}
	for r.ctx.Err() == nil {
		free := cap(r.win.slots) - len(r.win.slots)
		if free == 0 {
			select {
			case <-r.win.freed:
			case <-r.ctx.Done():
			}
			continue
		}
		tasks, err := fr.Lease(r.ctx, min(free, feedBatch))
		if err == nil && len(tasks) == 0 && len(later) == 0 {
			var drained bool
			if drained, err = fr.Drained(r.ctx); err == nil && drained {
				if !opts.Wait {
					return nil
				}
				if !idle {
					r.log.Info("the crawl's run is over; waiting for the next")
					idle = true
				}
				if !sleepCtx(r.ctx, time.Second) {
					return nil
				}
				continue
			}
		}
		if err == nil && len(tasks) > 0 {
			idle = false
		}
		if err != nil {
			if r.ctx.Err() != nil {
				return nil
			}
			r.log.Warn("the frontier cannot be reached; trying again", "in", wait, "error", err)
			if !sleepCtx(r.ctx, wait) {
				return nil
			}
			wait = min(2*wait, 30*retry)
			continue
		}
		wait = retry
		// Pages sent since the last lease leave the window's in-flight set.
		r.win.forget(r.win.takeCommitted())
		tasks = append(later, tasks...)
		later = nil
		for _, t := range tasks {
			if r.dispatchTask(ws, t) {
				delete(deferred, t.ID)
				continue
			}
			if deferred[t.ID]++; deferred[t.ID] > maxDeferrals {
				// Its URL stays in the window (its outcome went
				// nowhere): the lease is given up, as a duplicate was
				// before, rather than deferred forever.
				delete(deferred, t.ID)
				ws.drop(t)
				continue
			}
			later = append(later, t)
		}
	}
	return nil
}

// maxDeferrals bounds how often a task whose URL is in the window is
// put off: a URL leaves the window at the lease after its outcome is
// handed over, so once or twice is the rule.
const maxDeferrals = 20

// dispatchTask hands a leased page to colly once there is room in the
// window.
func (r *run) dispatchTask(ws *workSink, t Task) (done bool) {
	if ws.join(t) {
		// The URL is being fetched here: under this lease, given back
		// to this worker because it could not renew it in time (Redis
		// frozen or down), or under another (the frontier lost its
		// dedup, or queued the page again after losing its entry). The
		// fetch under way answers it; dropping it now would delete an
		// entry before its outcome is stored, and the crawl would look
		// over without it.
		return true
	}
	ws.lease(t)
	ps := r.win.enter(r.ctx, t.URL, t.Depth)
	if ps == nil {
		ws.unlease(t)
		if r.ctx.Err() == nil {
			// The URL's outcome was handed over a moment ago, or found
			// its lease gone: which, this lease cannot tell yet. It is
			// dispatched again once the window forgets the URL.
			return false
		}
		return true
	}
	r.c.stats.dispatched.Add(1)
	r.c.stats.inFlight.Add(1)
	if err := r.eng.fetch(t.URL, ps); err != nil {
		r.record(ps, storage.Page{Status: storage.PageFailed, Error: "not fetched: " + err.Error()})
	}
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// workSink is a worker's pageSink: links wait in a buffer and go to the
// frontier with the next outcome handed over, which is after the links
// of its own page were buffered.
type workSink struct {
	fr    Frontier
	ctx   context.Context
	log   interface{ Warn(string, ...any) }
	retry time.Duration
	sent  func(urls []string)

	mu    sync.Mutex
	tasks map[string]Task // leased and not handed over, by URL
	// extra are other leases of a URL in tasks, which its outcome answers
	// too (dispatchTask).
	extra map[string][]Task
	links []Link

	ok, failed, skipped, items, discovered atomic.Int64
}

func (w *workSink) lease(t Task) {
	w.mu.Lock()
	w.tasks[t.URL] = t
	w.mu.Unlock()
}

// join makes the fetch of t's URL under way, if any, answer t too, and
// reports whether there was one.
func (w *workSink) join(t Task) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	prev, busy := w.tasks[t.URL]
	if busy && prev.ID != t.ID {
		if w.extra == nil {
			w.extra = map[string][]Task{}
		}
		w.extra[t.URL] = append(w.extra[t.URL], t)
	}
	return busy
}

// unlease forgets t, unless its URL went on under another task.
func (w *workSink) unlease(t Task) {
	w.mu.Lock()
	if w.tasks[t.URL] == t {
		delete(w.tasks, t.URL)
	}
	w.mu.Unlock()
}

func (w *workSink) drop(t Task) {
	w.do("drop a duplicate task", func() error { return w.fr.Drop(w.ctx, t) })
}

// Pending buffers a followed link; a page being dispatched is the leased
// task itself and needs nothing.
func (w *workSink) Pending(_ context.Context, url string, depth int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, leased := w.tasks[url]; leased && t.Depth == depth {
		return nil
	}
	w.links = append(w.links, Link{URL: url, Depth: depth})
	w.discovered.Add(1)
	return nil
}

// Put hands the page's outcome and the buffered links to the frontier,
// trying again while it cannot be reached. An interrupted worker gives
// up: the lease runs out and another worker fetches the page.
func (w *workSink) Put(_ context.Context, p storage.Page) error {
	w.mu.Lock()
	t, ok := w.tasks[p.URL]
	links := w.links
	w.links = nil
	w.mu.Unlock()
	if !ok {
		return fmt.Errorf("worker: %s was not leased", p.URL)
	}
	// The outcome goes under the first of the URL's leases the frontier
	// still has; the others are dropped. Leases that joined meanwhile
	// (join) are taken in the same lock as the task ends.
	pending := []Task{t}
	handed := false
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		if handed {
			w.drop(c)
		} else {
			gone := false
			if !w.do("hand a page over", func() error {
				err := w.fr.Finish(w.ctx, c, p, links)
				if errors.Is(err, ErrLeaseGone) {
					gone, err = true, nil
				}
				return err
			}) {
				return nil
			}
			handed = !gone
		}
		if len(pending) == 0 {
			w.mu.Lock()
			pending = w.extra[p.URL]
			delete(w.extra, p.URL)
			if len(pending) == 0 && w.tasks[p.URL] == t {
				delete(w.tasks, p.URL)
			}
			w.mu.Unlock()
		}
	}
	if !handed {
		// Every lease of the page is gone: the outcome is late, and goes
		// to the sink apart from the run's (frontier.Redis.Late).
		if lk, ok := w.fr.(LateKeeper); ok && !w.do("hand a late outcome over", func() error { return lk.Late(w.ctx, p, links) }) {
			return nil
		}
	}
	switch p.Status {
	case storage.PageOK:
		w.ok.Add(1)
		for _, it := range p.Items {
			w.items.Add(int64(len(it.Rows)))
		}
	case storage.PageFailed:
		w.failed.Add(1)
	case storage.PageSkipped:
		w.skipped.Add(1)
	}
	w.sent([]string{p.URL})
	return nil
}

// do runs op until it succeeds or the worker is interrupted, and reports
// whether it succeeded.
func (w *workSink) do(what string, op func() error) bool {
	wait := w.retry
	for {
		err := op()
		if err == nil {
			return true
		}
		if w.ctx.Err() != nil {
			return false
		}
		w.log.Warn("the frontier cannot be reached; trying again", "to", what, "in", wait, "error", err)
		if !sleepCtx(w.ctx, wait) {
			return false
		}
		wait = min(2*wait, 30*w.retry)
	}
}

// Flush has nothing to wait for: Put returns once the frontier has the
// outcome.
func (w *workSink) Flush(context.Context) error { return nil }

// Close has nothing to close.
func (w *workSink) Close() error { return nil }

// Counts are the outcomes this worker handed over.
func (w *workSink) Counts() storage.RunCounts {
	return storage.RunCounts{PagesOK: w.ok.Load(), PagesFailed: w.failed.Load(), PagesSkipped: w.skipped.Load(),
		Items: w.items.Load(), Discovered: w.discovered.Load()}
}
