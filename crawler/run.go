package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/gather-crawler/gather/storage"
)

// feedBatch is how many start URLs are looked up in the database at once.
const feedBatch = 256

// run is the state of one Run: the collector, the writer, the window of
// pages in flight and the set of URLs not yet committed.
type run struct {
	c      *Crawler
	id     int64
	ctx    context.Context
	cancel context.CancelCauseFunc
	col    *colly.Collector
	tr     *transport
	robots *robots
	w      *storage.Writer

	// window bounds the pages dispatched and not finished: colly starts a
	// goroutine per request, so this is what keeps a million ids from
	// becoming a million goroutines.
	window   chan struct{}
	finished chan struct{} // poked whenever a page finishes

	mu        sync.Mutex
	inflight  map[string]struct{} // dispatched and not yet committed
	committed []string            // committed since the last frontier lookup
	live      map[*pageState]struct{}
	limited   map[string]bool // hosts with a LimitRule
	fatalErr  error
}

// pageState travels with a request through colly's callbacks and retries.
type pageState struct {
	url      string // as dispatched: the page's identity in gather_pages
	depth    int
	attempts int
	done     bool
}

const stateKey = "gather.page"

// Run crawls to completion, or until ctx is cancelled (the run is then
// marked interrupted and unfinished pages stay pending for the next run).
// It returns the summary and, when the run did not finish, why.
func (c *Crawler) Run(ctx context.Context) (Summary, error) {
	if !c.ran.CompareAndSwap(false, true) {
		return Summary{}, errors.New("crawler: Run called twice")
	}
	start := time.Now()
	c.stats.startNano.Store(start.UnixNano())
	c.stats.total.Store(-1)
	cr := c.cfg.Crawl

	// One run per job at a time, across processes: the lease is taken
	// before the run exists and given back after it is recorded.
	if err := c.acquireLease(ctx); err != nil {
		return Summary{}, err
	}
	defer c.store.ReleaseLease(context.Background(), cr.Name, c.opts.Owner)
	if n, err := c.store.MarkAbandonedRuns(ctx, cr.Name); err != nil {
		return Summary{}, err
	} else if n > 0 {
		c.log.Warn("earlier runs ended without finishing (process killed?); marked interrupted", "job", cr.Name, "runs", n)
	}
	id, err := c.store.StartRun(ctx, cr.Name, start)
	if err != nil {
		return Summary{}, err
	}
	r := &run{c: c, id: id, inflight: map[string]struct{}{}, live: map[*pageState]struct{}{}, limited: map[string]bool{},
		finished: make(chan struct{}, 1)}
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	defer r.cancel(nil)
	hosts := max(1, len(c.allowedHosts))
	r.window = make(chan struct{}, 4*cr.Parallelism*hosts)

	r.w, err = c.store.NewWriter(storage.WriterOptions{Run: id, Job: cr.Name, BatchPages: c.opts.BatchPages,
		BatchDelay: c.opts.BatchDelay, OnCommit: r.onCommit})
	if err != nil {
		c.store.FinishRun(context.Background(), id, storage.RunFailed, storage.RunCounts{}, time.Now(), err.Error())
		return Summary{}, err
	}
	r.tr = newTransport(cr.Timeout, cr.Parallelism, c.allowPrivate)
	if cr.RobotsTxt {
		r.robots = newRobots(r.tr, c.userAgent)
	}
	r.col = r.collector()
	log := c.log.With("run", id, "job", cr.Name)
	log.Info("crawl started", "database", c.store.Path(), "parallelism", cr.Parallelism)

	if n, err := countStart(r.ctx, cr.Start); err == nil {
		c.stats.total.Store(n)
	}

	stopRenew := r.renewLease()
	feedErr := r.feed()
	if feedErr != nil {
		r.fatal(feedErr)
	}
	r.col.Wait()
	r.finishLeftovers()
	werr := r.w.Close()
	stopRenew()
	r.tr.CloseIdleConnections()

	sum := Summary{Run: id, Counts: r.w.Counts(), Already: c.stats.already.Load(), Retries: c.stats.retries.Load(),
		Bytes: c.stats.bytes.Load(), Elapsed: time.Since(start), Database: c.store.Path()}
	r.mu.Lock()
	fatal := r.fatalErr
	r.mu.Unlock()
	switch {
	case werr != nil:
		sum.Status, sum.Err = storage.RunFailed, fmt.Errorf("database write failed: %w", werr)
	case fatal != nil:
		sum.Status, sum.Err = storage.RunFailed, fatal
	case ctx.Err() != nil:
		sum.Status, sum.Err = storage.RunInterrupted, context.Cause(ctx)
	case sum.Counts.PagesOK == 0 && sum.Counts.PagesFailed > 0:
		sum.Status, sum.Err = storage.RunFailed, ErrAllFailed
	default:
		sum.Status = storage.RunFinished
	}
	errText := ""
	if sum.Err != nil {
		errText = sum.Err.Error()
	}
	if err := c.store.FinishRun(context.Background(), id, sum.Status, sum.Counts, time.Now(), errText); err != nil {
		sum.Err = errors.Join(sum.Err, err)
		if sum.Status == storage.RunFinished {
			sum.Status = storage.RunFailed
		}
	}
	log.Info("crawl ended", "status", sum.Status, "ok", sum.Counts.PagesOK, "failed", sum.Counts.PagesFailed,
		"skipped", sum.Counts.PagesSkipped, "items", sum.Counts.Items, "elapsed", sum.Elapsed.Round(time.Millisecond))
	return sum, sum.Err
}

// renewLease keeps the job's lease alive while the run goes on; losing it
// (another process took the job after our renewals failed) stops the run.
// The returned func stops the renewals and waits for them.
func (r *run) renewLease() (stop func()) {
	o := r.c.opts
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(o.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := r.c.store.RenewLease(context.Background(), r.c.cfg.Crawl.Name, o.Owner, o.LeaseTTL); err != nil {
					r.fatal(fmt.Errorf("job lease: %w", err))
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// fatal stops the run for a reason that is not the page's fault.
func (r *run) fatal(err error) {
	r.mu.Lock()
	if r.fatalErr == nil {
		r.fatalErr = err
	}
	r.mu.Unlock()
	r.cancel(err)
}

func (r *run) collector() *colly.Collector {
	cr := r.c.cfg.Crawl
	opts := []colly.CollectorOption{
		colly.Async(true),
		colly.StdlibContext(r.ctx),
		colly.UserAgent(r.c.userAgent),
		colly.AllowedDomains(r.c.allowedHosts...),
		// Every status reaches OnResponse, where the fetch policy decides;
		// colly would otherwise treat 201-202 as pages and the rest as errors.
		colly.ParseHTTPErrorResponse(),
		// Dedup is the frontier's job (gather_pages), which survives
		// restarts and does not grow with the id list in memory.
		colly.AllowURLRevisit(),
		// One byte past the limit tells a large body from one that fits:
		// colly truncates silently.
		colly.MaxBodySize(int(cr.MaxBodySize) + 1),
		colly.IgnoreRobotsTxt(), // robots.txt is handled per RFC 9309 below
	}
	if len(cr.Headers) > 0 {
		opts = append(opts, colly.Headers(cr.Headers))
	}
	col := colly.NewCollector(opts...)
	col.WithTransport(r.tr)
	col.SetRequestTimeout(0) // the transport times each request after any Retry-After wait
	col.SetRedirectHandler(r.checkRedirect)
	col.OnRequest(r.onRequest)
	col.OnResponse(r.onResponse)
	col.OnError(r.onError)
	return col
}

func (r *run) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("%w: stopped after 10 redirects", errRedirectRefused)
	}
	if !r.hostAllowed(req.URL.Hostname()) {
		return fmt.Errorf("%w: redirect to %s, outside allowed_domains", errRedirectRefused, req.URL.Hostname())
	}
	return nil
}

func (r *run) hostAllowed(host string) bool {
	return slices.Contains(r.c.allowedHosts, strings.ToLower(host))
}

// ensureLimit installs a LimitRule for host before its first request. One
// rule per host makes the limit per host; a single "*" rule would make it
// global.
func (r *run) ensureLimit(host string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.limited[host] {
		return
	}
	cr := r.c.cfg.Crawl
	err := r.col.Limit(&colly.LimitRule{DomainRegexp: "^" + regexp.QuoteMeta(host) + "$",
		Parallelism: cr.Parallelism, Delay: cr.Delay, RandomDelay: cr.RandomDelay})
	if err != nil {
		// The pattern is a quoted literal; this cannot fail, but a crawl
		// without its limit must not go on.
		r.fatalErr = fmt.Errorf("limit rule for %s: %w", host, err)
		r.cancel(r.fatalErr)
		return
	}
	r.limited[host] = true
}

func state(ctx *colly.Context) *pageState {
	ps, _ := ctx.GetAny(stateKey).(*pageState)
	return ps
}

func (r *run) onRequest(req *colly.Request) {
	ps := state(req.Ctx)
	if ps == nil {
		req.Abort()
		return
	}
	r.ensureLimit(req.URL.Host)
	if r.robots == nil {
		return
	}
	ok, why, err := r.robots.allowed(r.ctx, req.URL)
	switch {
	case err != nil:
		req.Abort()
		r.abandon(ps)
	case !ok:
		req.Abort()
		r.finish(ps, storage.Page{Status: storage.PageSkipped, Error: why})
	}
}

func (r *run) onResponse(resp *colly.Response) {
	ps := state(resp.Ctx)
	if ps == nil {
		return
	}
	ps.attempts++
	r.c.stats.bytes.Add(int64(len(resp.Body)))
	cr := r.c.cfg.Crawl
	d := decideResponse(resp.StatusCode, *resp.Headers, resp.Body, int64(cr.MaxBodySize), time.Now())
	page := storage.Page{HTTPStatus: resp.StatusCode, Bytes: int64(len(resp.Body))}
	switch d.verdict {
	case verdictRetry:
		r.retryOrFail(resp.Request, ps, d, page)
	case verdictFail:
		page.Status, page.Error = storage.PageFailed, d.reason
		r.finish(ps, page)
	case verdictOK:
		r.store(resp, ps, page)
	}
}

func (r *run) onError(resp *colly.Response, err error) {
	ps := state(resp.Ctx)
	if ps == nil {
		return
	}
	if r.ctx.Err() != nil {
		r.abandon(ps) // interrupted: the page stays pending for the next run
		return
	}
	ps.attempts++
	d := decideError(err)
	page := storage.Page{HTTPStatus: resp.StatusCode}
	if d.verdict == verdictRetry {
		r.retryOrFail(resp.Request, ps, d, page)
		return
	}
	page.Status, page.Error = storage.PageFailed, d.reason
	r.finish(ps, page)
}

// retryOrFail waits out the backoff (and any Retry-After, which also holds
// back every other request to that host) and fetches again, or records the
// failure once the retries are spent.
func (r *run) retryOrFail(req *colly.Request, ps *pageState, d decision, page storage.Page) {
	retries := r.c.cfg.Crawl.Retries
	if ps.attempts > retries {
		page.Status = storage.PageFailed
		page.Error = fmt.Sprintf("%s (gave up after %d attempts)", d.reason, ps.attempts)
		r.finish(ps, page)
		return
	}
	delay := backoff(ps.attempts)
	if d.retryAfter > 0 {
		r.tr.gates.pause(req.URL.Host, time.Now().Add(d.retryAfter))
		delay = max(delay, d.retryAfter)
	}
	r.c.stats.retries.Add(1)
	r.c.log.Debug("retrying", "url", ps.url, "attempt", ps.attempts, "reason", d.reason, "delay", delay.Round(time.Millisecond))
	t := time.NewTimer(delay)
	select {
	case <-t.C:
	case <-r.ctx.Done():
		t.Stop()
		r.abandon(ps)
		return
	}
	if err := req.Retry(); err != nil {
		if r.ctx.Err() != nil {
			r.abandon(ps)
			return
		}
		page.Status, page.Error = storage.PageFailed, "retry: "+err.Error()
		r.finish(ps, page)
	}
}

// store extracts a good page's records and hands them to the writer.
func (r *run) store(resp *colly.Response, ps *pageState, page storage.Page) {
	final := resp.Request.URL.String()
	wantLinks := ps.depth+1 < r.c.cfg.Crawl.MaxDepth
	res, err := r.c.ex.Extract(final, resp.Body, resp.Headers.Get("Content-Type"), wantLinks)
	if err != nil {
		page.Status, page.Error = storage.PageFailed, err.Error()
		r.finish(ps, page)
		return
	}
	page.Status = storage.PageOK
	page.Warnings = res.Warnings
	page.Items = make([]storage.ItemRows, len(res.Items))
	for i, it := range res.Items {
		rows := make([]storage.Row, len(it.Records))
		for j, rec := range it.Records {
			rows[j] = storage.Row{Values: rec.Values, Index: rec.Index}
		}
		page.Items[i] = storage.ItemRows{Table: it.Name, Rows: rows}
	}
	// Links are marked pending before the page is stored, in the writer's
	// order, so a page committed as ok always has its links in the frontier.
	for _, link := range res.Links {
		u, err := url.Parse(link)
		if err != nil || !r.hostAllowed(u.Hostname()) {
			continue
		}
		if err := r.w.Pending(context.Background(), link, ps.depth+1); err != nil {
			r.fatal(err)
			break
		}
	}
	r.finish(ps, page)
}

// finish records a page's outcome and frees its place in the window.
func (r *run) finish(ps *pageState, page storage.Page) {
	if !r.release(ps) {
		return
	}
	page.URL, page.Attempts, page.Depth = ps.url, ps.attempts, ps.depth
	if page.FetchedAt.IsZero() {
		page.FetchedAt = time.Now()
	}
	if err := r.w.Put(context.Background(), page); err != nil {
		r.fatal(err)
	}
	st := &r.c.stats
	switch page.Status {
	case storage.PageOK:
		st.ok.Add(1)
		for _, it := range page.Items {
			st.items.Add(int64(len(it.Rows)))
		}
	case storage.PageFailed:
		st.failed.Add(1)
		r.c.log.Warn("page failed", "url", ps.url, "attempts", ps.attempts, "error", page.Error)
	case storage.PageSkipped:
		st.skipped.Add(1)
		r.c.log.Info("page skipped", "url", ps.url, "reason", page.Error)
	}
	r.done()
}

// abandon frees a page's place without recording an outcome: after an
// interruption it stays pending and the next run fetches it.
func (r *run) abandon(ps *pageState) {
	if r.release(ps) {
		r.done()
	}
}

// release marks ps finished exactly once.
func (r *run) release(ps *pageState) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ps.done {
		return false
	}
	ps.done = true
	delete(r.live, ps)
	return true
}

func (r *run) done() {
	r.c.stats.inFlight.Add(-1)
	<-r.window
	select {
	case r.finished <- struct{}{}:
	default:
	}
}

// finishLeftovers records any page colly dropped without a callback (it
// does so when a body cannot be decoded), so no page is silently lost.
func (r *run) finishLeftovers() {
	r.mu.Lock()
	var left []*pageState
	for ps := range r.live {
		left = append(left, ps)
	}
	r.mu.Unlock()
	for _, ps := range left {
		if r.ctx.Err() != nil {
			r.abandon(ps)
			continue
		}
		r.finish(ps, storage.Page{Status: storage.PageFailed, Error: "response dropped by the HTTP layer (undecodable body?)"})
	}
}

func (r *run) onCommit(urls []string) {
	r.mu.Lock()
	r.committed = append(r.committed, urls...)
	r.mu.Unlock()
}
