package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"syscall"
	"time"

	"github.com/gather-crawler/gather/crawler/proxy"
)

// Transport is the HTTP layer under the engine, the innermost of the
// chain. It owns three things colly does not do: the per-request timeout
// (applied after any Retry-After wait, so the wait does not eat it), the
// per-host pause that Retry-After asks for, and the refusal to connect to
// private addresses. It counts the requests on the wire, and sends them
// through the crawl's proxies when there are any (transport_proxy.go).
type Transport struct {
	base *http.Transport
	// next carries requests: base (through the proxies when there are
	// any: carrier), or what Wrap put over it (the archive's capture).
	next    http.RoundTripper
	timeout time.Duration
	gates   *hostGates
	// wire counts requests on the wire, per host: sent and not yet read
	// to the end (the window counts pages dispatched, which is more).
	wire onWire
	// proxies are the crawl's (nil: direct); see transport_proxy.go.
	proxies      *proxy.Pool
	allowPrivate bool

	// OnPause, when set (a worker of a shared crawl), hears of each
	// Retry-After pause, to hold it across the crawl. Set it before the
	// first request.
	OnPause func(host string, d time.Duration)
}

// Options are what a Transport needs of the crawl.
type Options struct {
	// Timeout bounds each request, from its sending to the end of its
	// body (crawl.timeout).
	Timeout time.Duration
	// Parallelism is the requests a host may have at once
	// (crawl.parallelism): twice as many idle connections are kept.
	Parallelism int
	// AllowPrivate lets requests reach loopback, private, link-local and
	// metadata addresses.
	AllowPrivate bool
	// Proxies are the crawl's proxies (nil: direct).
	Proxies *proxy.Pool
}

// NewTransport makes the chain's HTTP transport.
func NewTransport(o Options) *Transport {
	timeout, allowPrivate := o.Timeout, o.AllowPrivate
	dialer := &net.Dialer{Timeout: min(timeout, 30*time.Second), KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip != nil && IsPrivate(ip) {
				return fmt.Errorf("%w: %s is a loopback, private, link-local or metadata address", ErrAddressRefused, ip)
			}
			return nil
		}
	}
	base := &http.Transport{
		DialContext:           proxyDial(dialer, min(timeout, 30*time.Second)),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   max(2, 2*o.Parallelism),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   min(timeout, 15*time.Second),
		ExpectContinueTimeout: time.Second,
		// The proxy the request's context carries (transport_proxy.go
		// chooses it), never http.ProxyFromEnvironment directly: proxy
		// credentials in a URL would end up in error messages, and so in
		// logs and the database.
		Proxy:                  proxy.URLFunc,
		OnProxyConnectResponse: onProxyConnect,
	}
	t := &Transport{base: base, next: base, timeout: timeout, gates: &hostGates{until: map[string]time.Time{}},
		wire: onWire{hosts: map[string]int64{}}, allowPrivate: allowPrivate, proxies: o.Proxies}
	t.next = t.carrier()
	return t
}

// Wrap puts wrap's RoundTripper over what carries the transport's
// requests to the network (directly or through the proxies): the
// archive's capture, which sees every exchange with a site and never a
// proxy's refusal. Call it before the first request.
func (t *Transport) Wrap(wrap func(carrier http.RoundTripper) http.RoundTripper) {
	t.next = wrap(t.carrier())
}

// Pause holds requests to host until the time given, never shortening an
// earlier pause: a Retry-After the policy read.
func (t *Transport) Pause(host string, until time.Time) { t.gates.pause(host, until) }

// InFlight returns the requests on the wire (sent and not yet read to the
// end, a browser's pages in a tab included) and a copy of their counts
// per host.
func (t *Transport) InFlight() (total int64, hosts map[string]int64) { return t.wire.snapshot() }

// IsPrivate reports addresses a crawler of public sites has no business
// reaching: loopback, RFC 1918 and unique-local, link-local (which holds
// the cloud metadata address 169.254.169.254), carrier-grade NAT,
// unspecified and multicast.
func IsPrivate(ip net.IP) bool {
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return true
	}
	if v4 := ip.To4(); v4 != nil {
		return v4[0] == 100 && v4[1]&0xc0 == 64 // 100.64.0.0/10
	}
	return false
}

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.gates.wait(req.Context(), req.URL.Host); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeoutCause(req.Context(), t.timeout, ErrTimeout)
	// Check the host's pause again once a connection is in hand: dialing
	// can take long enough for a Retry-After to arrive in between, and the
	// request must not go out before the pause ends.
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) {
		t.gates.wait(ctx, req.URL.Host)
	}})
	host := req.URL.Host
	t.wire.add(host, 1)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		t.wire.add(host, -1)
		cancel()
		if errors.Is(context.Cause(ctx), ErrTimeout) {
			return nil, fmt.Errorf("%w after %s", ErrTimeout, t.timeout)
		}
		return nil, err
	}
	stripInternal(resp.Header)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		// Hold the host back the moment the answer arrives, before any
		// other request slips out while this one travels up to the policy.
		if d := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); d > 0 {
			t.gates.pause(req.URL.Host, time.Now().Add(d))
			if t.OnPause != nil {
				t.OnPause(req.URL.Host, d)
			}
		}
	}
	resp.Body = &timeoutBody{ReadCloser: resp.Body, ctx: ctx, cancel: cancel, timeout: t.timeout,
		done: func() { t.wire.add(host, -1) }}
	return resp, nil
}

// CloseIdleConnections lets the http.Client release pooled connections.
func (t *Transport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// timeoutBody keeps the request's deadline running while the body is read
// and names the timeout when it strikes mid-body.
type timeoutBody struct {
	io.ReadCloser
	ctx     context.Context
	cancel  context.CancelFunc
	timeout time.Duration
	done    func() // called on the first Close
	closed  sync.Once
}

func (b *timeoutBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && errors.Is(context.Cause(b.ctx), ErrTimeout) {
		err = fmt.Errorf("%w after %s (reading the body)", ErrTimeout, b.timeout)
	}
	return n, err
}

func (b *timeoutBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	b.closed.Do(b.done)
	return err
}

// onWire counts requests in progress per host.
type onWire struct {
	mu    sync.Mutex
	hosts map[string]int64
	total int64
}

func (w *onWire) add(host string, d int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.total += d
	if n := w.hosts[host] + d; n > 0 {
		w.hosts[host] = n
	} else {
		delete(w.hosts, host)
	}
}

// snapshot returns the total and a copy of the per-host counts.
func (w *onWire) snapshot() (int64, map[string]int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total, maps.Clone(w.hosts)
}

// hostGates holds, per host, the time before which no request may be sent
// to it: what a Retry-After asked for. Other hosts are not held up.
type hostGates struct {
	mu    sync.Mutex
	until map[string]time.Time
}

// pause holds requests to host until t (never shortening an earlier pause).
func (g *hostGates) pause(host string, t time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.After(g.until[host]) {
		g.until[host] = t
	}
}

func (g *hostGates) wait(ctx context.Context, host string) error {
	for {
		g.mu.Lock()
		until, ok := g.until[host]
		if ok && !time.Now().Before(until) {
			delete(g.until, host)
			ok = false
		}
		g.mu.Unlock()
		if !ok {
			return nil
		}
		t := time.NewTimer(time.Until(until))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
