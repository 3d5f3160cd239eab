package crawler

import (
	"context"
	"sync"

	"github.com/gather-crawler/gather/crawler/extract"
	"github.com/gather-crawler/gather/storage"
)

// pageState travels with a request through colly's callbacks and retries.
type pageState struct {
	url string // as dispatched: the page's identity in gather_pages
	// final is the URL its body came from, after redirects; result its
	// extraction, once extracted.
	final    string
	result   *extract.Result
	depth    int
	attempts int
	settled  bool // its ending happened (guarded by window.mu)
	// retry: the page failed in an earlier run, so failing again says
	// nothing about this run's health.
	retry bool
}

// window bounds the pages between dispatch and their ending: colly starts
// a goroutine per request, so its slots are what keep a million ids from
// becoming a million goroutines. It also remembers, for dedup, the URLs
// whose outcome the writer has not committed yet.
//
// A page ends exactly once, in one of two ways (run.record and
// run.leavePending), and either way frees its slot:
//
//	dispatched ──enter──▶ unsettled ──settle──▶ slot freed
//	                      (in colly)     │
//	                                     ├─ recorded: the outcome goes to the writer
//	                                     └─ left pending: nothing written; the next run fetches it
type window struct {
	slots chan struct{}
	freed chan struct{} // poked whenever a slot frees, for the feeder

	mu sync.Mutex
	// unsettled are pages dispatched whose ending has not happened.
	unsettled map[*pageState]struct{}
	// uncommitted are URLs dispatched whose outcome is not committed yet:
	// the frontier cannot tell they are taken, so this set does.
	uncommitted map[string]struct{}
	// committed are URLs committed since the feeder last looked the
	// frontier up; they leave uncommitted only after its next lookup.
	committed []string
}

func newWindow(size int) *window {
	return &window{slots: make(chan struct{}, size), freed: make(chan struct{}, 1),
		unsettled: map[*pageState]struct{}{}, uncommitted: map[string]struct{}{}}
}

// enter takes a slot for u, waiting for one to free, and returns its
// state; it returns nil when u is already on its way (dispatched and not
// committed) or ctx ends first.
func (w *window) enter(ctx context.Context, u string, depth int) *pageState {
	w.mu.Lock()
	_, dup := w.uncommitted[u]
	if !dup {
		w.uncommitted[u] = struct{}{}
	}
	w.mu.Unlock()
	if dup {
		return nil
	}
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	ps := &pageState{url: u, depth: depth}
	w.mu.Lock()
	w.unsettled[ps] = struct{}{}
	w.mu.Unlock()
	return ps
}

// settle marks ps ended and reports whether this call did it: colly may
// report one request twice (an abort, then an error), and only the first
// ending counts.
func (w *window) settle(ps *pageState) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ps.settled {
		return false
	}
	ps.settled = true
	delete(w.unsettled, ps)
	return true
}

// free gives a settled page's slot back and wakes the feeder.
func (w *window) free() {
	<-w.slots
	select {
	case w.freed <- struct{}{}:
	default:
	}
}

// leftovers are the pages that never settled.
func (w *window) leftovers() []*pageState {
	w.mu.Lock()
	defer w.mu.Unlock()
	left := make([]*pageState, 0, len(w.unsettled))
	for ps := range w.unsettled {
		left = append(left, ps)
	}
	return left
}

// onCommit is the writer's report of the URLs a transaction committed.
func (w *window) onCommit(urls []string) {
	w.mu.Lock()
	w.committed = append(w.committed, urls...)
	w.mu.Unlock()
}

// takeCommitted returns the URLs committed since the last call; pass them
// to forget once the frontier has been read, so that a URL is always in
// the frontier's answer or in uncommitted, never in neither.
func (w *window) takeCommitted() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.committed
	w.committed = nil
	return c
}

// forget drops committed URLs from the uncommitted set.
func (w *window) forget(urls []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, u := range urls {
		delete(w.uncommitted, u)
	}
}

// record ends a page with its outcome: the writer stores it (with its
// rows, for an ok page) and the page's slot frees.
func (r *run) record(ps *pageState, page storage.Page) {
	if !r.win.settle(ps) {
		return
	}
	page.URL, page.Attempts, page.Depth = ps.url, ps.attempts, ps.depth
	if page.FetchedAt.IsZero() {
		page.FetchedAt = r.c.opts.Now()
	}
	if r.tap != nil {
		r.tap(ps, page)
	}
	if err := r.w.Put(context.Background(), page); err != nil {
		r.fatal(err)
	}
	st := &r.c.stats
	if !ps.retry {
		st.fresh.Add(1)
		if page.Status == storage.PageFailed {
			st.freshFailed.Add(1)
		}
	}
	st.count(page)
	switch page.Status {
	case storage.PageFailed:
		r.log.Warn("page failed", "url", ps.url, "attempts", ps.attempts, "error", page.Error)
	case storage.PageSkipped:
		r.log.Info("page skipped", "url", ps.url, "reason", page.Error)
	}
	r.freeSlot()
}

// count adds a page's outcome to the run's counters.
func (st *counters) count(page storage.Page) {
	switch page.Status {
	case storage.PageOK:
		st.ok.Add(1)
		for _, it := range page.Items {
			st.items.Add(int64(len(it.Rows)))
		}
	case storage.PageFailed:
		st.failed.Add(1)
	case storage.PageSkipped:
		st.skipped.Add(1)
	}
}

// leavePending ends a page without an outcome, after an interruption: it
// stays pending in the frontier and the next run fetches it.
func (r *run) leavePending(ps *pageState) {
	if r.win.settle(ps) {
		r.freeSlot()
	}
}

func (r *run) freeSlot() {
	r.c.stats.inFlight.Add(-1)
	r.win.free()
}

// settleLeftovers ends the pages colly dropped without a callback (it does
// so when a body cannot be decoded), so that no page is silently lost.
func (r *run) settleLeftovers() {
	for _, ps := range r.win.leftovers() {
		if r.ctx.Err() != nil {
			r.leavePending(ps)
			continue
		}
		r.record(ps, storage.Page{Status: storage.PageFailed, Error: "response dropped by the HTTP layer (undecodable body?)"})
	}
}
