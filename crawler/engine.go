package crawler

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/gocolly/colly/v2"

	"github.com/gather-crawler/gather/crawler/fetch"
)

// engine.go is colly's room: gather is built on colly's async collector
// and its callbacks, and this is the only file that knows them. A run asks
// its engine for two things (engine below) and is told of each request's
// end through three hooks (engineHooks); everything else — the transport
// chain under it, the fetch policy, retries, extraction, the sinks — is
// gather's and sees no colly type. Each of colly's defaults gather works
// around is set in newCollyEngine, with why.

// engine sends a run's requests.
type engine interface {
	// fetch queues a GET of url for page ps; an error means the engine
	// refused it before sending (a malformed URL, a host outside
	// allowed_domains), and no hook is called for it.
	fetch(url string, ps *pageState) error
	// wait returns once every request queued has ended and its hook has
	// returned.
	wait()
}

// exchange is one request's end as the engine hands it to the run.
type exchange struct {
	ps *pageState
	// url is the URL that answered (after redirects), or the one asked
	// when no response came.
	url    *url.URL
	status int         // 0 when no response came
	header http.Header // as the server sent it (nil when no response came)
	body   []byte
	// retry sends the request again for the same page: its end reaches
	// the hooks again.
	retry func() error
}

// engineHooks are the run's side of the engine. admit is asked before a
// request is sent: false drops it (the run has ended the page itself).
// response is called for every response, whatever its status; failure
// for a request that got no whole response.
type engineHooks struct {
	admit    func(ps *pageState, u *url.URL) bool
	response func(exchange)
	failure  func(exchange, error)
}

// engineOptions are what the engine needs of the crawl.
type engineOptions struct {
	ctx          context.Context
	userAgent    string
	allowedHosts []string
	headers      map[string]string
	maxBody      int64
	// transport is gather's chain of RoundTrippers (host limits, gates,
	// the fetch modes, the HTTP transport); jar, when set, is the cookie
	// jar the chain's challenge solving puts cookies into.
	transport     http.RoundTripper
	jar           http.CookieJar
	checkRedirect func(req *http.Request, via []*http.Request) error
}

// stateKey is where a request's pageState rides in colly's context, so
// that it survives colly's retries of the request (Request.Retry keeps
// the context; colly has no other per-request slot).
const stateKey = "gather.page"

type collyEngine struct{ col *colly.Collector }

func newCollyEngine(o engineOptions, h engineHooks) *collyEngine {
	opts := []colly.CollectorOption{
		colly.Async(true),
		colly.StdlibContext(o.ctx),
		colly.UserAgent(o.userAgent),
		colly.AllowedDomains(o.allowedHosts...),
		// Every status reaches OnResponse, where the fetch policy decides;
		// colly would otherwise treat 201-202 as pages and the rest as errors.
		colly.ParseHTTPErrorResponse(),
		// Dedup is the frontier's job (gather_pages), which survives
		// restarts and does not grow with the id list in memory; colly's
		// visited set would refuse every retry and re-fetch, and grows
		// without bound.
		colly.AllowURLRevisit(),
		// One byte past the limit tells a large body from one that fits:
		// colly truncates silently.
		colly.MaxBodySize(int(o.maxBody) + 1),
		// robots.txt is gather's (crawler/robots, asked in admit): colly's
		// follows an older draft, caches without expiry and cannot say why
		// a page was disallowed.
		colly.IgnoreRobotsTxt(),
	}
	if len(o.headers) > 0 {
		opts = append(opts, colly.Headers(o.headers))
	}
	col := colly.NewCollector(opts...)
	// Per-host parallelism and delay are gather's (fetch.HostLimits), not
	// colly's LimitRule: its rules cannot be added while requests run (a
	// data race the race detector caught), and a host's limit is only
	// known once its robots.txt has given its Crawl-delay.
	col.WithTransport(charsetVeil{next: o.transport})
	if o.jar != nil {
		col.SetCookieJar(o.jar)
	}
	// The transport times each request, after any Retry-After wait;
	// colly's client timeout would count that wait too.
	col.SetRequestTimeout(0)
	col.SetRedirectHandler(o.checkRedirect)
	col.OnRequest(func(req *colly.Request) {
		ps := collyState(req.Ctx)
		if ps == nil || !h.admit(ps, req.URL) {
			req.Abort()
		}
	})
	col.OnResponse(func(resp *colly.Response) {
		ps := collyState(resp.Ctx)
		if ps == nil {
			return
		}
		unveil(*resp.Headers)
		h.response(exchange{ps: ps, url: resp.Request.URL, status: resp.StatusCode, header: *resp.Headers,
			body: resp.Body, retry: resp.Request.Retry})
	})
	col.OnError(func(resp *colly.Response, err error) {
		ps := collyState(resp.Ctx)
		if ps == nil {
			return
		}
		var header http.Header
		if resp.Headers != nil {
			unveil(*resp.Headers)
			header = *resp.Headers
		}
		h.failure(exchange{ps: ps, url: resp.Request.URL, status: resp.StatusCode, header: header, retry: resp.Request.Retry},
			collyError(err))
	})
	return &collyEngine{col: col}
}

func (e *collyEngine) fetch(url string, ps *pageState) error {
	cctx := colly.NewContext()
	cctx.Put(stateKey, ps)
	return e.col.Request("GET", url, nil, cctx, nil)
}

func (e *collyEngine) wait() { e.col.Wait() }

func collyState(ctx *colly.Context) *pageState {
	ps, _ := ctx.GetAny(stateKey).(*pageState)
	return ps
}

// collyError puts colly's own errors in gather's terms. colly checks
// allowed_domains on a redirect before gather's redirect handler does,
// and says so with its own error.
func collyError(err error) error {
	if !errors.Is(err, colly.ErrForbiddenDomain) {
		return err
	}
	target := "another host"
	if m := redirectTargetRe.FindStringSubmatch(err.Error()); m != nil {
		if u, perr := url.Parse(m[1]); perr == nil {
			target = u.Hostname()
		}
	}
	return fmt.Errorf("%w: redirect to %s, outside allowed_domains", fetch.ErrRedirectRefused, target)
}

var redirectTargetRe = regexp.MustCompile(`redirect to "([^"]+)"`)

// charsetVeil is the outermost RoundTripper, the one colly calls. colly
// converts a body whose Content-Type names a charset other than UTF-8
// (Response.fixCharset, which no option turns off), and extraction then
// decoded the UTF-8 again as the header's charset: mojibake in a crawl
// while gather try, which did not use colly, was right. Decoding happens
// once, in extraction (the WHATWG order: byte order mark, header, <meta>),
// from the bytes as received; so colly is shown the Content-Type without
// its charset, the header as sent rides in fetch.SentContentTypeHeader, and
// unveil puts it back before the run sees the response.
type charsetVeil struct{ next http.RoundTripper }

func (v charsetVeil) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	ct := resp.Header.Get("Content-Type")
	resp.Header.Set(fetch.SentContentTypeHeader, ct)
	if media, params, perr := mime.ParseMediaType(ct); perr == nil && params["charset"] != "" {
		delete(params, "charset")
		resp.Header.Set("Content-Type", mime.FormatMediaType(media, params))
	} else if perr != nil && strings.Contains(strings.ToLower(ct), "charset") {
		// Unparsable, yet colly would find "charset" in it.
		resp.Header.Set("Content-Type", "application/octet-stream")
	}
	return resp, nil
}

// unveil gives h back the Content-Type its server sent (charsetVeil).
func unveil(h http.Header) {
	v, ok := h[fetch.SentContentTypeHeader]
	if !ok {
		return
	}
	delete(h, fetch.SentContentTypeHeader)
	if len(v) == 1 && v[0] != "" {
		h.Set("Content-Type", v[0])
	} else {
		h.Del("Content-Type")
	}
}
