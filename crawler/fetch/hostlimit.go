package fetch

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// HostLimits holds crawl.parallelism and crawl.delay per host (host:port,
// the request's Host, as colly's LimitRule matched it) in place of colly's
// LimitRule. colly's rules cannot be added while requests run: it reads
// its list of rules without its lock (httpBackend.GetMatchingRule) while
// Limit appends to it, and a host's rule can only be made at its first
// request, once its robots.txt has said its Crawl-delay. The race
// detector caught the two at once. A map also finds a host's limit in
// constant time where colly matches each rule's regexp in turn.
type HostLimits struct {
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

// NewHostLimits holds each host to parallelism requests at once, each
// holding its slot delay after its body is closed, and up to random more.
func NewHostLimits(parallelism int, delay, random time.Duration) *HostLimits {
	return &HostLimits{parallelism: max(parallelism, 1), delay: delay, random: random, hosts: map[string]*hostLimit{}}
}

// Set fixes host's limit before its first request, unless it has one: a
// robots.txt Crawl-delay makes the host's requests go one at a time, at
// least that far apart.
func (l *HostLimits) Set(host string, crawlDelay time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hosts[host] != nil {
		return
	}
	l.hosts[host] = l.newLimit(crawlDelay)
}

func (l *HostLimits) newLimit(crawlDelay time.Duration) *hostLimit {
	parallelism, delay := l.parallelism, l.delay
	if crawlDelay > 0 {
		parallelism, delay = 1, max(delay, crawlDelay)
	}
	return &hostLimit{slots: make(chan struct{}, parallelism), delay: delay}
}

func (l *HostLimits) get(host string) *hostLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.hosts[host]
	if h == nil {
		// Every page passes the run's admission, which sets its host's
		// limit first; a request that did not still gets the crawl's.
		h = l.newLimit(0)
		l.hosts[host] = h
	}
	return h
}

// Take waits for one of host's slots, or for ctx to end. release gives it
// back once the host's delay has passed, without holding up its caller.
// A nil *HostLimits takes nothing.
func (l *HostLimits) Take(ctx context.Context, host string) (release func(), err error) {
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

func noRelease() {}

// Slots are hosts' slots held beyond this process: a shared crawl's,
// across its workers (crawler/shared.go).
type Slots interface {
	// Take waits for one of host's slots; release gives it back.
	Take(ctx context.Context, host string) (release func(), err error)
}

// LimitGate holds each request to its host's limit, from before it is
// sent until its body is closed. It is the outermost of the chain, as
// colly's LimitRule wait was outside its transport: a page waiting for
// its host's slot has passed no other gate yet, so a host paused
// meanwhile (PauseGate) sends it nothing.
//
// In a worker of a shared crawl it also takes one of the host's slots
// shared by every worker (Shared), after the local one: whatever fetches
// the page (HTTP, a browser tab, a challenge's solve), the limit holds
// across the crawl.
type LimitGate struct {
	Next   http.RoundTripper
	Limits *HostLimits // nil: none (a worker's robots.txt requests)
	Shared Slots       // nil: a local crawl
}

// RoundTrip sends req once its host has a slot; the slot is held until
// the response's body is closed.
func (g LimitGate) RoundTrip(req *http.Request) (*http.Response, error) {
	local, err := g.Limits.Take(req.Context(), req.URL.Host)
	if err != nil {
		return nil, err
	}
	crawlWide := noRelease
	if g.Shared != nil {
		if crawlWide, err = g.Shared.Take(req.Context(), req.URL.Host); err != nil {
			local()
			return nil, err
		}
	}
	release := func() {
		crawlWide()
		local()
	}
	resp, err := g.Next.RoundTrip(req)
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
