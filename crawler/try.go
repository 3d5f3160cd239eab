package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

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
	cr := c.cfg.Crawl
	tr := newTransport(cr.Timeout, 1, c.allowPrivate)
	defer tr.CloseIdleConnections()
	if cr.RobotsTxt {
		rb := newRobots(tr, c.userAgent)
		ok, why, err := rb.allowed(ctx, u)
		if err != nil {
			return nil, err
		}
		if !ok {
			res.Status, res.Reason = storage.PageSkipped, why
			if rb.unreachable(u) {
				res.Status = storage.PageFailed
			}
			return res, nil
		}
	}
	client := &http.Client{Transport: tr, CheckRedirect: c.checkRedirect}
	req, err := c.newRequest(ctx, u.String())
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		res.Status, res.Reason = storage.PageFailed, decideError(err).reason
		return res, nil
	}
	defer resp.Body.Close()
	res.URL, res.HTTPStatus = resp.Request.URL.String(), resp.StatusCode
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(cr.MaxBodySize)+1))
	if err != nil {
		res.Status, res.Reason = storage.PageFailed, decideError(err).reason
		return res, nil
	}
	res.Bytes = len(body)
	d := decideResponse(c.det, resp.StatusCode, resp.Header, body, int64(cr.MaxBodySize), time.Now())
	switch d.verdict {
	case verdictRetry:
		res.Status, res.Reason = storage.PageFailed, d.reason+" (a crawl would retry it)"
		return res, nil
	case verdictFail:
		res.Status, res.Reason = storage.PageFailed, d.reason
		return res, nil
	}
	if err := c.tryExtract(ctx, res, body, resp.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	return res, nil
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

// tryExtract extracts the page into res; an error means ctx ended first.
func (c *Crawler) tryExtract(ctx context.Context, res *TryResult, body []byte, contentType string) error {
	if ok, why := c.ex.Accepts(contentType, body); !ok {
		res.Status, res.Reason = storage.PageSkipped, why
		return nil
	}
	out, err := c.ex.ExtractContext(ctx, res.URL, body, contentType, c.cfg.Crawl.MaxDepth > 1)
	var pe *extract.PageError
	if errors.As(err, &pe) {
		res.Status, res.Reason = storage.PageFailed, pe.Reason
		return nil
	}
	if err != nil {
		return err
	}
	// The links a crawl would follow: those on allowed hosts.
	kept := out.Links[:0]
	for _, l := range out.Links {
		l = c.canon.url(l)
		if u, err := url.Parse(l); err == nil && c.hostAllowed(u.Hostname()) && !slices.Contains(kept, l) {
			kept = append(kept, l)
		}
	}
	out.Links = kept
	res.Status, res.Result = storage.PageOK, out
	rep := newReport(c.cfg)
	rep.quiet.onePage = true
	rep.add(res.URL, out)
	res.Warnings = rep.warnings()
	return nil
}
