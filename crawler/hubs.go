package crawler

import (
	"context"
	"time"

	"github.com/gather-crawler/gather/storage"
)

// Hub pages are how a re-run of a follow crawl finds pages added to a site
// without fetching every stored page again: the start pages (urls and
// ids) and the pages a follow rule marks hub: true are fetched again once
// stored longer ago than crawl.hub_refresh_after; their links new to the
// frontier are fetched, and the leaf pages already stored keep
// refresh_after. Sitemaps are read on every run already.

// startHub reports whether a start page dispatched now is a hub: in a
// follow crawl, a page of urls or ids (lastmods nil), not one a sitemap
// lists.
func (r *run) startHub(depths []int, lastmods []time.Time) bool {
	return depths == nil && lastmods == nil && r.c.cfg.Crawl.MaxDepth > 1 && r.c.cfg.Crawl.HubRefreshAfter > 0
}

// hubRefetch is the frontier's question for hubs followed from other
// pages: those stored before hub_refresh_after ago ("" : none).
func (r *run) hubRefetch() string {
	after := r.c.cfg.Crawl.HubRefreshAfter
	if after <= 0 || r.c.cfg.Crawl.MaxDepth <= 1 {
		return ""
	}
	return storage.FormatTime(r.c.opts.Now().Add(-after))
}

// hubSink is a sink that can mark a followed link as a hub (the local
// writer; a shared crawl's sink marks links pending only).
type hubSink interface {
	PendingHub(ctx context.Context, url string, depth int) error
}

// pendingLink marks a followed link pending, as a hub when a hub rule
// selected it.
func (r *run) pendingLink(link string, depth int, hub bool) error {
	if hs, ok := r.w.(hubSink); ok && hub {
		return hs.PendingHub(context.Background(), link, depth)
	}
	return r.w.Pending(context.Background(), link, depth)
}

func (p *processed) markHub(i int) {
	if p.hubs == nil {
		p.hubs = map[int]bool{}
	}
	p.hubs[i] = true
}

// hub reports whether link i of p is a hub.
func (p processed) hub(i int) bool { return p.hubs[i] }
