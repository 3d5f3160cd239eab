package crawler

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/gather-crawler/gather/storage"
)

// colly's side of a run: the collector and its callbacks. Every response
// and error goes through the fetch policy (policy.go) and ends in one of
// the window's two endings, after retries when the policy asks for them.

// stateKey is where a request's pageState rides in colly's context, so
// that it survives colly's retries of the request.
const stateKey = "gather.page"

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
	r.limits = newHostLimits(cr.Parallelism, cr.Delay, cr.RandomDelay)
	col.WithTransport(charsetVeil{next: limitGate{limits: r.limits, shared: r.shared, next: pauseGate{next: r.transport(col), paused: &r.paused, det: r.c.det,
		maxBody: int64(cr.MaxBodySize), pause: r.pauseHost}}})
	col.SetRequestTimeout(0) // the transport times each request after any Retry-After wait
	col.SetRedirectHandler(r.c.checkRedirect)
	col.OnRequest(r.onRequest)
	col.OnResponse(r.onResponse)
	col.OnError(r.onError)
	return col
}

// sentContentTypeHeader carries, on the response colly hands to
// onResponse, the Content-Type as the server sent it (see charsetVeil).
const sentContentTypeHeader = "Gather-Content-Type"

// charsetVeil is the outermost RoundTripper, the one colly calls. colly
// converts a body whose Content-Type names a charset other than UTF-8
// (Response.fixCharset, which no option turns off), and extraction then
// decoded the UTF-8 again as the header's charset: mojibake in a crawl
// while gather try, which did not use colly, was right. Decoding happens
// once, in extraction (the WHATWG order: byte order mark, header, <meta>),
// from the bytes as received; so colly is shown the Content-Type without
// its charset, and the header as sent rides in sentContentTypeHeader.
type charsetVeil struct{ next http.RoundTripper }

func (v charsetVeil) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	ct := resp.Header.Get("Content-Type")
	resp.Header.Set(sentContentTypeHeader, ct)
	if media, params, perr := mime.ParseMediaType(ct); perr == nil && params["charset"] != "" {
		delete(params, "charset")
		resp.Header.Set("Content-Type", mime.FormatMediaType(media, params))
	} else if perr != nil && strings.Contains(strings.ToLower(ct), "charset") {
		// Unparsable, yet colly would find "charset" in it.
		resp.Header.Set("Content-Type", "application/octet-stream")
	}
	return resp, nil
}

// sentContentType is the Content-Type of a response as its server sent it.
func sentContentType(h http.Header) string {
	if v, ok := h[sentContentTypeHeader]; ok && len(v) == 1 {
		return v[0]
	}
	return h.Get("Content-Type")
}

// pauseHost stops the crawl of host for the rest of the run after a
// CAPTCHA on url: its other pages fail without a request.
func (r *run) pauseHost(host, url string) {
	if _, was := r.paused.LoadOrStore(host, fmt.Sprintf("%s: host %s paused after a CAPTCHA on %s", reasonCaptcha, host, url)); !was {
		r.log.Warn("CAPTCHA: the host's other pages fail without a request for the rest of the run", "host", host, "url", url)
	}
}

func (c *Crawler) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("%w: stopped after 10 redirects", errRedirectRefused)
	}
	if !c.hostAllowed(req.URL.Hostname()) {
		return fmt.Errorf("%w: redirect to %s, outside allowed_domains", errRedirectRefused, req.URL.Hostname())
	}
	return nil
}

func (c *Crawler) hostAllowed(host string) bool {
	return slices.Contains(c.allowedHosts, strings.ToLower(host))
}

// ensureLimit fixes host's limit before its first request; a robots.txt
// Crawl-delay (crawlDelay, capped in robots.go) paces it.
func (r *run) ensureLimit(host string, crawlDelay time.Duration) {
	r.limits.set(host, crawlDelay)
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
	if why, paused := r.paused.Load(req.URL.Host); paused {
		req.Abort()
		r.record(ps, storage.Page{Status: storage.PageFailed, Error: why.(string)})
		return
	}
	if r.robots == nil {
		r.ensureLimit(req.URL.Host, 0)
		return
	}
	ok, why, err := r.robots.Allowed(r.ctx, req.URL)
	switch {
	case err != nil:
		req.Abort()
		r.leavePending(ps)
	case !ok && r.robots.Unreachable(req.URL):
		// RFC 9309 disallows an unreachable host; the page was not
		// fetched, which is a failure of the page, not the site's wish.
		req.Abort()
		r.record(ps, storage.Page{Status: storage.PageFailed, Error: why})
	case !ok:
		req.Abort()
		r.record(ps, storage.Page{Status: storage.PageSkipped, Error: why})
	default:
		// After robots.txt, whose Crawl-delay paces the host.
		r.ensureLimit(req.URL.Host, r.robots.CrawlDelay(req.URL))
	}
}

func (r *run) onResponse(resp *colly.Response) {
	ps := state(resp.Ctx)
	if ps == nil {
		return
	}
	ps.attempts++
	ps.final = resp.Request.URL.String()
	r.c.stats.bytes.Add(int64(len(resp.Body)))
	cr := r.c.cfg.Crawl
	d := decideResponse(r.c.det, resp.StatusCode, *resp.Headers, resp.Body, int64(cr.MaxBodySize), time.Now())
	page := storage.Page{HTTPStatus: resp.StatusCode, Bytes: int64(len(resp.Body)), FetchedBy: fetchedHTTP,
		Archive: r.arch.claim(ps.final)}
	if by := resp.Headers.Get(fetchedByHeader); by != "" {
		page.FetchedBy = by
	}
	if d.pauseHost {
		r.pauseHost(resp.Request.URL.Host, ps.url)
	}
	switch d.verdict {
	case verdictRetry:
		r.retryOrFail(resp.Request, ps, d, page)
	case verdictFail:
		page.Status, page.Error = storage.PageFailed, d.reason
		r.record(ps, page)
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
		r.leavePending(ps) // interrupted: the page stays pending for the next run
		return
	}
	ps.attempts++
	r.arch.claim(resp.Request.URL.String()) // a response cut short is archived, not indexed
	d := decideError(err)
	page := storage.Page{HTTPStatus: resp.StatusCode}
	if d.verdict == verdictRetry {
		r.retryOrFail(resp.Request, ps, d, page)
		return
	}
	page.Status, page.Error = storage.PageFailed, d.reason
	r.record(ps, page)
}

// retryOrFail waits out the backoff (and any Retry-After, which also holds
// back every other request to that host) and fetches again, or records the
// failure once the retries are spent.
func (r *run) retryOrFail(req *colly.Request, ps *pageState, d decision, page storage.Page) {
	retries := r.c.cfg.Crawl.Retries
	if r.once {
		page.Status, page.Error = storage.PageFailed, d.reason+" (a crawl would retry it)"
		r.record(ps, page)
		return
	}
	if ps.attempts > retries {
		page.Status = storage.PageFailed
		page.Error = fmt.Sprintf("%s (gave up after %d attempts)", d.reason, ps.attempts)
		r.record(ps, page)
		return
	}
	delay := r.backoff.wait(ps.attempts)
	if d.retryAfter > 0 {
		r.tr.gates.pause(req.URL.Host, time.Now().Add(d.retryAfter))
		delay = max(delay, d.retryAfter)
	}
	r.c.stats.retries.Add(1)
	r.log.Debug("retrying", "url", ps.url, "attempt", ps.attempts, "reason", d.reason, "delay", delay.Round(time.Millisecond))
	t := time.NewTimer(delay)
	select {
	case <-t.C:
	case <-r.ctx.Done():
		t.Stop()
		r.leavePending(ps)
		return
	}
	if err := req.Retry(); err != nil {
		if r.ctx.Err() != nil {
			r.leavePending(ps)
			return
		}
		page.Status, page.Error = storage.PageFailed, "retry: "+err.Error()
		r.record(ps, page)
	}
}

// store extracts a good page's records and hands them to the sink.
func (r *run) store(resp *colly.Response, ps *pageState, page storage.Page) {
	job := r.c.cfg.Crawl.Name
	if r.c.store.Quarantined(job, ps.url) {
		// It failed before, by crashing two runs: like a page that fails
		// again, it does not make this run a failed one.
		ps.retry = true
		page.Status, page.Error = storage.PageFailed, storage.QuarantineReason
		r.record(ps, page)
		return
	}
	in := fetched{final: ps.final, body: resp.Body, contentType: sentContentType(*resp.Headers),
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
