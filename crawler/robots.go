package crawler

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// robots applies robots.txt per RFC 9309 (the rules are read and matched
// in robotsrules.go): a 2xx answer is parsed (at most robotsMaxBytes of
// it), a 4xx allows everything, and a 5xx or network error disallows the
// whole host until robots.txt can be fetched again. Answers are cached per
// scheme and host.
type robots struct {
	client *http.Client
	agent  string // the User-Agent header, sent with robots.txt requests too
	token  string // its product token, which robots.txt groups name

	mu    sync.Mutex
	hosts map[string]*robotsEntry
}

const (
	robotsMaxBytes  = 500 << 10
	robotsTTL       = 24 * time.Hour
	robotsRetryTTL  = 30 * time.Second // after a 5xx or network error
	robotsRedirects = 5
)

type robotsEntry struct {
	ready   chan struct{}
	rules   *robotsRules // nil: allow everything
	denyAll string       // non-empty: why the whole host is disallowed
	expires time.Time
}

func newRobots(rt http.RoundTripper, agent string) *robots {
	client := &http.Client{Transport: rt, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= robotsRedirects {
			return fmt.Errorf("more than %d redirects", robotsRedirects)
		}
		return nil
	}}
	return &robots{client: client, agent: agent, token: productToken(agent), hosts: map[string]*robotsEntry{}}
}

// allowed reports whether u may be fetched, and if not, why.
func (r *robots) allowed(ctx context.Context, u *url.URL) (bool, string, error) {
	key := u.Scheme + "://" + u.Host
	r.mu.Lock()
	e := r.hosts[key]
	stale := e == nil
	if !stale {
		select {
		case <-e.ready:
			stale = !time.Now().Before(e.expires)
		default: // being fetched by another request; wait for it below
		}
	}
	if stale {
		e = &robotsEntry{ready: make(chan struct{})}
		r.hosts[key] = e
	}
	r.mu.Unlock()
	if stale {
		r.fetch(ctx, key, e)
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		return false, "", ctx.Err()
	}
	if e.denyAll != "" {
		return false, e.denyAll, nil
	}
	if e.rules == nil {
		return true, "", nil
	}
	if ok, rule := e.rules.allowed(robotsPath(u)); !ok {
		return false, rule.reason(), nil
	}
	return true, "", nil
}

func (r *robots) fetch(ctx context.Context, key string, e *robotsEntry) {
	defer close(e.ready)
	e.expires = time.Now().Add(robotsTTL)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, key+"/robots.txt", nil)
	if err != nil {
		e.denyAll = "robots.txt: " + err.Error()
		e.expires = time.Now().Add(robotsRetryTTL)
		return
	}
	req.Header.Set("User-Agent", r.agent)
	resp, err := r.client.Do(req)
	if err != nil {
		e.denyAll = "robots.txt unreachable: " + describeError(err)
		e.expires = time.Now().Add(robotsRetryTTL)
		return
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		body, err := io.ReadAll(io.LimitReader(resp.Body, robotsMaxBytes))
		if err != nil {
			e.denyAll = "robots.txt unreadable: " + describeError(err)
			e.expires = time.Now().Add(robotsRetryTTL)
			return
		}
		e.rules = parseRobots(body, r.token)
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		// No robots.txt (or not for us to see): everything is allowed.
	default:
		e.denyAll = fmt.Sprintf("robots.txt unavailable (%s): host disallowed until it can be fetched", httpReason(resp.StatusCode))
		e.expires = time.Now().Add(robotsRetryTTL)
	}
}
