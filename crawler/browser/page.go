package browser

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Page is what a tab showed once the page was ready.
type Page struct {
	// URL is where the tab ended (after redirects and reloads).
	URL string
	// Status and Header are those of the last document response of the
	// top frame: after a challenge page that reloads itself, the page's.
	Status int
	Header http.Header
	// HTML is the rendered DOM (the document element's outerHTML).
	HTML []byte
	// Cookies are the browser's cookies for URL.
	Cookies []*http.Cookie
	// Blocked lists the requests the guard refused, with the reason.
	Blocked []string
	// Onward says Solve returned as the challenge page navigated on, its
	// work done: Cookies are what it set, and Status, Header and HTML are
	// empty, the page they open not having come yet.
	Onward bool

	// Document is the top frame's last document response as it came over
	// the network, for the archive; nil when Chromium had none (a page
	// built without one) or no longer held its body.
	Document *Document
}

// Document is a document response as Chromium received it: Body after
// any Content-Encoding was decoded (Header still names the encoding).
type Document struct {
	URL           string
	Protocol      string // "http/1.1", "h2", as Chromium names it
	Status        int
	StatusText    string
	Header        http.Header
	RequestHeader http.Header
	RemoteIP      string
	Body          []byte
}

// Load opens url in a tab and returns the page once it is ready: when
// waitFor (a CSS selector) matches, or, without one, when the network has
// been idle for 500ms. A challenge page is waited past: its script
// reloads the page. If the browser crashes, the page is loaded once more
// in a new one.
func (b *Browser) Load(ctx context.Context, rawURL, waitFor string) (*Page, error) {
	return b.loadPage(ctx, rawURL, ready{waitFor: waitFor})
}

// Solve opens url in a tab to pass its JavaScript challenge and returns
// the page as soon as its document is no longer a challenge: the cookies
// are what matter then, not the page, so neither wait_for nor network
// idle is waited for. With onward, it returns sooner, as soon as the
// challenge page navigates on by itself (its script done, as a challenge
// script ends by reloading the page), with the cookies it set then
// (Page.Onward): the round trip for the page they open is saved, and
// whether they are enough is for the caller to find out.
func (b *Browser) Solve(ctx context.Context, rawURL string, onward bool) (*Page, error) {
	return b.loadPage(ctx, rawURL, ready{solve: true, onward: onward})
}

// ready says when a page is ready: see Load and Solve.
type ready struct {
	waitFor string
	solve   bool
	onward  bool
}

func (b *Browser) loadPage(ctx context.Context, rawURL string, rd ready) (*Page, error) {
	select {
	case b.tabs <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-b.tabs }()
	for attempt := 1; ; attempt++ {
		in, t, err := b.acquire()
		if err != nil {
			return nil, err
		}
		if t == nil {
			t, err = b.openTab(in)
		}
		var p *Page
		if err == nil {
			p, err = b.load(ctx, t, rawURL, rd)
		}
		crashed := err != nil && in.gone() && ctx.Err() == nil
		if crashed {
			b.mu.Lock()
			closed := b.closed
			if !in.retired {
				b.crashes.Add(1)
				b.retireLocked(in)
			}
			b.mu.Unlock()
			b.release(in, t, false)
			if !closed && attempt == 1 {
				b.log.Warn("chromium went away; loading the page again in a new one", "url", rawURL, "error", err)
				continue
			}
			return nil, err
		}
		// A tab is reused after a page that went well only: one that
		// timed out may still be loading it.
		b.release(in, t, err == nil && t.blank())
		if err == nil {
			b.pages.Add(1)
		}
		return p, err
	}
}

// tabState is what the tab's events told so far.
type tabState struct {
	mu      sync.Mutex
	frame   cdp.FrameID
	doc     *network.Response // last document response of the top frame
	docID   network.RequestID // its request, whose body the archive keeps
	loader  cdp.LoaderID
	idle    bool // network idle seen since doc
	blocked []string
	// challenged is set once waitReady has seen doc be a challenge;
	// onward is then the URL the top frame navigates to next (its
	// request seen by the guard), and moved is poked when it is set.
	// With stopOnward (Solve with onward) that navigation is not sent:
	// its answer would not be read.
	challenged bool
	onward     string
	stopOnward bool
	moved      chan struct{}
}

func (s *tabState) event(ev any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument && (s.frame == "" || ev.FrameID == s.frame) && ev.Response != nil {
			s.doc, s.docID, s.loader, s.idle = ev.Response, ev.RequestID, ev.LoaderID, false
		}
	case *page.EventLifecycleEvent:
		if ev.Name == "networkIdle" && (s.frame == "" || ev.FrameID == s.frame) && ev.LoaderID == s.loader {
			s.idle = true
		}
	}
}

func (b *Browser) load(ctx context.Context, t *tab, rawURL string, rd ready) (*Page, error) {
	pctx, cancel := context.WithTimeoutCause(t.ctx, b.opts.PageTimeout, errPageTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()

	st := t.page()
	st.mu.Lock()
	st.stopOnward = rd.onward
	st.mu.Unlock()
	nav, err := chromedp.Call(pctx, page.Navigate, page.NavigateParams{URL: rawURL})
	if err != nil {
		return nil, b.pageErr(pctx, err)
	}
	if nav.ErrorText != "" {
		st.mu.Lock()
		blocked := append([]string(nil), st.blocked...)
		st.mu.Unlock()
		if nav.ErrorText == "net::ERR_BLOCKED_BY_CLIENT" && len(blocked) > 0 {
			return nil, fmt.Errorf("%w: %s", ErrBlocked, blocked[0])
		}
		return nil, fmt.Errorf("navigation failed: %s", nav.ErrorText)
	}
	st.mu.Lock()
	st.frame = nav.FrameID
	st.mu.Unlock()

	if err := b.waitReady(pctx, st, rd); err != nil {
		return nil, b.pageErr(pctx, err)
	}
	st.mu.Lock()
	onward := st.onward
	st.mu.Unlock()
	if rd.onward && onward != "" {
		return b.onwardPage(pctx, st, onward)
	}
	html, err := chromedp.Run(pctx, chromedp.Evaluate[string](domJS))
	if err != nil {
		return nil, b.pageErr(pctx, fmt.Errorf("reading the DOM: %w", err))
	}
	final, err := chromedp.Run(pctx, chromedp.Evaluate[string](`location.href`))
	if err != nil {
		return nil, b.pageErr(pctx, err)
	}
	cookies, err := chromedp.Call(pctx, network.GetCookies, network.GetCookiesParams{URLs: []string{final}})
	if err != nil {
		return nil, b.pageErr(pctx, err)
	}
	doc := b.document(pctx, st)
	st.mu.Lock()
	defer st.mu.Unlock()
	p := &Page{URL: final, HTML: []byte(html), Header: http.Header{}, Blocked: append([]string(nil), st.blocked...)}
	if st.doc != nil {
		p.Status = int(st.doc.Status)
		for k, v := range st.doc.Headers {
			// Chromium joins repeated headers with newlines.
			for _, line := range strings.Split(fmt.Sprint(v), "\n") {
				p.Header.Add(k, line)
			}
		}
	}
	for _, c := range cookies.Cookies {
		p.Cookies = append(p.Cookies, httpCookie(c))
	}
	p.Document = doc
	return p, nil
}

// onwardPage is what a challenge page left as it navigated on to u: the
// cookies it set, which the browser sends with that navigation.
func (b *Browser) onwardPage(ctx context.Context, st *tabState, u string) (*Page, error) {
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
	if err != nil {
		return nil, b.pageErr(ctx, err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	p := &Page{URL: u, Header: http.Header{}, Onward: true, Blocked: append([]string(nil), st.blocked...)}
	for _, c := range cookies.Cookies {
		p.Cookies = append(p.Cookies, httpCookie(c))
	}
	return p, nil
}

// domJS is the document as the browser holds it now, with its doctype.
const domJS = `(document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '') + document.documentElement.outerHTML`

// errPageTimeout is the cause of a page's deadline.
var errPageTimeout = errors.New("page timed out")

// pageErr names a timeout as such.
func (b *Browser) pageErr(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errPageTimeout) {
		return fmt.Errorf("%w after %s (%v)", context.DeadlineExceeded, b.opts.PageTimeout, err)
	}
	return err
}

// waitReady polls until the page is ready. A CAPTCHA answer is final at
// once: no script of the page will get past it.
func (b *Browser) waitReady(ctx context.Context, st *tabState, rd ready) error {
	waitFor := rd.waitFor
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		st.mu.Lock()
		doc, idle, onward := st.doc, st.idle, st.onward
		st.mu.Unlock()
		if rd.onward && onward != "" {
			return nil
		}
		if doc != nil {
			h := http.Header{}
			for k, v := range doc.Headers {
				h.Set(k, fmt.Sprint(v))
			}
			status := int(doc.Status)
			has := func(sel string) bool {
				found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
				return err == nil && found
			}
			switch {
			case AWSChallenge.Match(status, h, has) || anyMatch(b.opts.Challenges, status, h, has) >= 0:
				// The challenge script reloads the page once it is done.
				st.mu.Lock()
				if st.doc == doc {
					st.challenged = true
				}
				st.mu.Unlock()
			case h.Get("x-amzn-waf-action") != "" || anyMatch(b.opts.Captchas, status, h, has) >= 0:
				return nil // a CAPTCHA or another block: the caller's to judge
			case rd.solve:
				// Parsed far enough for a selector sign to have shown.
				state, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.readyState"))
				if err == nil && state != "loading" {
					return nil
				}
			case doc.Status >= 400 && idle:
				return nil // an error page: nothing to wait for
			case waitFor == "" && idle:
				return nil
			case waitFor != "":
				// Waits in the page, up to appearWait: one call, not
				// one per tick, and an answer as soon as it matches.
				found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(appearJS, waitFor, appearWait.Milliseconds()), chromedp.EvalAwaitPromise))
				if err == nil && found {
					return nil
				}
				if err == nil {
					continue // the wait was the tick
				}
			}
		}
		select {
		case <-t.C:
		case <-st.moved:
		case <-ctx.Done():
			what := "network idle"
			if waitFor != "" {
				what = fmt.Sprintf("wait_for %q", waitFor)
			}
			return fmt.Errorf("page not ready (%s): %w", what, ctx.Err())
		}
	}
}

// appearJS resolves true as soon as selector %q matches in the document,
// false after %d milliseconds: a MutationObserver sees each change.
const appearJS = `new Promise(done => {
  const sel = %q, ok = () => document.querySelector(sel) !== null;
  if (ok()) return done(true);
  const mo = new MutationObserver(() => { if (ok()) { mo.disconnect(); done(true); } });
  mo.observe(document, {childList: true, subtree: true});
  setTimeout(() => { mo.disconnect(); done(false); }, %d);
})`

// appearWait bounds one wait in the page for wait_for, after which the
// document (a challenge's reload, a timeout) is looked at again.
const appearWait = 250 * time.Millisecond

// call runs a protocol command whose result is of no interest.
func call[P any](ctx context.Context, cmd cdp.Command[P, cdp.Empty], params P) error {
	_, err := chromedp.Call(ctx, cmd, params)
	return err
}

func httpCookie(c *network.Cookie) *http.Cookie {
	hc := &http.Cookie{Name: c.Name, Value: c.Value, Path: c.Path, Secure: c.Secure, HttpOnly: c.HTTPOnly}
	// A leading dot is a domain cookie; without, the cookie is the host's
	// own, which a jar takes as Domain "".
	if strings.HasPrefix(c.Domain, ".") {
		hc.Domain = c.Domain
	}
	if !c.Session && c.Expires > 0 {
		// To the millisecond: cut to the second, a cookie left the jar
		// while the site still took it, and a solve then got nothing new.
		hc.Expires = time.UnixMilli(int64(c.Expires * 1000))
	}
	return hc
}

// guard answers every request the tab makes: on to the network when the
// caller's Allow lets it, failed otherwise (and noted).
func (b *Browser) guard(ctx context.Context, paused iter.Seq2[fetch.EventRequestPaused, error], t *tab) {
	for ev, err := range paused {
		if err != nil {
			return
		}
		var why error
		if u, perr := url.Parse(ev.Request.URL + ev.Request.URLFragment); perr != nil {
			why = fmt.Errorf("unparsable URL: %v", perr)
		} else if b.opts.Allow != nil {
			why = b.opts.Allow(u)
		}
		if why != nil {
			note := fmt.Sprintf("%s %s: %v", ev.ResourceType, ev.Request.URL, why)
			b.log.Warn("browser request blocked", "url", ev.Request.URL, "type", ev.ResourceType, "reason", why)
			if st := t.current(); st != nil {
				st.mu.Lock()
				st.blocked = append(st.blocked, note)
				st.mu.Unlock()
			}
			call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
			continue
		}
		if ev.ResourceType == network.ResourceTypeDocument {
			if st := t.current(); st != nil && st.navigates(ev.FrameID, ev.Request.URL) {
				call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonAborted})
				continue
			}
		}
		call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
	}
}

// navigates notes that frame asks for the document at u: once the top
// frame showed a challenge, that is the challenge page moving on, its
// work done. It reports whether the request is not to be sent.
func (s *tabState) navigates(frame cdp.FrameID, u string) (stop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.challenged || s.onward != "" || frame != s.frame {
		return false
	}
	s.onward = u
	select {
	case s.moved <- struct{}{}:
	default:
	}
	return s.stopOnward
}
