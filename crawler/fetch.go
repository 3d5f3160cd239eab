package crawler

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"regexp"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler/browser"
	"github.com/gather-crawler/gather/crawler/fetch"
)

// The fetch chain (crawler/fetch, whose doc tells it) assembled from the
// config, to go under the engine: the browser the modes need, and the
// chain of RoundTrippers from the host limits down to the HTTP transport.

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
		PageTimeout: cr.Timeout, UserAgent: r.c.userAgent, Allow: fetch.BrowserAllow(r.c.hostAllowed, r.c.allowPrivate),
		Flags: flags, ProxyAuth: auth, Challenges: r.c.det.Challenges(), Captchas: r.c.det.Captchas(), Documents: r.arch != nil,
		Logger: r.log.With("component", "browser")})
}

// transport is the chain of RoundTrippers the engine's requests go
// through, outermost first: the host's limits (and, in a worker, the
// crawl-wide slots), the CAPTCHA pause, the fetch mode (crawl.fetch, or
// the fetch of the items whose url matches the page) and the HTTP
// transport. jar, with fetch: auto, is the cookie jar the engine's client
// must use: solved challenges' cookies go into it.
func (r *run) transport() (rt http.RoundTripper, jar http.CookieJar) {
	modes, jar := r.modes()
	cr := r.c.cfg.Crawl
	return fetch.LimitGate{Limits: r.limits, Shared: r.shared.slots(), Next: fetch.PauseGate{Next: modes, Paused: r.pausedWhy,
		Detectors: r.c.det, MaxBody: int64(cr.MaxBodySize), Pause: r.pauseHost}}, jar
}

// modes is the fetch mode's transport: by crawl.fetch, or by the fetch of
// the items whose url matches the page.
func (r *run) modes() (rt http.RoundTripper, jar http.CookieJar) {
	cfg := r.c.cfg
	cr := cfg.Crawl
	byMode := map[string]http.RoundTripper{config.FetchHTTP: r.tr}
	if cfg.Uses(config.FetchBrowser) {
		tap := r.arch.browserTap()
		byMode[config.FetchBrowser] = &fetch.BrowserTransport{Browser: r.br, WaitFor: cr.Browser.WaitFor, InFlight: r.tr,
			ProxyError: r.c.browserProxyError,
			Loaded: func(req *http.Request, p *browser.Page) {
				r.c.stats.browserPages.Add(1)
				if tap != nil {
					tap(req, p)
				}
			}}
	}
	if cfg.Uses(config.FetchAuto) {
		// The client's jar, which the solved challenges' cookies go into.
		cj, _ := cookiejar.New(nil) // no options: cannot fail
		jar = cj
		byMode[config.FetchAuto] = fetch.NewAutoTransport(fetch.AutoOptions{HTTP: r.tr, Browser: r.br, NoBrowser: r.noBrowser,
			Jar: cj, Detectors: r.c.det, MaxBody: int64(cr.MaxBodySize), Solved: func() { r.c.stats.challenges.Add(1) }})
	}
	mt := &fetch.ModeTransport{Default: byMode[cmp.Or(cr.Fetch, config.FetchHTTP)], ByMode: byMode, MoreCapable: config.MoreCapable}
	for _, name := range cfg.ItemOrder {
		it := cfg.Items[name]
		if it.Fetch == "" {
			continue
		}
		re, err := regexp.Compile(it.URL) // validated by config: cannot fail
		if err != nil {
			continue
		}
		mt.Items = append(mt.Items, fetch.ItemMode{URL: re, Mode: it.Fetch})
	}
	if len(mt.Items) == 0 {
		return mt.Default, jar
	}
	return mt, jar
}
