package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/gather-crawler/gather/crawler/browser"
)

// The fetch modes: how a page is fetched, by crawl.fetch or its items'
// fetch (see the package's doc).

// ModeTransport sends a page the way the items whose url matches it ask
// for (the most capable, when they differ), else by Default (crawl.fetch):
// an item may ask for less than crawl.fetch as well as more.
type ModeTransport struct {
	Default http.RoundTripper
	// ByMode are the transports of the modes the items name.
	ByMode map[string]http.RoundTripper
	// Items are the items that name a mode, in the config's order.
	Items []ItemMode
	// MoreCapable reports whether mode a can fetch more than mode b
	// (config.MoreCapable).
	MoreCapable func(a, b string) bool
}

// ItemMode is the fetch mode of the pages an item's url matches.
type ItemMode struct {
	URL  *regexp.Regexp
	Mode string
}

// RoundTrip sends req by its items' mode.
func (t *ModeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	mode, u := "", req.URL.String()
	for _, it := range t.Items {
		if (mode == "" || t.MoreCapable(it.Mode, mode)) && it.URL.MatchString(u) {
			mode = it.Mode
		}
	}
	if tr := t.ByMode[mode]; tr != nil {
		return tr.RoundTrip(req)
	}
	return t.Default.RoundTrip(req)
}

// BrowserAllow is the fetch rules for every request a browser page makes,
// its navigation and sub-requests alike (browser.Options.Allow): the
// hosts hostAllowed allows (allowed_domains), and no private address
// unless allowPrivate (the start URLs are on one).
func BrowserAllow(hostAllowed func(host string) bool, allowPrivate bool) func(*url.URL) error {
	return func(u *url.URL) error { return browserAllow(u, hostAllowed, allowPrivate) }
}

func browserAllow(u *url.URL, hostAllowed func(string) bool, allowPrivate bool) error {
	switch u.Scheme {
	case "data", "blob", "about":
		return nil // nothing leaves the browser
	case "http", "https", "ws", "wss":
	default:
		return fmt.Errorf("scheme %s: not fetched", u.Scheme)
	}
	host := u.Hostname()
	if !hostAllowed(host) {
		return fmt.Errorf("%s is outside allowed_domains", host)
	}
	if allowPrivate {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil {
		if IsPrivate(ip) {
			return fmt.Errorf("%w: %s is a loopback, private, link-local or metadata address", ErrAddressRefused, ip)
		}
		return nil
	}
	// The browser resolves names itself, out of the dialer's reach: look
	// the name up first (a rebinding between the two is not caught).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", host, err)
	}
	for _, a := range addrs {
		if IsPrivate(a.IP) {
			return fmt.Errorf("%w: %s resolves to %s, a loopback, private, link-local or metadata address", ErrAddressRefused, host, a.IP)
		}
	}
	return nil
}

// BrowserTransport answers a request with the page as a Chromium tab
// rendered it: the status and headers of its document, and its DOM as the
// body.
type BrowserTransport struct {
	Browser *browser.Browser
	// WaitFor is the selector a page is waited for (crawl.browser.wait_for).
	WaitFor string
	// InFlight, when set, counts the page in flight on its transport's
	// counter while it is in a tab, as HTTP requests are while on the wire.
	InFlight *Transport
	// ProxyError, when set, names the proxy in a failure that is its
	// (crawler/proxies.go).
	ProxyError func(error) error
	// Loaded, when set, hears of each page rendered before it goes up
	// the chain: the crawl counts it, and archives it
	// (crawler/archive_browser.go).
	Loaded func(*http.Request, *browser.Page)
}

// RoundTrip loads req's URL in a tab.
func (t *BrowserTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.InFlight != nil {
		t.InFlight.wire.add(req.URL.Host, 1)
	}
	p, err := t.Browser.Load(req.Context(), req.URL.String(), t.WaitFor)
	if t.InFlight != nil {
		t.InFlight.wire.add(req.URL.Host, -1)
	}
	if err != nil {
		if errors.Is(err, browser.ErrBlocked) {
			return nil, fmt.Errorf("%w: %v", ErrAddressRefused, err)
		}
		if t.ProxyError != nil {
			err = t.ProxyError(err)
		}
		return nil, err
	}
	if t.Loaded != nil {
		t.Loaded(req, p)
	}
	return pageResponse(req, p), nil
}

// pageResponse makes an HTTP response of a rendered page. The body is the
// DOM as text, so the length and encoding of the original do not apply.
func pageResponse(req *http.Request, p *browser.Page) *http.Response {
	h := p.Header.Clone()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Transfer-Encoding"} {
		h.Del(k)
	}
	stripInternal(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set(FetchedByHeader, FetchedBrowser)
	status := p.Status
	if status == 0 {
		status = http.StatusOK // a page the browser built without a response (about:, data:)
	}
	return &http.Response{StatusCode: status, Status: strconv.Itoa(status) + " " + http.StatusText(status),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Request: req,
		ContentLength: int64(len(p.HTML)), Body: io.NopCloser(bytes.NewReader(p.HTML))}
}

// AutoTransport fetches over HTTP; when a page answers with a JavaScript
// challenge, a browser solves it once for the host, its cookies go into
// the HTTP client's jar, and the page is fetched again over HTTP. A
// challenge that comes back (an expired or revoked token: a cookie's
// expiry date is not trusted alone) is solved again.
type AutoTransport struct {
	o AutoOptions

	mu    sync.Mutex
	hosts map[string]*hostSolve
}

// AutoOptions are what an AutoTransport needs.
type AutoOptions struct {
	// HTTP fetches the pages (the chain's Transport).
	HTTP    http.RoundTripper
	Browser *browser.Browser
	// NoBrowser is why Browser is nil: the challenges' pages fail with it.
	NoBrowser error
	// Jar is the engine's cookie jar, which the solved challenges'
	// cookies go into.
	Jar       http.CookieJar
	Detectors *Detectors
	// MaxBody is crawl.max_body_size, for a detector that reads bodies.
	MaxBody int64
	// Solved, when set, hears of each challenge solved.
	Solved func()
}

// NewAutoTransport makes the transport of fetch: auto.
func NewAutoTransport(o AutoOptions) *AutoTransport {
	return &AutoTransport{o: o, hosts: map[string]*hostSolve{}}
}

// hostSolve is one host's challenge state: gen counts its solves; while
// solving is open, a solve is running and the host's pages wait for it.
// onward says the last solve ended as the challenge page navigated on;
// settled says the host's onward cookies were once not enough, so its
// solves wait for the page past the challenge from then on.
type hostSolve struct {
	gen     int
	solving chan struct{}
	err     error
	onward  bool
	settled bool
}

func (t *AutoTransport) host(h string) *hostSolve {
	t.mu.Lock()
	defer t.mu.Unlock()
	hs := t.hosts[h]
	if hs == nil {
		hs = &hostSolve{}
		t.hosts[h] = hs
	}
	return hs
}

// current waits for a solve of the host in progress and returns the
// number of solves so far.
func (t *AutoTransport) current(ctx context.Context, hs *hostSolve) (int, error) {
	t.mu.Lock()
	ch := hs.solving
	t.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return hs.gen, nil
}

func (t *AutoTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	hs := t.host(req.URL.Host)
	gen, err := t.current(req.Context(), hs)
	if err != nil {
		return nil, err
	}
	if gen > 0 {
		// colly took the jar's cookies when the page was queued, maybe
		// before the solve this page waited for.
		req = withJarCookies(req, t.o.Jar)
	}
	resp, challenge, err := t.fetch(req)
	if err != nil || !challenge {
		if err == nil {
			resp.Header.Set(FetchedByHeader, fetchedBy(gen))
		}
		return resp, err
	}
	discard(resp)
	gen, onward, err := t.solve(req.Context(), req.URL, hs, gen)
	if err != nil {
		return nil, fmt.Errorf("solving the challenge in the browser: %w", err)
	}
	resp, challenge, err = t.fetch(withJarCookies(req, t.o.Jar))
	if err == nil && challenge && onward {
		// The cookies the challenge page had set as it moved on were not
		// enough (a challenge of several steps, or one whose answer sets
		// the cookie): solve it to the end, and so from now on.
		discard(resp)
		t.mu.Lock()
		hs.settled = true
		t.mu.Unlock()
		if _, _, err := t.solve(req.Context(), req.URL, hs, gen); err != nil {
			return nil, fmt.Errorf("solving the challenge in the browser: %w", err)
		}
		resp, _, err = t.fetch(withJarCookies(req, t.o.Jar))
	}
	if err == nil {
		// Still a challenge: the policy fails it; no further solve for
		// the same page, so a site that never lets HTTP through costs a
		// solve or two per page at most.
		resp.Header.Set(FetchedByHeader, FetchedHTTPCookie)
	}
	return resp, err
}

// discard reads what is left of a body that is not wanted, so that the
// connection can be reused, and closes it.
func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

// fetch sends req over HTTP and tells whether the answer is a challenge.
// A detector that looks into the body has it read here (up to the
// crawl's limit, as colly would) and put back.
func (t *AutoTransport) fetch(req *http.Request) (*http.Response, bool, error) {
	resp, err := t.o.HTTP.RoundTrip(req)
	if err != nil {
		return nil, false, err
	}
	var body []byte
	if t.o.Detectors.readsBody() {
		if body, err = readBack(resp, t.o.MaxBody); err != nil {
			return nil, false, err
		}
	}
	return resp, t.o.Detectors.IsChallenge(resp.StatusCode, resp.Header, body) != "", nil
}

func fetchedBy(gen int) string {
	if gen > 0 {
		return FetchedHTTPCookie
	}
	return FetchedHTTP
}

// solve runs one solve of the host's challenge, unless one finished after
// the page was sent (seen is the count it was sent with) or is running,
// and returns the count of solves and whether the last one ended as the
// challenge page navigated on (see Browser.Solve).
//
// A solve takes the cookies as the challenge page moves on, which saves
// the round trip for the page past the challenge (on the demo's challenge
// at 300 ms, 300 ms of a solve that holds up all of the host's pages),
// unless the host's such cookies were once not enough (hs.settled).
func (t *AutoTransport) solve(ctx context.Context, u *url.URL, hs *hostSolve, seen int) (gen int, onward bool, err error) {
	t.mu.Lock()
	if hs.gen > seen {
		defer t.mu.Unlock()
		return hs.gen, hs.onward, nil
	}
	if ch := hs.solving; ch != nil {
		t.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, false, ctx.Err()
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		return hs.gen, hs.onward, hs.err
	}
	if t.o.Browser == nil {
		t.mu.Unlock()
		return 0, false, fmt.Errorf("%w: %v", ErrNoBrowser, t.o.NoBrowser)
	}
	ch := make(chan struct{})
	hs.solving = ch
	early := !hs.settled
	t.mu.Unlock()

	p, err := t.o.Browser.Solve(ctx, u.String(), early)
	if err == nil && !p.Onward && t.o.Detectors.IsChallenge(p.Status, p.Header, p.HTML) != "" {
		err = errors.New("the page was still a challenge when the browser gave up")
	}
	if err == nil {
		t.o.Jar.SetCookies(u, p.Cookies)
		if t.o.Solved != nil {
			t.o.Solved()
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	hs.err = err
	if err == nil {
		hs.gen++
		hs.onward = p.Onward
	}
	hs.solving = nil
	close(ch)
	return hs.gen, hs.onward, err
}

// withJarCookies is req with the jar's cookies in place of its own.
func withJarCookies(req *http.Request, jar http.CookieJar) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Del("Cookie")
	for _, c := range jar.Cookies(r.URL) {
		r.AddCookie(c)
	}
	return r
}

// readBack reads a response's body, up to limit and one byte more (so a
// body over the limit still reads as one), and puts it back for the next
// reader.
func readBack(resp *http.Response, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}
