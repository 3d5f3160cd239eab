package crawler

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/gather-crawler/gather/crawler/extract"
	"github.com/gather-crawler/gather/crawler/fetch"
	"github.com/gather-crawler/gather/crawler/robots"
	"github.com/gather-crawler/gather/storage"
)

// One pipeline, many doors. Every way into gather runs a page through
// the same stages:
//
//	source ─▶ fetch (colly over one RoundTripper chain) ─▶ decide (fetch.DecideResponse)
//	       ─▶ decode + extract (process) ─▶ sink (pageSink)
//
// The doors differ only in their source and their sink: a local run
// (Run: the config's start URLs, sitemaps and followed links; the SQLite
// writer), a worker (Work: the shared frontier's leases; the frontier's
// results), gather try (Try: one URL; the terminal), a seeding (the
// sitemaps only) and a saved file (TryFile: no fetch). Nothing between
// source and sink is built twice: newRun and startFetching build the run
// for every door, and process is the one road from a body to records.

// newRun is a run of any door, before it fetches: its context, window,
// report and HTTP transport. log names the door.
func (c *Crawler) newRun(ctx context.Context, log *slog.Logger) *run {
	cr := c.cfg.Crawl
	r := &run{c: c, log: log, report: newReport(c.cfg), items: c.cfg.ItemsHash(),
		backoff: fetch.Backoff{Base: c.opts.BackoffBase, Cap: c.opts.BackoffCap}}
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	r.win = newWindow(c.windowSize())
	r.tr = fetch.NewTransport(fetch.Options{Timeout: cr.Timeout, Parallelism: cr.Parallelism, AllowPrivate: c.allowPrivate, Proxies: c.proxies})
	return r
}

// startFetching opens the fetch stage of r for pages that end in w: the
// browser when the fetch modes need one, robots.txt, and colly's
// collector over the transport chain. shared, in a worker, holds the
// per-host limits across every worker of the crawl (nil: a local run).
func (r *run) startFetching(w pageSink, shared *sharedSlots) error {
	r.w, r.shared = w, shared
	if err := r.openBrowser(); err != nil {
		return err
	}
	if r.c.cfg.Crawl.RobotsTxt {
		// robots.txt takes a crawl-wide slot in a worker (not a local one:
		// it is read before a page's local slot is taken).
		r.robots = robots.New(fetch.LimitGate{Next: r.tr, Shared: shared.slots()}, r.c.userAgent, fetch.Describe)
	}
	cr := r.c.cfg.Crawl
	r.limits = fetch.NewHostLimits(cr.Parallelism, cr.Delay, cr.RandomDelay)
	chain, jar := r.transport()
	r.eng = newCollyEngine(engineOptions{ctx: r.ctx, userAgent: r.c.userAgent, allowedHosts: r.c.allowedHosts,
		headers: cr.Headers, maxBody: int64(cr.MaxBodySize), transport: chain, jar: jar, checkRedirect: r.c.checkRedirect},
		engineHooks{admit: r.admit, response: r.onResponse, failure: r.onError})
	r.c.live.Store(r)
	return nil
}

// stopFetching waits for the pages in colly, stops the browser and ends
// the pages colly dropped; nothing is in flight once it returns.
func (r *run) stopFetching() {
	r.eng.wait()
	if r.br != nil {
		// No page is in a tab any more: stop Chromium and wait for it.
		r.br.Close()
	}
	r.settleLeftovers()
	r.tr.CloseIdleConnections()
}

// fetched is a response the policy found good, on its way to records.
type fetched struct {
	// final is the URL the body came from, after redirects: relative
	// links resolve against it (or the page's <base>).
	final string
	body  []byte
	// contentType is the header as the server sent it: the body is the
	// bytes as received, decoded once, in extraction.
	contentType string
	// links says whether the page's links are wanted (max_depth).
	links bool
}

// processed is what a page gave: its outcome as the sink stores it, the
// extraction's result (nil when the page was not extracted), and the
// links to follow, canonical, on allowed hosts, each once.
type processed struct {
	page   storage.Page
	result *extract.Result
	links  []string
	// hubs holds the indexes in links of those a follow rule with hub:
	// true selected (hubs.go).
	hubs map[int]bool
}

// process is the one road from a good response's bytes to records:
// whether the items can read it at all, decoding to UTF-8 and
// extraction, and the links a crawl follows. page carries what the fetch
// stage knew (status, bytes, fetched_by). An error is only ctx's end.
func (c *Crawler) process(ctx context.Context, in fetched, page storage.Page) (processed, error) {
	if ok, why := c.ex.Accepts(in.contentType, in.body); !ok {
		page.Status, page.Error = storage.PageSkipped, why
		return processed{page: page}, nil
	}
	res, err := c.ex.ExtractContext(ctx, in.final, in.body, in.contentType, in.links)
	if err != nil {
		if ctx.Err() != nil {
			return processed{}, ctx.Err()
		}
		page.Status, page.Error = storage.PageFailed, err.Error()
		return processed{page: page}, nil
	}
	page.Status = storage.PageOK
	page.Warnings = res.Warnings
	page.Items = make([]storage.ItemRows, len(res.Items))
	for i, it := range res.Items {
		rows := make([]storage.Row, len(it.Records))
		for j, rec := range it.Records {
			rows[j] = storage.Row{Values: rec.Values, Index: rec.Index}
		}
		page.Items[i] = storage.ItemRows{Table: it.Name, Rows: rows}
	}
	out := processed{page: page, result: res}
	seen := make(map[string]int, len(res.Links)) // link → its index in out.links
	for i, link := range res.Links {
		link = c.canon.url(link)
		hub := res.Hub != nil && res.Hub[i]
		if j, ok := seen[link]; ok {
			if hub {
				out.markHub(j)
			}
			continue
		}
		u, err := url.Parse(link)
		if err != nil || !c.hostAllowed(u.Hostname()) {
			continue
		}
		seen[link] = len(out.links)
		out.links = append(out.links, link)
		if hub {
			out.markHub(len(out.links) - 1)
		}
	}
	return out, nil
}
