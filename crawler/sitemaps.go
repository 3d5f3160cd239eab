package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gather-crawler/gather/crawler/fetch"
	"github.com/gather-crawler/gather/crawler/robots"
	"github.com/gather-crawler/gather/crawler/sitemap"
	"github.com/gather-crawler/gather/storage"
)

// sitemapReader reads sitemaps one after another, the entries of an index
// queued after it, and hands over the page URLs as it decodes them: a
// 50,000-URL sitemap is never held whole.
type sitemapReader struct {
	r     *run
	queue []string
	seen  map[string]bool
	files int
}

// sitemapStart lists the sitemaps a run begins with: start.sitemaps, then
// those robots.txt names for each start host when sitemaps_from_robots is
// set.
func (r *run) sitemapStart() []string {
	st := r.c.cfg.Crawl.Start
	out := append([]string(nil), st.Sitemaps...)
	if !st.SitemapsFromRobots {
		return out
	}
	rb := r.robots
	if rb == nil {
		rb = robots.New(r.tr, r.c.userAgent, fetch.Describe)
	}
	for _, base := range r.c.cfg.StartOrigins() {
		u, err := url.Parse(base)
		if err != nil {
			continue
		}
		maps, err := rb.Sitemaps(r.ctx, u)
		if err != nil {
			return out
		}
		if len(maps) == 0 {
			r.log.Info("robots.txt lists no sitemap", "host", u.Host)
		}
		out = append(out, maps...)
	}
	return out
}

// feedSitemaps dispatches the pages the run's sitemaps list, with their
// <lastmod>, as start pages.
func (r *run) feedSitemaps() error {
	return r.readSitemaps(func(urls []string, mods []time.Time) error { return r.dispatchBatch(urls, nil, mods) })
}

// readSitemaps hands batch the pages the run's sitemaps list, canonical,
// in batches, with their <lastmod>.
func (r *run) readSitemaps(batch func(urls []string, mods []time.Time) error) error {
	sm := &sitemapReader{r: r, queue: r.sitemapStart(), seen: map[string]bool{}}
	urls := make([]string, 0, feedBatch)
	mods := make([]time.Time, 0, feedBatch)
	flush := func() error {
		if len(urls) == 0 {
			return nil
		}
		err := batch(urls, mods)
		urls, mods = urls[:0], mods[:0]
		return err
	}
	for len(sm.queue) > 0 && r.ctx.Err() == nil && !r.limitReached() {
		loc := sm.queue[0]
		sm.queue = sm.queue[1:]
		err := sm.read(loc, func(u sitemap.Entry) error {
			r.c.stats.total.Add(1)
			urls = append(urls, r.c.canon.url(u.Loc))
			mods = append(mods, u.Lastmod)
			if len(urls) == feedBatch {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return flush()
}

// read fetches one sitemap (or index) and calls page for each URL it
// lists that the crawl may fetch; an index's sitemaps are queued. The
// sitemap is recorded in gather_pages: ok, or failed with why (a malformed
// sitemap's URLs before the fault are still used). The error is only
// for what stops the run: the writer, or page's.
func (sm *sitemapReader) read(loc string, page func(sitemap.Entry) error) error {
	r := sm.r
	loc = r.c.canon.url(loc)
	if sm.seen[loc] {
		return nil
	}
	sm.seen[loc] = true
	sm.files++
	rec := storage.Page{URL: loc, Status: storage.PageOK, FetchedAt: r.c.opts.Now()}
	finish := func(status int, n int64, why error) error {
		rec.HTTPStatus, rec.Bytes = status, n
		if why != nil {
			rec.Status, rec.Error = storage.PageFailed, "sitemap: "+why.Error()
			r.log.Warn("sitemap failed", "url", loc, "error", why)
		}
		return r.w.Put(context.Background(), rec)
	}
	if sm.files > sitemap.MaxFiles {
		return finish(0, 0, fmt.Errorf("more than %d sitemaps in one run: not read", sitemap.MaxFiles))
	}
	u, err := url.Parse(loc)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return finish(0, 0, fmt.Errorf("not an http(s) URL"))
	}
	if !r.c.hostAllowed(u.Hostname()) {
		return finish(0, 0, fmt.Errorf("%s is outside allowed_domains", u.Hostname()))
	}
	resp, err := sm.fetch(loc)
	if err != nil {
		if r.ctx.Err() != nil {
			return nil
		}
		return finish(0, 0, errors.New(fetch.DecideError(err).Reason))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return finish(resp.StatusCode, 0, errors.New(fetch.HTTPReason(resp.StatusCode)))
	}
	counted := &countingReader{r: resp.Body}
	body, err := sitemap.Body(counted)
	if err != nil {
		return finish(resp.StatusCode, counted.n, err)
	}
	var outside int
	// stop is page's error, which stops the run: no fault of the sitemap.
	var stop error
	n, err := sitemap.Decode(body, func(isIndex bool, u sitemap.Entry) error {
		if isIndex {
			sm.queue = append(sm.queue, u.Loc)
			return nil
		}
		pu, perr := url.Parse(u.Loc)
		if perr != nil || (pu.Scheme != "http" && pu.Scheme != "https") || !r.c.hostAllowed(pu.Hostname()) {
			outside++
			return nil
		}
		stop = page(u)
		return stop
	})
	if outside > 0 {
		r.log.Warn("sitemap lists URLs the crawl may not fetch (not http(s), or outside allowed_domains); skipped", "url", loc, "count", outside)
	}
	r.log.Info("sitemap read", "url", loc, "entries", n)
	if stop != nil {
		return stop
	}
	return finish(resp.StatusCode, counted.n, err)
}

// fetch asks for a sitemap as for a page: the crawl's user agent and
// headers, its transport (timeouts, the address guard) and redirect rules,
// retried as the fetch policy says.
func (sm *sitemapReader) fetch(loc string) (*http.Response, error) {
	r := sm.r
	client := &http.Client{Transport: r.tr, CheckRedirect: r.c.checkRedirect}
	for attempt := 1; ; attempt++ {
		req, err := r.c.newRequest(r.ctx, loc)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		retry := false
		switch {
		case err != nil:
			retry = fetch.DecideError(err).Verdict == fetch.Retry
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			retry = true
		}
		if !retry || attempt > r.c.cfg.Crawl.Retries {
			return resp, err
		}
		if resp != nil {
			resp.Body.Close()
		}
		t := time.NewTimer(r.backoff.Wait(attempt))
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return nil, r.ctx.Err()
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// newRequest is a GET of url as the crawl sends it outside colly: its
// headers and user agent.
func (c *Crawler) newRequest(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range c.cfg.Crawl.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", c.userAgent)
	return req, nil
}
