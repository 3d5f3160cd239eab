// Package fetch is gather's fetch chain: the http.RoundTrippers a crawl's
// requests go through under its engine (colly, in crawler/engine.go), and
// the policy that says what each response or error means.
//
// The chain, outermost first, as crawler assembles it from the config:
//
//   - LimitGate: each host's parallelism and delay (HostLimits, with a
//     robots.txt Crawl-delay), and in a worker of a shared crawl the
//     crawl-wide slots (Slots);
//   - PauseGate: the pages of a host a CAPTCHA stopped fail without a
//     request;
//   - the fetch mode: ModeTransport picks, per page, among the Transport
//     itself (http), BrowserTransport (a Chromium tab renders the page)
//     and AutoTransport (HTTP, with a JavaScript challenge solved once per
//     host in the browser and its cookies reused);
//   - Transport: the HTTP layer: the private-address guard, timeouts that
//     a Retry-After wait does not eat, the per-host pauses Retry-After asks
//     for, the requests on the wire, the crawl's proxies.
//
// The browser's modes sit in the chain as RoundTrippers (the design
// scrapy-playwright uses for Scrapy's download handler): colly stays the
// scheduler, so a browser page goes through the same window, per-host
// limit, robots.txt check, retries, policy, extraction and record as an
// HTTP page, and nothing of the crawl's bookkeeping is written twice.
//
// Beside the chain, Detectors tell challenges and CAPTCHAs (AWS WAF's
// signs and the configured ones), and DecideResponse and DecideError
// judge each page: ok, retry after how long (Backoff, ParseRetryAfter),
// or fail with why (Describe).
//
// The package knows no colly, config or database: what it needs of a
// run comes as options, funcs and the Slots interface.
package fetch
