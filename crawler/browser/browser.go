// Package browser loads pages in a real Chromium for the crawler: one
// browser process per crawl, a bounded pool of tabs, a hard timeout per
// page, the browser restarted after a number of pages or when it crashes
// (the pages that were in it are loaded again), and every request a page
// makes checked by the caller's guard before it leaves the browser.
// Nothing is downloaded: the executable is given (config.FindChromium).
package browser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/chromedp"
)

// Defaults of Options.
const (
	DefaultTabs         = 2
	DefaultRecycleAfter = 500
	DefaultPageTimeout  = 30 * time.Second
)

// ErrBlocked marks a navigation the guard refused: retrying cannot help.
var ErrBlocked = errors.New("blocked by the crawl's fetch rules")

// ErrClosed is returned by Load after Close.
var ErrClosed = errors.New("browser closed")

// Options configure a Browser.
type Options struct {
	// Exec is the Chromium executable (required).
	Exec string
	// Tabs is the number of pages loaded at once (0: DefaultTabs).
	Tabs int
	// RecycleAfter restarts the browser after that many pages (0:
	// DefaultRecycleAfter).
	RecycleAfter int
	// PageTimeout bounds one page, from its navigation to reading its
	// DOM, and the opening of a tab apart; it does not count the wait for
	// a free tab (0: DefaultPageTimeout).
	PageTimeout time.Duration
	// UserAgent is sent as is; empty: Chromium's own.
	UserAgent string
	// Allow is asked about every request the browser makes, the
	// navigation and each sub-request; a non-nil error blocks it. Nil
	// allows everything.
	Allow func(u *url.URL) error
	// Challenges and Captchas add to AWS WAF's signs. A page that shows a
	// challenge is waited past (its script answers it and reloads); one
	// that shows a CAPTCHA is returned at once, for the caller to judge.
	Challenges, Captchas []Sign
	// Flags are extra command-line switches (tests map host names with
	// host-resolver-rules; a crawl's proxy is proxy-server).
	Flags map[string]any
	// ProxyAuth, when set, gives the proxy's credentials (see ProxyAuth).
	ProxyAuth ProxyAuth
	// Documents fills Page.Document (one more protocol call a page): the
	// crawl sets it when it keeps an archive.
	Documents bool
	Logger    *slog.Logger
}

// Browser is one Chromium at a time and its tabs. It is safe for
// concurrent use; Close stops it and waits for its processes.
type Browser struct {
	opts Options
	log  *slog.Logger
	tabs chan struct{}

	// sweep removes dead gathers' profiles before the first start.
	sweep sync.Once
	// noSandbox is set once Chromium failed to start in its sandbox.
	noSandbox atomic.Bool

	mu     sync.Mutex
	cur    *instance
	closed bool
	// stopping counts instances being stopped outside mu; Close waits.
	stopping sync.WaitGroup

	starts, pages, crashes atomic.Int64
}

// instance is one Chromium process.
type instance struct {
	ctx         context.Context // the browser's chromedp context
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	dir         string
	pid         int
	loaded      int // pages started in it
	active      int // pages in it now
	retired     bool
	idle        []*tab // open tabs between pages
	first       *tab   // the tab Chromium started with, if set up
}

// gone reports whether in's Chromium is gone: its context ended, or its
// connection dropped. chromedp closes LostConnection before it cancels the
// contexts, and a page's error can come back in between: judged by the
// context alone, a crash once passed for a page's own failure (a -race run
// caught it), and the page was not loaded again.
func (in *instance) gone() bool {
	if in.ctx.Err() != nil {
		return true
	}
	if c := chromedp.FromContext(in.ctx); c != nil && c.Browser != nil {
		select {
		case <-c.Browser.LostConnection:
			return true
		default:
		}
	}
	return false
}

// New checks the options; the browser starts with Warm or the first page.
func New(opts Options) (*Browser, error) {
	if opts.Exec == "" {
		return nil, errors.New("browser: no Chromium executable given")
	}
	if opts.Tabs <= 0 {
		opts.Tabs = DefaultTabs
	}
	if opts.RecycleAfter <= 0 {
		opts.RecycleAfter = DefaultRecycleAfter
	}
	if opts.PageTimeout <= 0 {
		opts.PageTimeout = DefaultPageTimeout
	}
	b := &Browser{opts: opts, log: opts.Logger, tabs: make(chan struct{}, opts.Tabs)}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	return b, nil
}

// Stats counts browsers started, pages loaded and crashes seen.
type Stats struct{ Starts, Pages, Crashes int64 }

// Stats returns the counts so far.
func (b *Browser) Stats() Stats {
	return Stats{Starts: b.starts.Load(), Pages: b.pages.Load(), Crashes: b.crashes.Load()}
}

// PID is the process id of the running Chromium (0: none), for tests.
func (b *Browser) PID() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return 0
	}
	return b.cur.pid
}

// Close stops the browser and waits until its processes are gone.
func (b *Browser) Close() error {
	b.mu.Lock()
	b.closed = true
	cur := b.cur
	b.cur = nil
	if cur != nil {
		cur.retired = true
	}
	b.mu.Unlock()
	if cur != nil {
		// Pages still loading see their browser go and end with an error.
		b.stop(cur)
	}
	b.stopping.Wait()
	return nil
}

// Warm starts Chromium in the background, so that the first page, or the
// first challenge, does not wait for it to start. A failed start is
// logged; the first page tries again and fails with the reason.
func (b *Browser) Warm() {
	b.stopping.Add(1)
	go func() {
		defer b.stopping.Done()
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.closed || b.cur != nil {
			return
		}
		in, err := b.start()
		if err != nil {
			b.log.Warn("starting Chromium ahead of the first page", "error", err)
			return
		}
		b.cur = in
	}()
}

// acquire returns the browser a page is to be loaded in, starting one
// when there is none, the current one has loaded RecycleAfter pages or
// has died, and an idle tab of it, if any (nil: the caller opens one,
// outside the lock).
func (b *Browser) acquire() (*instance, *tab, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, nil, ErrClosed
	}
	if in := b.cur; in != nil && (in.loaded >= b.opts.RecycleAfter || in.gone()) {
		b.retireLocked(in)
	}
	if b.cur == nil {
		in, err := b.start()
		if err != nil {
			b.mu.Unlock()
			return nil, nil, err
		}
		b.cur = in
	}
	in := b.cur
	in.loaded++
	in.active++
	var t *tab
	if n := len(in.idle); n > 0 {
		t, in.idle = in.idle[n-1], in.idle[:n-1]
	}
	b.mu.Unlock()
	return in, t, nil
}

// release ends a page's use of in and of its tab t, which goes back to
// the idle ones when reuse says so and in is still in use, and is closed
// otherwise; a retired browser stops with its last page.
func (b *Browser) release(in *instance, t *tab, reuse bool) {
	b.mu.Lock()
	in.active--
	keep := t != nil && reuse && !in.retired && !in.gone()
	if keep {
		in.idle = append(in.idle, t)
	}
	if in.retired && in.active == 0 {
		b.stopAsync(in)
	}
	b.mu.Unlock()
	if t != nil && !keep {
		t.close()
	}
}

// retireLocked takes in out of use; it stops once its pages are done.
func (b *Browser) retireLocked(in *instance) {
	in.retired = true
	if b.cur == in {
		b.cur = nil
	}
	if in.active == 0 {
		b.stopAsync(in)
	}
}

func (b *Browser) stopAsync(in *instance) {
	b.stopping.Add(1)
	go func() {
		defer b.stopping.Done()
		b.stop(in)
	}()
}

// stop ends in's process; chromedp's allocator waits for it and kills
// any of its children left (found by their profile directory).
func (b *Browser) stop(in *instance) {
	b.mu.Lock()
	idle := in.idle
	in.idle = nil
	b.mu.Unlock()
	for _, t := range idle {
		if !t.first {
			t.close()
		}
	}
	in.cancel()
	in.allocCancel()
	if in.first != nil {
		in.first.guards.Wait() // it ends with the browser's context
	}
	os.RemoveAll(in.dir)
}

// start launches a Chromium with a fresh profile.
func (b *Browser) start() (*instance, error) {
	b.sweep.Do(func() {
		if n := sweepProfiles(); n > 0 {
			b.log.Info("removed the Chromium profiles of gather processes that were killed", "dirs", n)
		}
	})
	in, err := b.launch(b.noSandbox.Load())
	if err != nil && !b.noSandbox.Load() {
		// No usable sandbox here (user namespaces off in a container):
		// once said, the crawl goes on without it.
		if in, err = b.launch(true); err == nil {
			b.noSandbox.Store(true)
			b.log.Warn("Chromium's sandbox is not available here; running without it, which leaves the crawled pages' scripts less contained")
		}
	}
	if err != nil {
		return nil, err
	}
	b.starts.Add(1)
	b.log.Debug("chromium started", "pid", in.pid, "exec", b.opts.Exec)
	t, err := b.firstTab(in)
	in.first = t // for stop to wait for its guard
	if err != nil {
		b.log.Debug("the browser's first tab could not be set up; pages open tabs of their own", "error", err)
	} else {
		in.idle = append(in.idle, t)
	}
	return in, nil
}

// launch starts one Chromium with a fresh profile, in its sandbox unless
// noSandbox (as root, Chromium refuses its sandbox).
func (b *Browser) launch(noSandbox bool) (*instance, error) {
	dir, err := newProfile()
	if err != nil {
		return nil, fmt.Errorf("browser profile: %w", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(b.opts.Exec),
		chromedp.UserDataDir(dir),
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("dns-prefetch-disable", true),
		parentDeath(),
	)
	if noSandbox || os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	if b.opts.UserAgent != "" {
		opts = append(opts, chromedp.UserAgent(b.opts.UserAgent))
	}
	for k, v := range b.opts.Flags {
		opts = append(opts, chromedp.Flag(k, v))
	}
	// The browser lives until stop, whatever the page that started it.
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		acancel()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", b.opts.Exec, err)
	}
	in := &instance{ctx: ctx, cancel: cancel, allocCancel: acancel, dir: dir}
	if p := chromedp.FromContext(ctx).Browser.Process(); p != nil {
		in.pid = p.Pid
	}
	return in, nil
}
