package crawler

import (
	"context"
	"fmt"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"github.com/gather-crawler/gather/crawler/extract"
	"github.com/gather-crawler/gather/storage"
)

// TryResult is what one page gave, for `gather try`: the quickest loop
// for writing a config. Nothing is written anywhere.
type TryResult struct {
	// URL is the page's URL after redirects (for a file, the URL it was
	// read as).
	URL string
	// Status is what a crawl would record: storage.PageOK, PageFailed or
	// PageSkipped, with Reason when it is not ok.
	Status     string
	Reason     string
	HTTPStatus int
	Bytes      int
	// Result is the extraction, when Status is ok.
	Result *extract.Result
	// Warnings are what a crawl would warn of at its end had it read this
	// page alone: a follow rule that kept no link, an each that selected
	// nothing, records dropped for a missing field (each naming its key).
	Warnings []string
}

// Try fetches one page exactly as a crawl would — user agent, headers,
// robots.txt, allowed domains, the private-address guard, the body limit
// and the fetch policy (a response a crawl would retry is reported, not
// retried) — and extracts it. c's store is not used and may be nil.
func (c *Crawler) Try(ctx context.Context, target string) (*TryResult, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", target)
	}
	res := &TryResult{URL: u.String()}
	if !c.hostAllowed(u.Hostname()) {
		res.Status, res.Reason = storage.PageSkipped, fmt.Sprintf("%s is outside crawl.allowed_domains (%v): a crawl would not fetch it", u.Hostname(), c.allowedHosts)
		return res, nil
	}
	// A run of the crawl's own pipeline whose source is this one URL and
	// whose sink is the terminal: what try shows is what a crawl stores.
	r := c.newRun(ctx, c.log.With("door", "try"))
	defer r.cancel(nil)
	r.once = true
	var (
		page storage.Page
		ps   *pageState
	)
	r.tap = func(p *pageState, pg storage.Page) { ps, page = p, pg }
	sink := &trySink{}
	if err := r.startFetching(sink, nil); err != nil {
		return nil, err
	}
	r.dispatch(u.String(), 0, false)
	r.stopFetching()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if ps == nil {
		return nil, fmt.Errorf("%s: the page ended without an outcome", u)
	}
	if ps.final != "" {
		res.URL = ps.final
	}
	res.Status, res.Reason, res.HTTPStatus, res.Bytes = page.Status, page.Error, page.HTTPStatus, int(page.Bytes)
	if page.Status == storage.PageOK && ps.result != nil {
		res.Result = ps.result
		res.Result.Links = sink.links
		res.Warnings = r.report.onePage()
	}
	return res, nil
}

// trySink is try's pageSink: the page's outcome is taken by the run's
// tap; the links it would follow are kept to be shown.
type trySink struct {
	mu    sync.Mutex
	links []string
}

func (s *trySink) Pending(_ context.Context, url string, depth int) error {
	if depth > 0 { // depth 0 is the page itself, dispatched
		s.mu.Lock()
		s.links = append(s.links, url)
		s.mu.Unlock()
	}
	return nil
}
func (s *trySink) Put(context.Context, storage.Page) error { return nil }
func (s *trySink) Flush(context.Context) error             { return nil }
func (s *trySink) Close() error                            { return nil }
func (s *trySink) Counts() storage.RunCounts               { return storage.RunCounts{} }

// TryFile extracts a page saved to a file, read as if it came from
// pageURL ("" means the file's file:// URL, which url patterns of items
// may then not match). Its type comes from its extension, else its bytes.
func (c *Crawler) TryFile(path, pageURL string) (*TryResult, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if pageURL == "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		pageURL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	}
	res := &TryResult{URL: pageURL, Bytes: len(body)}
	if err := c.tryExtract(context.Background(), res, body, mime.TypeByExtension(filepath.Ext(path))); err != nil {
		return nil, err
	}
	return res, nil
}

// tryExtract extracts the page into res through the pipeline's
// extraction stage; an error means ctx ended first.
func (c *Crawler) tryExtract(ctx context.Context, res *TryResult, body []byte, contentType string) error {
	out, err := c.process(ctx, fetched{final: res.URL, body: body, contentType: contentType, links: c.cfg.Crawl.MaxDepth > 1}, storage.Page{})
	if err != nil {
		return err
	}
	res.Status, res.Reason = out.page.Status, out.page.Error
	if out.result != nil && out.page.Status == storage.PageOK {
		out.result.Links = out.links
		res.Result = out.result
	}
	if out.result != nil {
		rep := newReport(c.cfg)
		rep.add(res.URL, out.result)
		res.Warnings = rep.onePage()
	}
	return nil
}
