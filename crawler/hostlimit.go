package crawler

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// hostLimits holds crawl.parallelism and crawl.delay per host (host:port,
// the request's Host, as colly's LimitRule matched it) in place of colly's
// LimitRule. colly's rules cannot be added while requests run: it reads
// its list of rules without its lock (httpBackend.GetMatchingRule) while
// Limit appends to it, and a host's rule can only be made at its first
// request, once its robots.txt has said its Crawl-delay. The race
// detector caught the two at once. A map also finds a host's limit in
// constant time where colly matches each rule's regexp in turn.
type hostLimits struct {
	parallelism int
	delay       time.Duration
	random      time.Duration // up to this much more after each request

	mu    sync.Mutex
	hosts map[string]*hostLimit
}

// hostLimit is one host's slots; a request holds one until its body is
// closed and its delay has passed.
type hostLimit struct {
	slots chan struct{}
	delay time.Duration
}

func newHostLimits(parallelism int, delay, random time.Duration) *hostLimits {
	return &hostLimits{parallelism: max(parallelism, 1), delay: delay, random: random, hosts: map[string]*hostLimit{}}
}

// set fixes host's limit before its first request, unless it has one: a
// robots.txt Crawl-delay makes the host's requests go one at a time, at
// least that far apart.
func (l *hostLimits) set(host string, crawlDelay time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hosts[host] != nil {
		return
	}
	l.hosts[host] = l.newLimit(crawlDelay)
}

func (l *hostLimits) newLimit(crawlDelay time.Duration) *hostLimit {
	parallelism, delay := l.parallelism, l.delay
	if crawlDelay > 0 {
		parallelism, delay = 1, max(delay, crawlDelay)
	}
	return &hostLimit{slots: make(chan struct{}, parallelism), delay: delay}
}

func (l *hostLimits) get(host string) *hostLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.hosts[host]
	if h == nil {
		// Every page passes onRequest, which sets its host's limit first;
		// a request that did not still gets the crawl's.
		h = l.newLimit(0)
		l.hosts[host] = h
	}
	return h
}

// take waits for one of host's slots, or for ctx to end. release gives it
// back once the host's delay has passed, without holding up its caller.
// A nil *hostLimits takes nothing.
func (l *hostLimits) take(ctx context.Context, host string) (release func(), err error) {
	if l == nil {
		return noRelease, nil
	}
	h := l.get(host)
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return func() {
		d := h.delay
		if l.random > 0 {
			d += rand.N(l.random)
		}
		if d <= 0 {
			<-h.slots
			return
		}
		time.AfterFunc(d, func() { <-h.slots })
	}, nil
}

// limitGate holds each request to its host's limit, from before it is
// sent until its body is closed. It is the outermost transport, as colly's
// LimitRule wait was outside it: a page waiting for its host's slot has
// passed no other gate yet, so a host paused meanwhile (pauseGate) sends
// it nothing.
//
// In a worker of a shared crawl it also takes one of the host's slots
// shared by every worker (shared), after the local one: whatever fetches
// the page (HTTP, a browser tab, a challenge's solve), the limit holds
// across the crawl.
type limitGate struct {
	next   http.RoundTripper
	limits *hostLimits  // nil: none (a worker's robots.txt requests)
	shared *sharedSlots // nil: a local crawl
}

func (g limitGate) RoundTrip(req *http.Request) (*http.Response, error) {
	local, err := g.limits.take(req.Context(), req.URL.Host)
	if err != nil {
		return nil, err
	}
	crawlWide, err := g.shared.take(req.Context(), req.URL.Host)
	if err != nil {
		local()
		return nil, err
	}
	release := func() {
		crawlWide()
		local()
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releaseBody gives its request's host slot back on the first Close.
type releaseBody struct {
	io.ReadCloser
	release func()
	once    sync.Once
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
