package crawler

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/gather-crawler/gather/crawler/progress"
)

// snapshots records the run's Stats in the database every
// Options.ProgressEvery until stop is called, which waits for the last:
// a `gather serve` in another process reads them for what the committed
// pages do not tell (queued, ETA, per-host in flight). A failed write is
// logged once and tried again next time: it must never stop a crawl.
func (r *run) snapshots() (stop func()) {
	every := r.c.opts.ProgressEvery
	if every == 0 {
		every = DefaultProgressEvery
	}
	if every < 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		warned := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			st := r.c.Stats()
			st.Version = progress.Version
			b, err := json.Marshal(st)
			if err == nil {
				wctx, wcancel := context.WithTimeout(ctx, every)
				err = r.c.store.SaveProgress(wctx, r.id, b, time.Now()) // a liveness time: the real clock, not Options.Now
				wcancel()
			}
			if err != nil && ctx.Err() == nil && !warned {
				warned = true
				r.log.Warn("the run's progress could not be recorded for gather serve; the crawl goes on", "error", err)
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
