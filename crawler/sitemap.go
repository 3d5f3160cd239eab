package crawler

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html/charset"

	"github.com/gather-crawler/gather/crawler/robots"
	"github.com/gather-crawler/gather/storage"
)

// The sitemaps protocol's limits, per file: 50,000 URLs (or sitemaps, in an
// index) and 50 MB uncompressed.
const (
	sitemapMaxURLs  = 50_000
	sitemapMaxBytes = 50 << 20
	// sitemapMaxFiles bounds the sitemaps read in one run, indexes of
	// indexes included.
	sitemapMaxFiles = 10_000
)

// sitemapURL is one page a sitemap lists.
type sitemapURL struct {
	loc     string
	lastmod time.Time // zero when not given or not a date
}

// errSitemapFull stops a sitemap at the protocol's URL limit.
var errSitemapFull = fmt.Errorf("more than %d URLs (the sitemaps protocol's limit): the rest were ignored", sitemapMaxURLs)

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
		rb = robots.New(r.tr, r.c.userAgent, describeError)
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
		err := sm.read(loc, func(u sitemapURL) error {
			r.c.stats.total.Add(1)
			urls = append(urls, r.c.canon.url(u.loc))
			mods = append(mods, u.lastmod)
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
func (sm *sitemapReader) read(loc string, page func(sitemapURL) error) error {
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
	if sm.files > sitemapMaxFiles {
		return finish(0, 0, fmt.Errorf("more than %d sitemaps in one run: not read", sitemapMaxFiles))
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
		return finish(0, 0, errors.New(decideError(err).reason))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return finish(resp.StatusCode, 0, errors.New(httpReason(resp.StatusCode)))
	}
	counted := &countingReader{r: resp.Body}
	body, err := sitemapBody(counted)
	if err != nil {
		return finish(resp.StatusCode, counted.n, err)
	}
	var outside int
	n, err := decodeSitemap(body, func(isIndex bool, u sitemapURL) error {
		if isIndex {
			sm.queue = append(sm.queue, u.loc)
			return nil
		}
		pu, perr := url.Parse(u.loc)
		if perr != nil || (pu.Scheme != "http" && pu.Scheme != "https") || !r.c.hostAllowed(pu.Hostname()) {
			outside++
			return nil
		}
		return page(u)
	})
	if outside > 0 {
		r.log.Warn("sitemap lists URLs the crawl may not fetch (not http(s), or outside allowed_domains); skipped", "url", loc, "count", outside)
	}
	r.log.Info("sitemap read", "url", loc, "entries", n)
	var cerr *callbackError
	if errors.As(err, &cerr) {
		return cerr.err
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
			retry = decideError(err).verdict == verdictRetry
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			retry = true
		}
		if !retry || attempt > r.c.cfg.Crawl.Retries {
			return resp, err
		}
		if resp != nil {
			resp.Body.Close()
		}
		t := time.NewTimer(r.backoff.wait(attempt))
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return nil, r.ctx.Err()
		}
	}
}

// sitemapBody returns the sitemap's XML, gunzipped when it is gzipped (by
// its bytes, whatever the name or type say), cut at the size limit.
func sitemapBody(body io.Reader) (io.Reader, error) {
	br := bufio.NewReader(body)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("bad gzip: %v", err)
		}
		return &limitedReader{r: zr, left: sitemapMaxBytes}, nil
	}
	return &limitedReader{r: br, left: sitemapMaxBytes}, nil
}

// errSitemapTooLarge is a sitemap over the protocol's size limit.
var errSitemapTooLarge = fmt.Errorf("larger than %d MB uncompressed (the sitemaps protocol's limit): the rest was ignored", sitemapMaxBytes>>20)

// limitedReader fails, rather than ends, past its limit: a truncated
// sitemap must not read as a complete one.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errSitemapTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
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

// callbackError carries an error of the caller's callback out of
// decodeSitemap untouched: it stops the run, it is no fault of the sitemap.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }

// decodeSitemap streams a <urlset> or <sitemapindex>, calling entry for
// each <url> or <sitemap> with a <loc>, and returns how many it read. The
// error says what is wrong with the document.
func decodeSitemap(body io.Reader, entry func(isIndex bool, u sitemapURL) error) (int, error) {
	d := xml.NewDecoder(body)
	d.CharsetReader = charset.NewReaderLabel
	var root string
	n := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if root == "" {
				return n, errors.New("malformed: no <urlset> or <sitemapindex> element")
			}
			return n, nil
		}
		if err != nil {
			if errors.Is(err, errSitemapTooLarge) {
				return n, err
			}
			return n, fmt.Errorf("malformed XML: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root == "" {
			root = se.Name.Local
			if root != "urlset" && root != "sitemapindex" {
				return n, fmt.Errorf("malformed: the root element is <%s>, not <urlset> or <sitemapindex>", root)
			}
			continue
		}
		want := "url"
		if root == "sitemapindex" {
			want = "sitemap"
		}
		if se.Name.Local != want {
			if err := d.Skip(); err != nil {
				return n, fmt.Errorf("malformed XML: %v", err)
			}
			continue
		}
		var e struct {
			Loc     string `xml:"loc"`
			Lastmod string `xml:"lastmod"`
		}
		if err := d.DecodeElement(&e, &se); err != nil {
			if errors.Is(err, errSitemapTooLarge) {
				return n, err
			}
			return n, fmt.Errorf("malformed XML: %v", err)
		}
		loc := strings.TrimSpace(e.Loc)
		if loc == "" {
			continue
		}
		if n == sitemapMaxURLs {
			return n, errSitemapFull
		}
		n++
		if err := entry(root == "sitemapindex", sitemapURL{loc: loc, lastmod: parseLastmod(e.Lastmod)}); err != nil {
			return n, &callbackError{err}
		}
	}
}

// parseLastmod reads a W3C datetime (a date, or a date and time with a
// zone); anything else is no date.
func parseLastmod(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
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
