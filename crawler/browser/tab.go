package browser

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// tab is one browser tab, kept open for page after page: a new tab costs
// a renderer process and the setup of its domains, more than a page on a
// fast site. A tab whose page failed is closed, not reused.
type tab struct {
	ctx    context.Context // the tab's chromedp context
	cancel context.CancelFunc
	// first is the tab Chromium starts with, whose context is the
	// browser's own: cancelling it would end the browser.
	first  bool
	guards sync.WaitGroup // the goroutine that answers its requests

	mu sync.Mutex
	st *tabState // the page being loaded; nil between pages
}

// openTab opens a tab in in with every request it makes checked by the
// guard, and the events a page's readiness is told by switched on.
func (b *Browser) openTab(in *instance) (*tab, error) {
	ctx, cancel := chromedp.NewContext(in.ctx)
	// The first action opens the tab, which lives as long as ctx.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("opening a tab: %w", err)
	}
	t := &tab{ctx: ctx, cancel: cancel}
	if err := b.setUp(t); err != nil {
		return nil, err
	}
	return t, nil
}

// firstTab makes the tab Chromium starts with (the one chromedp attached
// to as the browser started) the pool's first: opening one costs some
// 120 ms here, on the path of a crawl's first challenge, whose solve holds
// up all its host's pages, and the first tab's renderer is there anyway.
// It returns the tab even when setting it up failed: its guard may have
// started, and ends only with the browser.
func (b *Browser) firstTab(in *instance) (*tab, error) {
	t := &tab{ctx: in.ctx, first: true}
	return t, b.setUp(t)
}

// setUp has every request of t's pages checked by the guard and switches
// on the events a page's readiness is told by; on failure t is closed.
func (b *Browser) setUp(t *tab) error {
	ctx := t.ctx
	if err := chromedp.Listen(ctx, t.event); err != nil {
		t.close()
		return err
	}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	t.guards.Add(1)
	go func() {
		defer t.guards.Done()
		b.guard(ctx, paused, t)
	}()
	enable := fetch.EnableParams{}
	if b.opts.ProxyAuth != nil {
		auth := chromedp.Events(ctx, fetch.AuthRequired)
		t.guards.Add(1)
		go func() {
			defer t.guards.Done()
			b.answerAuth(ctx, auth)
		}()
		enable.HandleAuthRequests = new(true)
	}
	sctx, stop := context.WithTimeout(ctx, b.opts.PageTimeout)
	defer stop()
	for _, err := range []error{
		call(sctx, fetch.Enable, enable),
		call(sctx, network.Enable, network.EnableParams{}),
		call(sctx, page.SetLifecycleEventsEnabled, page.SetLifecycleEventsEnabledParams{Enabled: true}),
	} {
		if err != nil {
			t.close()
			return fmt.Errorf("setting up a tab: %w", err)
		}
	}
	return nil
}

// event hands the tab's events to its current page.
func (t *tab) event(ev any) {
	t.mu.Lock()
	st := t.st
	t.mu.Unlock()
	if st != nil {
		st.event(ev)
	}
}

// page starts a page in the tab: the events from now on are its.
func (t *tab) page() *tabState {
	st := &tabState{moved: make(chan struct{}, 1)}
	t.mu.Lock()
	t.st = st
	t.mu.Unlock()
	return st
}

// current is the page being loaded, nil between pages.
func (t *tab) current() *tabState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st
}

// blank ends the page in the tab, so that none of its scripts or requests
// runs on into the next page, and reports whether the tab can be reused.
func (t *tab) blank() bool {
	t.mu.Lock()
	t.st = nil
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(t.ctx, 2*time.Second)
	defer cancel()
	nav, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: "about:blank"})
	return err == nil && nav.ErrorText == ""
}

// close closes the tab and waits for its guard. The first tab's target
// is closed through the browser instead (its context is the browser's);
// its guard ends with the browser, and the instance's stop waits for it.
func (t *tab) close() {
	if t.first {
		ctx, cancel := context.WithTimeout(t.ctx, 2*time.Second)
		defer cancel()
		if c := chromedp.FromContext(t.ctx); c != nil && c.Target != nil {
			chromedp.CallBrowser(ctx, target.CloseTarget, target.CloseTargetParams{TargetID: c.Target.TargetID})
		}
		return
	}
	t.cancel()
	t.guards.Wait()
}
