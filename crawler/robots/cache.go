// Package robots fetches and applies robots.txt as RFC 9309 and Google's
// reference parser read it: Parse reads a file into the rules that apply
// to one user agent (rules.go), and a Cache fetches each host's file over
// the crawl's own http.RoundTripper and answers whether a URL may be
// fetched. It knows nothing of colly, the config or the database.
package robots

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Cache fetches and applies robots.txt per RFC 9309:
//   - a 2xx answer is parsed, its first MaxBytes at most (a line cut
//     by that limit is dropped);
//   - redirects are followed, MaxRedirects of them at most; past that
//     robots.txt counts as unreachable;
//   - a 4xx other than 429 means there is no robots.txt for us: everything
//     is allowed;
//   - a 429, a 5xx, another status, or no answer at all (refused, reset,
//     timed out, unresolvable) means robots.txt is unreachable: the whole
//     host is disallowed, and robots.txt is asked for again after
//     RetryTTL.
//
// Answers are cached per scheme and host for TTL.
type Cache struct {
	client *http.Client
	agent  string // the User-Agent header, sent with robots.txt requests too
	token  string // its product token, which robots.txt groups name
	// describe words a failed fetch for a reason ("connection refused").
	describe func(error) string

	mu    sync.Mutex
	hosts map[string]*hostEntry
}

// The limits of RFC 9309, and how long an answer is kept.
const (
	MaxBytes     = 500 << 10
	TTL          = 24 * time.Hour
	RetryTTL     = 30 * time.Second // after robots.txt was unreachable
	MaxRedirects = 5
)

// ErrTooManyRedirects marks a robots.txt behind more than MaxRedirects
// redirects.
var ErrTooManyRedirects = fmt.Errorf("more than %d redirects", MaxRedirects)

type hostEntry struct {
	ready   chan struct{}
	rules   *Rules // nil: allow everything
	denyAll string // non-empty: why the whole host is disallowed
	// unreachable: denyAll because robots.txt could not be fetched at all
	// (refused, DNS, TLS, timeout); the page then fails rather than skips.
	unreachable bool
	// interrupted: the fetch was cut short by its context; the entry is
	// not an answer and is fetched again by the next request.
	interrupted error
	expires     time.Time
}

// New is a Cache fetching over rt with agent as the User-Agent, which also
// names the groups that apply (its product token). describe words a failed
// fetch for the reasons pages get (nil: the error's own text, without
// the URL): the crawl
// passes its own, so that a page skipped for robots.txt and a page that
// failed say "connection refused" alike.
func New(rt http.RoundTripper, agent string, describe func(error) string) *Cache {
	if describe == nil {
		describe = func(err error) string {
			// Not "Get \"https://…/robots.txt\": …": the URL is known.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return err.Error()
		}
	}
	client := &http.Client{Transport: rt, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		// via holds the requests made so far: the first and the
		// redirects already followed.
		if len(via) > MaxRedirects {
			return ErrTooManyRedirects
		}
		return nil
	}}
	return &Cache{client: client, agent: agent, token: ProductToken(agent), describe: describe, hosts: map[string]*hostEntry{}}
}

// Allowed reports whether u may be fetched, and if not, why. An error
// means ctx ended before robots.txt was known: nothing was decided.
func (r *Cache) Allowed(ctx context.Context, u *url.URL) (bool, string, error) {
	e, err := r.entry(ctx, u)
	if err != nil {
		return false, "", err
	}
	if e.denyAll != "" {
		return false, e.denyAll, nil
	}
	if e.rules == nil {
		return true, "", nil
	}
	if ok, rule := e.rules.Allowed(Path(u)); !ok {
		return false, rule.Reason(), nil
	}
	return true, "", nil
}

// Sitemaps returns the Sitemap lines of the robots.txt of u's host; none
// when it has none or could not be fetched. An error means ctx ended.
func (r *Cache) Sitemaps(ctx context.Context, u *url.URL) ([]string, error) {
	e, err := r.entry(ctx, u)
	if err != nil || e.rules == nil {
		return nil, err
	}
	return e.rules.sitemaps, nil
}

// Unreachable reports whether u's host did not answer for its robots.txt
// at all, as last fetched: its pages are then failures of the crawl (the
// host is down, or the URL wrong), not pages a site asked us to skip.
func (r *Cache) Unreachable(u *url.URL) bool {
	r.mu.Lock()
	e := r.hosts[u.Scheme+"://"+u.Host]
	r.mu.Unlock()
	if e == nil {
		return false
	}
	select {
	case <-e.ready:
		return e.unreachable
	default:
		return false
	}
}

// CrawlDelay is the Crawl-delay robots.txt asks of u's host (capped at
// MaxCrawlDelay), as last fetched; 0 when none, when robots.txt is
// not obeyed (r nil) or not fetched yet.
func (r *Cache) CrawlDelay(u *url.URL) time.Duration {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	e := r.hosts[u.Scheme+"://"+u.Host]
	r.mu.Unlock()
	if e == nil {
		return 0
	}
	select {
	case <-e.ready:
	default:
		return 0
	}
	if e.rules == nil {
		return 0
	}
	return e.rules.CrawlDelay()
}

// entry is the answer for u's host, fetching robots.txt when it is not
// cached or has expired, or waiting for the request already fetching it.
func (r *Cache) entry(ctx context.Context, u *url.URL) (*hostEntry, error) {
	key := u.Scheme + "://" + u.Host
	for {
		r.mu.Lock()
		e := r.hosts[key]
		stale := e == nil
		if !stale {
			select {
			case <-e.ready:
				stale = e.interrupted != nil || !time.Now().Before(e.expires)
			default: // being fetched by another request; wait for it below
			}
		}
		if stale {
			e = &hostEntry{ready: make(chan struct{})}
			r.hosts[key] = e
		}
		r.mu.Unlock()
		if stale {
			r.fetch(ctx, key, e)
		}
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.interrupted == nil {
			return e, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Another request's fetch was interrupted, not ours: fetch again.
	}
}

func (r *Cache) fetch(ctx context.Context, key string, e *hostEntry) {
	defer close(e.ready)
	e.expires = time.Now().Add(TTL)
	unreachable := func(cause string) {
		e.unreachable = true
		e.denyAll = fmt.Sprintf("robots.txt unreachable (%s): the host is disallowed until it answers; the page was not fetched", cause)
		e.expires = time.Now().Add(RetryTTL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, key+"/robots.txt", nil)
	if err != nil {
		unreachable(err.Error())
		return
	}
	req.Header.Set("User-Agent", r.agent)
	resp, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			e.interrupted = ctx.Err()
			return
		}
		unreachable(r.describe(err))
		// Too many redirects is the site's answer, not a host that is
		// down: its pages are skipped, as for a 5xx.
		e.unreachable = !errors.Is(err, ErrTooManyRedirects)
		return
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		// One byte more than the limit tells a file that fits from one
		// that does not.
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBytes+1))
		if err != nil {
			if ctx.Err() != nil {
				e.interrupted = ctx.Err()
				return
			}
			unreachable("reading it: " + r.describe(err))
			return
		}
		if len(body) > MaxBytes {
			// Only the first 500 KiB are read; a line the limit cuts
			// through is dropped rather than read as a shorter rule.
			body = body[:MaxBytes]
			if i := bytes.LastIndexAny(body, "\r\n"); i >= 0 {
				body = body[:i+1]
			} else {
				body = nil
			}
		}
		e.rules = Parse(body, r.token)
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		// No robots.txt (or not for us to see): everything is allowed.
	default:
		// 429 and 5xx: the server cannot say now, so nothing may be
		// fetched until it can. Other statuses (a 3xx without Location,
		// 1xx) say nothing either.
		e.denyAll = fmt.Sprintf("robots.txt unavailable (%s): the host is disallowed until robots.txt can be fetched; the page was not fetched", statusReason(resp.StatusCode))
		e.expires = time.Now().Add(RetryTTL)
	}
}

// statusReason words a status as pages' reasons do: "HTTP 503 Service
// Unavailable".
func statusReason(status int) string {
	if t := http.StatusText(status); t != "" {
		return fmt.Sprintf("HTTP %d %s", status, t)
	}
	return fmt.Sprintf("HTTP %d", status)
}
