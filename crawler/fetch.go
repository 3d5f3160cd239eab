package crawler

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler/browser"
	"github.com/gather-crawler/gather/crawler/fetch"
)

// How a page is fetched, for crawl.fetch browser and auto. Both sit under
// colly as http.RoundTrippers (the design scrapy-playwright uses for
// Scrapy's download handler): colly stays the scheduler, so a browser page
// goes through the same window, per-host limit, robots.txt check,
// retries, fetch policy, extraction and record() as an HTTP page, and
// nothing of the crawl's bookkeeping is written twice.

// openBrowser makes the crawl's browser when its fetch modes need one and
// starts Chromium ahead of the first page. Only fetch: browser cannot do
// without: fetch: auto fetches over HTTP, so a crawl that meets no
// challenge needs no Chromium, and one that does fails those pages saying
// what to install.
func (r *run) openBrowser() error {
	if !r.c.cfg.NeedsBrowser() {
		return nil
	}
	br, err := r.newBrowser()
	switch {
	case err != nil && r.c.cfg.Uses(config.FetchBrowser):
		return err
	case err != nil:
		r.log.Warn("fetch: auto without a browser: pages behind a JavaScript challenge will fail", "error", err)
		r.noBrowser = err
		return nil
	}
	r.br = br
	// It starts while robots.txt and the first pages are fetched: a
	// challenge's solve, which holds up all its host's pages, then does
	// not wait for Chromium to start as well. gather try's one page over
	// HTTP in auto needs none unless it meets a challenge.
	if !r.once || r.c.cfg.Uses(config.FetchBrowser) {
		br.Warm()
	}
	return nil
}

// newBrowser starts nothing yet: Chromium starts with Warm or the first page.
func (r *run) newBrowser() (*browser.Browser, error) {
	cr := r.c.cfg.Crawl
	exe, err := config.FindChromium(cr.Browser.Path)
	if err != nil {
		return nil, fmt.Errorf("crawl.fetch %s: %w; %s", cr.Fetch, err, config.ChromiumInstall)
	}
	// Names outside allowed_domains do not even resolve in the browser:
	// the guard sees the tabs' requests, not the browser's own.
	rules := "MAP * ~NOTFOUND"
	for _, h := range r.c.allowedHosts {
		rules += ", EXCLUDE " + h
	}
	flags := map[string]any{"host-resolver-rules": rules}
	auth := r.c.browserProxy(flags)
	maps.Copy(flags, r.c.opts.BrowserFlags)
	return browser.New(browser.Options{Exec: exe, Tabs: cr.Browser.Tabs, RecycleAfter: cr.Browser.RecycleAfter,
		PageTimeout: cr.Timeout, UserAgent: r.c.userAgent, Allow: r.c.browserAllow, Flags: flags, ProxyAuth: auth,
		Challenges: r.c.det.Challenges(), Captchas: r.c.det.Captchas(), Documents: r.arch != nil,
		Logger: r.log.With("component", "browser")})
}

// transport is how the engine's requests are sent: by crawl.fetch, or by
// the fetch of the items whose url matches the page. jar, with fetch:
// auto, is the cookie jar the engine's client must use: solved
// challenges' cookies go into it.
func (r *run) transport() (rt http.RoundTripper, jar http.CookieJar) {
	cfg := r.c.cfg
	cr := cfg.Crawl
	byMode := map[string]http.RoundTripper{config.FetchHTTP: r.tr}
	if cfg.Uses(config.FetchBrowser) {
		byMode[config.FetchBrowser] = &browserTransport{b: r.br, waitFor: cr.Browser.WaitFor, wire: &r.tr.wire, stats: &r.c.stats, proxyErr: r.c.browserProxyError,
			archive: r.arch.browserTap()}
	}
	if cfg.Uses(config.FetchAuto) {
		// The client's jar, which the solved challenges' cookies go into.
		cj, _ := cookiejar.New(nil) // no options: cannot fail
		jar = cj
		byMode[config.FetchAuto] = &autoTransport{http: r.tr, b: r.br, noBrowser: r.noBrowser, jar: cj,
			det: r.c.det, maxBody: int64(cr.MaxBodySize), hosts: map[string]*hostSolve{},
			solved: func() { r.c.stats.challenges.Add(1) }}
	}
	mt := &modeTransport{def: byMode[cmp.Or(cr.Fetch, config.FetchHTTP)], byMode: byMode}
	for _, name := range cfg.ItemOrder {
		it := cfg.Items[name]
		if it.Fetch == "" {
			continue
		}
		re, err := regexp.Compile(it.URL) // validated by config: cannot fail
		if err != nil {
			continue
		}
		mt.items = append(mt.items, itemFetch{url: re, mode: it.Fetch})
	}
	if len(mt.items) == 0 {
		return mt.def, jar
	}
	return mt, jar
}

// modeTransport sends a page the way the items whose url matches it ask
// for (the most capable, when they differ), else by crawl.fetch: an item
// may ask for less than crawl.fetch as well as more.
type modeTransport struct {
	def    http.RoundTripper
	byMode map[string]http.RoundTripper
	items  []itemFetch
}

type itemFetch struct {
	url  *regexp.Regexp
	mode string
}

func (t *modeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	mode, u := "", req.URL.String()
	for _, it := range t.items {
		if (mode == "" || config.MoreCapable(it.mode, mode)) && it.url.MatchString(u) {
			mode = it.mode
		}
	}
	if tr := t.byMode[mode]; tr != nil {
		return tr.RoundTrip(req)
	}
	return t.def.RoundTrip(req)
}

// browserAllow is the fetch rules for every request a browser page makes,
// its navigation and sub-requests alike: allowed_domains, and no private
// address unless the start URLs are on one.
func (c *Crawler) browserAllow(u *url.URL) error {
	switch u.Scheme {
	case "data", "blob", "about":
		return nil // nothing leaves the browser
	case "http", "https", "ws", "wss":
	default:
		return fmt.Errorf("scheme %s: not fetched", u.Scheme)
	}
	host := u.Hostname()
	if !c.hostAllowed(host) {
		return fmt.Errorf("%s is outside allowed_domains", host)
	}
	if c.allowPrivate {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil {
		if isPrivate(ip) {
			return fmt.Errorf("%w: %s is a loopback, private, link-local or metadata address", fetch.ErrAddressRefused, ip)
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
		if isPrivate(a.IP) {
			return fmt.Errorf("%w: %s resolves to %s, a loopback, private, link-local or metadata address", fetch.ErrAddressRefused, host, a.IP)
		}
	}
	return nil
}

// browserTransport answers a request with the page as a Chromium tab
// rendered it: the status and headers of its document, and its DOM as the
// body.
type browserTransport struct {
	b       *browser.Browser
	waitFor string
	// wire counts the page in flight while it is in a tab, as HTTP
	// requests are while on the wire.
	wire  *onWire
	stats *counters
	// proxyErr names the proxy in a failure that is its (proxies.go).
	proxyErr func(error) error
	// archive, when set, keeps each page (archive_browser.go).
	archive func(*http.Request, *browser.Page)
}

func (t *browserTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.wire.add(req.URL.Host, 1)
	p, err := t.b.Load(req.Context(), req.URL.String(), t.waitFor)
	t.wire.add(req.URL.Host, -1)
	if err != nil {
		if errors.Is(err, browser.ErrBlocked) {
			return nil, fmt.Errorf("%w: %v", fetch.ErrAddressRefused, err)
		}
		if t.proxyErr != nil {
			err = t.proxyErr(err)
		}
		return nil, err
	}
	t.stats.browserPages.Add(1)
	if t.archive != nil {
		t.archive(req, p)
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
	fetch.StripInternal(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set(fetch.FetchedByHeader, fetch.FetchedBrowser)
	status := p.Status
	if status == 0 {
		status = http.StatusOK // a page the browser built without a response (about:, data:)
	}
	return &http.Response{StatusCode: status, Status: strconv.Itoa(status) + " " + http.StatusText(status),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Request: req,
		ContentLength: int64(len(p.HTML)), Body: io.NopCloser(bytes.NewReader(p.HTML))}
}

// autoTransport fetches over HTTP; when a page answers with a JavaScript
// challenge, a browser solves it once for the host, its cookies go into
// the HTTP client's jar, and the page is fetched again over HTTP. A
// challenge that comes back (an expired or revoked token: a cookie's
// expiry date is not trusted alone) is solved again.
type autoTransport struct {
	http http.RoundTripper
	b    *browser.Browser
	// noBrowser is why b is nil: the challenges' pages fail with it.
	noBrowser error
	jar       http.CookieJar
	det       *fetch.Detectors
	// maxBody is crawl.max_body_size, for a detector that reads bodies.
	maxBody int64
	// solved counts challenges solved.
	solved func()

	mu    sync.Mutex
	hosts map[string]*hostSolve
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

func (t *autoTransport) host(h string) *hostSolve {
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
func (t *autoTransport) current(ctx context.Context, hs *hostSolve) (int, error) {
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

func (t *autoTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	hs := t.host(req.URL.Host)
	gen, err := t.current(req.Context(), hs)
	if err != nil {
		return nil, err
	}
	if gen > 0 {
		// colly took the jar's cookies when the page was queued, maybe
		// before the solve this page waited for.
		req = withJarCookies(req, t.jar)
	}
	resp, challenge, err := t.fetch(req)
	if err != nil || !challenge {
		if err == nil {
			resp.Header.Set(fetch.FetchedByHeader, fetchedBy(gen))
		}
		return resp, err
	}
	discard(resp)
	gen, onward, err := t.solve(req.Context(), req.URL, hs, gen)
	if err != nil {
		return nil, fmt.Errorf("solving the challenge in the browser: %w", err)
	}
	resp, challenge, err = t.fetch(withJarCookies(req, t.jar))
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
		resp, _, err = t.fetch(withJarCookies(req, t.jar))
	}
	if err == nil {
		// Still a challenge: the policy fails it; no further solve for
		// the same page, so a site that never lets HTTP through costs a
		// solve or two per page at most.
		resp.Header.Set(fetch.FetchedByHeader, fetch.FetchedHTTPCookie)
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
func (t *autoTransport) fetch(req *http.Request) (*http.Response, bool, error) {
	resp, err := t.http.RoundTrip(req)
	if err != nil {
		return nil, false, err
	}
	var body []byte
	if t.det.ReadsBody() {
		if body, err = readBack(resp, t.maxBody); err != nil {
			return nil, false, err
		}
	}
	return resp, t.det.IsChallenge(resp.StatusCode, resp.Header, body) != "", nil
}

func fetchedBy(gen int) string {
	if gen > 0 {
		return fetch.FetchedHTTPCookie
	}
	return fetch.FetchedHTTP
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
func (t *autoTransport) solve(ctx context.Context, u *url.URL, hs *hostSolve, seen int) (gen int, onward bool, err error) {
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
	if t.b == nil {
		t.mu.Unlock()
		return 0, false, fmt.Errorf("%w: %v", fetch.ErrNoBrowser, t.noBrowser)
	}
	ch := make(chan struct{})
	hs.solving = ch
	early := !hs.settled
	t.mu.Unlock()

	p, err := t.b.Solve(ctx, u.String(), early)
	if err == nil && !p.Onward && t.det.IsChallenge(p.Status, p.Header, p.HTML) != "" {
		err = errors.New("the page was still a challenge when the browser gave up")
	}
	if err == nil {
		t.jar.SetCookies(u, p.Cookies)
		t.solved()
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

// pauseGate fails, without a request, the pages of a host paused after a
// CAPTCHA. It sits right inside limitGate because pages of that host that
// were dispatched before the CAPTCHA came back wait for the host's slot,
// past onRequest, and must not go out either. It also pauses the host
// itself when a CAPTCHA comes back: the host's slot is free as soon as
// colly has read the body, before onResponse would run, and the next page
// would go out in between.
type pauseGate struct {
	next   http.RoundTripper
	paused *sync.Map // host → reason
	det    *fetch.Detectors
	// maxBody is crawl.max_body_size, for a detector that reads bodies.
	maxBody int64
	pause   func(host, url string)
}

func (g pauseGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if why, ok := g.paused.Load(req.URL.Host); ok {
		return nil, fmt.Errorf("%w: %s", fetch.ErrHostPaused, why)
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	var body []byte
	if g.det.ReadsBody() {
		if body, err = readBack(resp, g.maxBody); err != nil {
			return nil, err
		}
	}
	if g.det.IsCaptcha(resp.StatusCode, resp.Header, body) {
		g.pause(req.URL.Host, req.URL.String())
	}
	return resp, nil
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
