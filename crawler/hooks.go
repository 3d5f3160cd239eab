package crawler

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gather-crawler/gather/crawler/fetch"
	"github.com/gather-crawler/gather/storage"
)

// The run's side of the engine (engine.go): what happens before a request
// is sent and at its end. Every response and error goes through the fetch
// policy (fetch.DecideResponse, fetch.DecideError) and ends in one of the
// window's two endings, after retries when the policy asks for them.

// pauseHost stops the crawl of host for the rest of the run after a
// CAPTCHA on url: its other pages fail without a request.
func (r *run) pauseHost(host, url string) {
	why := fmt.Sprintf("%s: host %s paused after a CAPTCHA on %s", fetch.ReasonCaptcha, host, url)
	if _, was := r.paused.LoadOrStore(host, why); !was {
		r.log.Warn("CAPTCHA: the host's other pages fail without a request for the rest of the run", "host", host, "url", url)
		r.shared.stop(r.ctx, host, why) // a worker's: for every worker (shared.go)
	}
}

// pausedWhy tells whether a CAPTCHA paused host, and the reason its pages
// fail with.
func (r *run) pausedWhy(host string) (string, bool) {
	why, ok := r.paused.Load(host)
	if !ok {
		return "", false
	}
	return why.(string), true
}

func (c *Crawler) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("%w: stopped after 10 redirects", fetch.ErrRedirectRefused)
	}
	if !c.hostAllowed(req.URL.Hostname()) {
		return fmt.Errorf("%w: redirect to %s, outside allowed_domains", fetch.ErrRedirectRefused, req.URL.Hostname())
	}
	return nil
}

func (c *Crawler) hostAllowed(host string) bool {
	return slices.Contains(c.allowedHosts, strings.ToLower(host))
}

// ensureLimit fixes host's limit before its first request; a robots.txt
// Crawl-delay (crawlDelay, capped in robots.go) paces it.
func (r *run) ensureLimit(host string, crawlDelay time.Duration) {
	r.limits.Set(host, crawlDelay)
}

// admit is asked before a page's request is sent: a host paused after a
// CAPTCHA, or robots.txt, may end the page without a request.
func (r *run) admit(ps *pageState, u *url.URL) bool {
	if why, paused := r.paused.Load(u.Host); paused {
		r.record(ps, storage.Page{Status: storage.PageFailed, Error: why.(string)})
		return false
	}
	if r.robots == nil {
		r.ensureLimit(u.Host, 0)
		return true
	}
	ok, why, err := r.robots.Allowed(r.ctx, u)
	switch {
	case err != nil:
		r.leavePending(ps)
		return false
	case !ok && r.robots.Unreachable(u):
		// RFC 9309 disallows an unreachable host; the page was not
		// fetched, which is a failure of the page, not the site's wish.
		if stopped, paused := r.paused.Load(u.Host); paused {
			why = stopped.(string) // robots.txt met another worker's CAPTCHA stop (shared.go)
		}
		r.record(ps, storage.Page{Status: storage.PageFailed, Error: why})
		return false
	case !ok:
		r.record(ps, storage.Page{Status: storage.PageSkipped, Error: why})
		return false
	}
	// After robots.txt, whose Crawl-delay paces the host.
	r.ensureLimit(u.Host, r.robots.CrawlDelay(u))
	return true
}

// onResponse judges every response, whatever its status.
func (r *run) onResponse(ex exchange) {
	ps := ex.ps
	ps.attempts++
	ps.final = ex.url.String()
	r.c.stats.bytes.Add(int64(len(ex.body)))
	cr := r.c.cfg.Crawl
	d := fetch.DecideResponse(r.c.det, ex.status, ex.header, ex.body, int64(cr.MaxBodySize), time.Now())
	page := storage.Page{HTTPStatus: ex.status, Bytes: int64(len(ex.body)), FetchedBy: fetch.FetchedHTTP,
		Archive: r.arch.claim(ps.final)}
	if by := ex.header.Get(fetch.FetchedByHeader); by != "" {
		page.FetchedBy = by
	}
	if d.PauseHost {
		r.pauseHost(ex.url.Host, ps.url)
	}
	switch d.Verdict {
	case fetch.Retry:
		r.retryOrFail(ex, d, page)
	case fetch.Fail:
		page.Status, page.Error = storage.PageFailed, d.Reason
		r.record(ps, page)
	case fetch.OK:
		r.store(ex, page)
	}
}

// onError judges a request that got no whole response.
func (r *run) onError(ex exchange, err error) {
	ps := ex.ps
	if r.ctx.Err() != nil {
		r.leavePending(ps) // interrupted: the page stays pending for the next run
		return
	}
	ps.attempts++
	r.arch.claim(ex.url.String()) // a response cut short is archived, not indexed
	d := fetch.DecideError(err)
	page := storage.Page{HTTPStatus: ex.status}
	if d.Verdict == fetch.Retry {
		r.retryOrFail(ex, d, page)
		return
	}
	page.Status, page.Error = storage.PageFailed, d.Reason
	r.record(ps, page)
}

// retryOrFail waits out the backoff (and any Retry-After, which also holds
// back every other request to that host) and fetches again, or records the
// failure once the retries are spent.
func (r *run) retryOrFail(ex exchange, d fetch.Decision, page storage.Page) {
	ps := ex.ps
	retries := r.c.cfg.Crawl.Retries
	if r.once {
		page.Status, page.Error = storage.PageFailed, d.Reason+" (a crawl would retry it)"
		r.record(ps, page)
		return
	}
	if ps.attempts > retries {
		page.Status = storage.PageFailed
		page.Error = fmt.Sprintf("%s (gave up after %d attempts)", d.Reason, ps.attempts)
		r.record(ps, page)
		return
	}
	delay := r.backoff.Wait(ps.attempts)
	if d.RetryAfter > 0 {
		r.tr.Pause(ex.url.Host, time.Now().Add(d.RetryAfter))
		delay = max(delay, d.RetryAfter)
	}
	r.c.stats.retries.Add(1)
	r.log.Debug("retrying", "url", ps.url, "attempt", ps.attempts, "reason", d.Reason, "delay", delay.Round(time.Millisecond))
	t := time.NewTimer(delay)
	select {
	case <-t.C:
	case <-r.ctx.Done():
		t.Stop()
		r.leavePending(ps)
		return
	}
	if err := ex.retry(); err != nil {
		if r.ctx.Err() != nil {
			r.leavePending(ps)
			return
		}
		page.Status, page.Error = storage.PageFailed, "retry: "+err.Error()
		r.record(ps, page)
	}
}

// store extracts a good page's records and hands them to the sink.
func (r *run) store(ex exchange, page storage.Page) {
	ps := ex.ps
	job := r.c.cfg.Crawl.Name
	if r.c.store.Quarantined(job, ps.url) {
		// It failed before, by crashing two runs: like a page that fails
		// again, it does not make this run a failed one.
		ps.retry = true
		page.Status, page.Error = storage.PageFailed, storage.QuarantineReason
		r.record(ps, page)
		return
	}
	in := fetched{final: ps.final, body: ex.body, contentType: ex.header.Get("Content-Type"),
		links: ps.depth+1 < r.c.cfg.Crawl.MaxDepth}
	// Recorded while it runs, so that a page whose extraction kills the
	// process is quarantined once it has done so twice in a row.
	end := r.c.store.BeginExtract(job, r.id, ps.url)
	out, err := r.c.process(r.ctx, in, page)
	end()
	if err != nil {
		r.leavePending(ps) // interrupted mid-extraction: the next run extracts it
		return
	}
	if out.result != nil {
		r.report.add(ps.final, out.result)
		ps.result = out.result
	}
	// Links are marked pending before the page is stored, in the sink's
	// order, so a page committed as ok always has its links in the frontier.
	for i, link := range out.links {
		if err := r.pendingLink(link, ps.depth+1, out.hub(i)); err != nil {
			r.fatal(err)
			break
		}
	}
	r.record(ps, out.page)
}
