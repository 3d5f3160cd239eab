package crawler

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/gather-crawler/gather/storage"
)

// feed dispatches the start URLs, then followed links from the frontier,
// until nothing is left, the limit is reached or the run is cancelled.
func (r *run) feed() error {
	f := newFeed(r.c.cfg.Crawl.Start)
	defer f.close()
	batch := make([]string, 0, feedBatch)
	for r.ctx.Err() == nil && !r.limitReached() {
		batch = batch[:0]
		for len(batch) < feedBatch {
			u, err := f.next()
			if err != nil {
				return err
			}
			if u == "" {
				break
			}
			batch = append(batch, normalizeURL(u))
		}
		if len(batch) == 0 {
			break
		}
		if err := r.dispatchBatch(batch, nil); err != nil {
			return err
		}
	}
	if r.c.cfg.Crawl.MaxDepth > 1 {
		return r.feedDiscovered()
	}
	return nil
}

// feedDiscovered dispatches followed links recorded as pending in the
// frontier, including those a crashed run left behind, until none remain
// and no page is in flight that could add more.
func (r *run) feedDiscovered() error {
	job := r.c.cfg.Crawl.Name
	var cursor int64
	for r.ctx.Err() == nil && !r.limitReached() {
		pages, last, err := r.c.store.UnfinishedDiscovered(r.ctx, job, cursor, feedBatch)
		if err != nil {
			return err
		}
		if len(pages) > 0 {
			cursor = last
			urls := make([]string, len(pages))
			depths := make([]int, len(pages))
			for i, p := range pages {
				urls[i], depths[i] = p.URL, p.Depth
			}
			if err := r.dispatchBatch(urls, depths); err != nil {
				return err
			}
			continue
		}
		if r.c.stats.inFlight.Load() == 0 {
			// Links of the last pages may still be queued in the writer.
			if err := r.w.Flush(r.ctx); err != nil {
				return err
			}
			more, _, err := r.c.store.UnfinishedDiscovered(r.ctx, job, cursor, 1)
			if err != nil {
				return err
			}
			if len(more) == 0 && r.c.stats.inFlight.Load() == 0 {
				return nil
			}
			continue
		}
		select {
		case <-r.finished:
		case <-r.ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (r *run) limitReached() bool {
	return r.c.opts.Limit > 0 && r.c.stats.dispatched.Load() >= r.c.opts.Limit
}

// dispatchBatch looks the URLs up in the frontier and dispatches those not
// yet done. URLs committed before the lookup leave the in-flight set only
// after it, so a duplicate is always caught by one or the other.
func (r *run) dispatchBatch(urls []string, depths []int) error {
	r.mu.Lock()
	committed := r.committed
	r.committed = nil
	r.mu.Unlock()
	states, err := r.c.store.PageStates(r.ctx, urls)
	if err != nil {
		if r.ctx.Err() != nil {
			return nil
		}
		return err
	}
	r.mu.Lock()
	for _, u := range committed {
		delete(r.inflight, u)
	}
	r.mu.Unlock()
	for i, u := range urls {
		if r.ctx.Err() != nil || r.limitReached() {
			return nil
		}
		if st, ok := states[u]; ok && r.isDone(st) {
			if st.Run != r.id {
				r.c.stats.already.Add(1)
			}
			continue
		}
		depth := 0
		if depths != nil {
			depth = depths[i]
		}
		r.dispatch(u, depth)
	}
	return nil
}

// isDone reports whether a page needs no fetch in this run: stored and not
// stale, or already tried in this run.
func (r *run) isDone(st storage.PageState) bool {
	if st.Run == r.id && st.Status != storage.PagePending {
		return true
	}
	if st.Status != storage.PageOK {
		return false
	}
	refresh := r.c.cfg.Crawl.RefreshAfter
	if refresh <= 0 {
		return true
	}
	stored, err := time.Parse(storage.TimeFormat, st.StoredAt)
	return err == nil && time.Since(stored) < refresh
}

// dispatch hands one URL to colly once there is room in the window.
func (r *run) dispatch(u string, depth int) {
	r.mu.Lock()
	_, dup := r.inflight[u]
	if !dup {
		r.inflight[u] = struct{}{}
	}
	r.mu.Unlock()
	if dup {
		return
	}
	select {
	case r.window <- struct{}{}:
	case <-r.ctx.Done():
		return
	}
	r.c.stats.dispatched.Add(1)
	r.c.stats.inFlight.Add(1)
	ps := &pageState{url: u, depth: depth}
	r.mu.Lock()
	r.live[ps] = struct{}{}
	r.mu.Unlock()
	if err := r.w.Pending(context.Background(), u, depth); err != nil {
		r.fatal(err)
		r.abandon(ps)
		return
	}
	cctx := colly.NewContext()
	cctx.Put(stateKey, ps)
	if err := r.col.Request("GET", u, nil, cctx, nil); err != nil {
		// colly refused before sending: a malformed URL or a host outside
		// allowed_domains. Retrying cannot help.
		r.finish(ps, storage.Page{Status: storage.PageFailed, Error: "not fetched: " + err.Error()})
	}
}

// normalizeURL lower-cases scheme and host so one page has one identity.
func normalizeURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	return u.String()
}
