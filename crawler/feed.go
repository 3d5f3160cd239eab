package crawler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler/refetch"
	"github.com/gather-crawler/gather/storage"
)

// feedBatch is how many URLs are looked up in the frontier at once.
const feedBatch = 256

// skipsLogged is how many skipped ids the feed logs one by one; past them
// it counts, and says how many in all at the end of the file, so that a
// file of garbage cannot flood the log.
const skipsLogged = 10

// feed yields the start URLs one at a time: the literal urls, then the
// template filled with each id, then with each line of ids_file, read as it
// goes so that a million ids never sit in memory. An id the template
// cannot take and a line over config.MaxIDLine are logged with where they
// are and skipped, never fatal: one bad line must not cost the ids after
// it.
type feed struct {
	start   config.Start
	tmpl    config.Template
	tmplErr error
	// log is where skipped ids are reported; nil is slog.Default().
	log   *slog.Logger
	stage int
	i     int
	file  *os.File
	ids   *config.IDReader
	// skipped counts the ids and lines skipped so far: the run's summary
	// can report it once the feed is done.
	skipped int64
}

func newFeed(start config.Start) *feed {
	f := &feed{start: start}
	if len(start.IDs) > 0 || start.IDsFile != "" {
		f.tmpl, f.tmplErr = config.ParseTemplate(start.URLTemplate)
	}
	return f
}

// next returns the next start URL, or "" when there are no more. An
// ids_file that cannot be opened or read is an error.
func (f *feed) next() (string, error) {
	for {
		switch f.stage {
		case 0:
			if f.i < len(f.start.URLs) {
				f.i++
				return f.start.URLs[f.i-1], nil
			}
			f.stage, f.i = 1, 0
			if f.tmplErr != nil {
				// Validate refuses such a template; a config built in code
				// may not have been validated.
				return "", fmt.Errorf("crawl.start.url_template: %w", f.tmplErr)
			}
		case 1:
			if f.i < len(f.start.IDs) {
				f.i++
				u, err := f.tmpl.Fill(f.start.IDs[f.i-1])
				if err != nil {
					f.skip("a start id is skipped", "index", f.i-1, "reason", err.Error())
					continue
				}
				return u, nil
			}
			f.stage = 2
		case 2:
			if f.start.IDsFile == "" {
				f.end()
				continue
			}
			if f.ids == nil {
				file, err := os.Open(f.start.IDsFile)
				if err != nil {
					return "", fmt.Errorf("crawl.start.ids_file: %w", err)
				}
				f.file = file
				f.ids = config.NewIDReader(file)
			}
			l, err := f.ids.Next()
			if err == io.EOF {
				f.close()
				f.end()
				continue
			}
			if err != nil {
				return "", fmt.Errorf("crawl.start.ids_file %s %w", f.start.IDsFile, err)
			}
			u, err := fillTemplate(f.tmpl, l)
			if err != nil {
				f.skip("a line of ids_file is skipped", "file", f.start.IDsFile, "line", l.N, "reason", err.Error())
				continue
			}
			return u, nil
		default:
			return "", nil
		}
	}
}

// end moves past the ids, saying how many were skipped if the log did not
// show them all.
func (f *feed) end() {
	f.stage = 3
	if f.skipped > skipsLogged {
		f.logger().Warn("start ids were skipped; the first are logged above", "skipped", f.skipped)
	}
}

func (f *feed) skip(msg string, args ...any) {
	f.skipped++
	if f.skipped <= skipsLogged {
		f.logger().Warn(msg, args...)
	}
}

func (f *feed) logger() *slog.Logger {
	if f.log == nil {
		return slog.Default()
	}
	return f.log
}

func (f *feed) close() {
	if f.file != nil {
		f.file.Close()
		f.file = nil
	}
}

// fillTemplate is the URL of a line of ids_file, or why the line is
// skipped. The id is data, never URL syntax: config.Template escapes it
// as one path segment or one query value.
func fillTemplate(tmpl config.Template, l config.IDLine) (string, error) {
	if err := l.Err(tmpl); err != nil {
		return "", err
	}
	return tmpl.Fill(l.ID)
}

// countStart counts the start URLs without holding them, for the progress
// total. It reads ids_file once, and counts what the feed would yield:
// the ids and lines the feed skips are not counted, or the run would
// report them as not reached.
func countStart(ctx context.Context, start config.Start) (int64, error) {
	n := int64(len(start.URLs))
	if len(start.IDs) == 0 && start.IDsFile == "" {
		return n, nil
	}
	tmpl, err := config.ParseTemplate(start.URLTemplate)
	if err != nil {
		return 0, err
	}
	for _, id := range start.IDs {
		if tmpl.Check(id) == nil {
			n++
		}
	}
	if start.IDsFile == "" {
		return n, nil
	}
	f, err := os.Open(start.IDsFile)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := config.NewIDReader(f)
	for {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		l, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		if l.Err(tmpl) == nil {
			n++
		}
	}
}

// feed dispatches the start URLs, then followed links from the frontier,
// until nothing is left, the limit is reached or the run is cancelled.
func (r *run) feed() error {
	f := newFeed(r.c.cfg.Crawl.Start)
	f.log = r.log
	defer func() {
		r.idsSkipped = f.skipped
		f.close()
	}()
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
			batch = append(batch, r.c.canon.url(u))
		}
		if len(batch) == 0 {
			break
		}
		if err := r.dispatchBatch(batch, nil, nil); err != nil {
			return err
		}
	}
	if st := r.c.cfg.Crawl.Start; len(st.Sitemaps) > 0 || st.SitemapsFromRobots {
		if err := r.feedSitemaps(); err != nil {
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
	var again storage.Refetch
	if refresh := r.c.cfg.Crawl.RefreshAfter; refresh > 0 {
		again.StaleBefore = storage.FormatTime(r.c.opts.Now().Add(-refresh))
	}
	if r.reextract {
		again.ItemsHash = r.items
	}
	again.HubStaleBefore = r.hubRefetch()
	var cursor int64
	for r.ctx.Err() == nil && !r.limitReached() {
		pages, last, err := r.c.store.UnfinishedDiscovered(r.ctx, job, cursor, feedBatch, again)
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
			if err := r.dispatchBatch(urls, depths, nil); err != nil {
				return err
			}
			continue
		}
		if r.c.stats.inFlight.Load() == 0 {
			// Links of the last pages may still be queued in the writer.
			if err := r.w.Flush(r.ctx); err != nil {
				return err
			}
			more, _, err := r.c.store.UnfinishedDiscovered(r.ctx, job, cursor, 1, again)
			if err != nil {
				return err
			}
			if len(more) == 0 && r.c.stats.inFlight.Load() == 0 {
				return nil
			}
			continue
		}
		select {
		case <-r.win.freed:
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
// after it, so a duplicate is always caught by one or the other. depths
// (nil: start pages) and lastmods (a sitemap's <lastmod>; nil or zero:
// unknown) go with urls.
func (r *run) dispatchBatch(urls []string, depths []int, lastmods []time.Time) error {
	committed := r.win.takeCommitted()
	states, err := r.c.store.PageStates(r.ctx, r.c.cfg.Crawl.Name, urls)
	if err != nil {
		if r.ctx.Err() != nil {
			return nil
		}
		return err
	}
	r.win.forget(committed)
	startHub := r.startHub(depths, lastmods)
	for i, u := range urls {
		if r.ctx.Err() != nil || r.limitReached() {
			return nil
		}
		if depths == nil {
			r.startSeen++
		}
		st, known := states[u]
		retry := false
		if known {
			var lastmod time.Time
			if lastmods != nil {
				lastmod = lastmods[i]
			}
			switch r.c.refetch.DecideHub(st, lastmod, r.id, r.items, r.c.opts.Now(), startHub || st.Hub) {
			case refetch.ThisRun:
				continue
			case refetch.Stored:
				r.c.stats.already.Add(1)
				continue
			case refetch.Waiting:
				r.c.stats.deferred.Add(1)
				continue
			case refetch.GivenUp:
				r.c.stats.givenUp.Add(1)
				continue
			}
			retry = st.Status == storage.PageFailed
		}
		depth := 0
		if depths != nil {
			depth = depths[i]
		}
		r.dispatch(u, depth, retry)
	}
	return nil
}

// Due reports whether a new run of the crawl fetches a page the database
// knows (st), by the rules a local run follows (refetch.Policy); lastmod
// is its sitemap's <lastmod>, zero when unknown. A shared crawl's seed
// asks it, so that a scheduled run of workers re-fetches what a local run
// would, and nothing else.
func (c *Crawler) Due(st storage.PageState, lastmod time.Time) bool {
	return c.refetch.Decide(st, lastmod, 0, c.items, c.opts.Now()) == refetch.Now
}

// dispatch hands one URL to colly once there is room in the window; retry
// says the page failed in an earlier run.
func (r *run) dispatch(u string, depth int, retry bool) {
	ps := r.win.enter(r.ctx, u, depth)
	if ps == nil {
		return
	}
	ps.retry = retry
	r.c.stats.dispatched.Add(1)
	r.c.stats.inFlight.Add(1)
	if err := r.w.Pending(context.Background(), u, depth); err != nil {
		r.fatal(err)
		r.leavePending(ps)
		return
	}
	if err := r.eng.fetch(u, ps); err != nil {
		// colly refused before sending: a malformed URL or a host outside
		// allowed_domains. Retrying cannot help.
		r.record(ps, storage.Page{Status: storage.PageFailed, Error: "not fetched: " + err.Error()})
	}
}
