package crawler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gather-crawler/gather/crawler/archive"
	"github.com/gather-crawler/gather/crawler/fetch"
	"github.com/gather-crawler/gather/storage"
)

// fetchedArchive is gather_pages.fetched_by of a page extracted again from
// its archived response.
const fetchedArchive = "archive"

// ReextractOptions choose the pages a re-extraction reads.
type ReextractOptions struct {
	// Items, when set, keeps the pages at least one of these items applies
	// to (its url pattern matches).
	Items []string
	// URL, when set, keeps the pages whose URL it matches.
	URL *regexp.Regexp
	// Limit stops after this many pages; 0: no limit.
	Limit int64
	// Workers is how many pages are extracted at once (default: one per
	// CPU): a re-extraction fetches nothing and is bound by the CPU.
	Workers int
	// olderThan, when set, keeps the pages stored with another version of
	// the items than this one (a crawl's own re-extraction).
	olderThan string
	// unreachable are archive files the index names that are not there
	// (archive_reach.go): their pages are skipped, reported once.
	unreachable map[string]bool
}

// Reextract runs the config's current items over the archived responses
// of the job's pages, sending no request: the same pipeline as a crawl
// (decide, decode, extract, the writer) whose source is the archive. It is
// a run of its own in gather_runs; its pages say fetched_by archive, their
// rows are upserted and their changes recorded as a crawl's are. A record
// that cannot be read (a file gone, truncated or corrupt) leaves its page
// as it was, and is reported: a crawl fetches such a page again once its
// items are out of date.
func (c *Crawler) Reextract(ctx context.Context, opts ReextractOptions) (Summary, error) {
	if !c.ran.CompareAndSwap(false, true) {
		return Summary{}, errors.New("crawler: Run called twice")
	}
	for _, name := range opts.Items {
		if _, ok := c.cfg.Items[name]; !ok {
			return Summary{}, fmt.Errorf("--item %s: the config has no such item", name)
		}
	}
	start := time.Now()
	c.stats.startNano.Store(start.UnixNano())
	cr := c.cfg.Crawl
	lease := c.store.NewLease(cr.Name, c.opts.Lease)
	if err := lease.Acquire(ctx); err != nil {
		return Summary{}, err
	}
	defer lease.Release()
	if _, err := c.store.MarkAbandonedRuns(ctx, cr.Name); err != nil {
		return Summary{}, err
	}
	if _, err := c.SettleItems(ctx); err != nil { // itemversions.go
		return Summary{}, err
	}
	total, err := c.store.CountArchived(ctx, cr.Name)
	if err != nil {
		return Summary{}, err
	}
	c.stats.total.Store(total)
	id, err := c.store.StartRun(ctx, cr.Name, c.opts.Now())
	if err != nil {
		return Summary{}, err
	}
	r := c.newRun(ctx, c.log.With("run", id, "door", "reextract"))
	r.id = id
	defer r.cancel(nil)
	r.w, err = c.store.NewWriter(storage.WriterOptions{Run: id, Job: cr.Name, BatchOps: c.opts.BatchOps,
		BatchDelay: c.opts.BatchDelay, Logger: r.log, ItemsHash: r.items})
	if err != nil {
		return Summary{}, errors.Join(err, c.store.FinishRun(context.Background(), id, storage.RunFailed, storage.RunCounts{}, c.opts.Now(), err.Error()))
	}
	c.live.Store(r)
	dir := c.cfg.ArchiveDir()
	r.log.Info("re-extracting from the archive", "archive", dir, "pages", total)
	var note string
	if opts.unreachable, note = c.unreachableArchive(ctx, dir); note != "" {
		r.notes = append(r.notes, note)
	}
	rd := archive.NewReader(dir)
	unreadable, firstBad, ferr := r.reextractAll(rd, opts)
	rd.Close()
	if ferr != nil {
		r.fatal(ferr)
	}
	werr := r.w.Close()
	r.startSeen = total // the archive's pages were all read: none is left for a next run to reach
	if unreadable > 0 {
		r.notes = append(r.notes, fmt.Sprintf("archive: %d archived responses could not be read and were left as they were (first: %v); a crawl fetches such pages again once their items are out of date", unreadable, firstBad))
	}
	sum := r.end(ctx, start, werr)
	return sum, sum.Err
}

// applies reports whether the page at u is one opts keep.
func (c *Crawler) applies(u string, opts ReextractOptions) bool {
	if opts.URL != nil && !opts.URL.MatchString(u) {
		return false
	}
	if len(opts.Items) == 0 {
		return true
	}
	for _, name := range opts.Items {
		pat := c.cfg.Items[name].URL
		if pat == "" {
			return true
		}
		if re, err := regexp.Compile(pat); err == nil && re.MatchString(u) {
			return true
		}
	}
	return false
}

// reextractAll feeds the archived pages to workers that read, decide and
// extract each, and hand it to the writer.
func (r *run) reextractAll(rd *archive.Reader, opts ReextractOptions) (unreadable int64, firstBad error, err error) {
	c := r.c
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pages := make(chan storage.ArchivedPage, 4*workers)
	var bad atomic.Int64
	var badOnce sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for p := range pages {
				if rerr := r.reextractOne(rd, p); rerr != nil {
					bad.Add(1)
					badOnce.Do(func() { firstBad = rerr })
					r.log.Warn("an archived response could not be read", "url", p.URL, "error", rerr)
				}
			}
		})
	}
	var dispatched int64
	after := ""
feed:
	for r.ctx.Err() == nil {
		batch, lerr := c.store.ArchivedPages(r.ctx, c.cfg.Crawl.Name, after, feedBatch)
		if lerr != nil {
			err = lerr
			break
		}
		if len(batch) == 0 {
			break
		}
		after = batch[len(batch)-1].URL
		// In the order they lie on disk: the files are read front to back
		// (the kernel's read-ahead works) rather than at the URLs' random
		// offsets.
		slices.SortFunc(batch, func(a, b storage.ArchivedPage) int {
			return cmp.Or(strings.Compare(a.Ref.File, b.Ref.File), cmp.Compare(a.Ref.Offset, b.Ref.Offset))
		})
		for _, p := range batch {
			if !c.applies(p.URL, opts) || (opts.olderThan != "" && p.ItemsHash == opts.olderThan) || opts.unreachable[p.Ref.File] {
				continue
			}
			if opts.Limit > 0 && dispatched >= opts.Limit {
				break feed
			}
			dispatched++
			select {
			case pages <- p:
			case <-r.ctx.Done():
				break feed
			}
		}
	}
	close(pages)
	wg.Wait()
	return bad.Load(), firstBad, err
}

// reextractOne runs one archived page through the pipeline's decide and
// process stages; an error is a record it could not read.
func (r *run) reextractOne(rd *archive.Reader, p storage.ArchivedPage) error {
	rec, err := rd.ReadResponse(archive.Location{File: p.Ref.File, Offset: p.Ref.Offset, Length: p.Ref.Length})
	if err != nil {
		return err
	}
	if rec.Type != "response" {
		return fmt.Errorf("%s@%d: a %s record, not a response", p.Ref.File, p.Ref.Offset, rec.Type)
	}
	body, header, err := archivedContent(rd, p.Ref, rec)
	if err != nil {
		return err
	}
	ref := p.Ref
	page := storage.Page{URL: p.URL, HTTPStatus: rec.StatusCode, Bytes: int64(len(body)), FetchedBy: fetchedArchive,
		Attempts: 1, Depth: p.Depth, FetchedAt: r.c.opts.Now(), Archive: &ref}
	cr := r.c.cfg.Crawl
	d := fetch.DecideResponse(r.c.det, rec.StatusCode, header, body, int64(cr.MaxBodySize), time.Now())
	r.c.stats.bytes.Add(int64(len(body)))
	if d.Verdict != fetch.OK {
		page.Status, page.Error = storage.PageFailed, d.Reason
		return r.put(page)
	}
	in := fetched{final: rec.URL, body: body, contentType: header.Get("Content-Type"), links: p.Depth+1 < cr.MaxDepth}
	out, err := r.c.process(r.ctx, in, page)
	if err != nil {
		return nil // interrupted: the page is left as it was
	}
	if out.result != nil {
		r.report.add(rec.URL, out.result)
	}
	for i, link := range out.links {
		if err := r.pendingLink(link, p.Depth+1, out.hub(i)); err != nil {
			r.fatal(err)
			return nil
		}
	}
	return r.put(out.page)
}

// put hands a re-extracted page to the writer and counts it.
func (r *run) put(page storage.Page) error {
	if err := r.w.Put(context.Background(), page); err != nil {
		r.fatal(err)
		return nil
	}
	r.c.stats.count(page)
	return nil
}

// reextractOlder brings the pages stored under an earlier version of the
// items up to date from their archived responses, before the run's feed
// decides what to fetch: a change of items then costs no request for a
// page the archive holds. Only the pages it could not read are fetched.
func (r *run) reextractOlder() {
	if !r.reextract || r.arch == nil {
		return
	}
	rd := archive.NewReader(r.arch.w.Dir())
	defer rd.Close()
	okBefore := r.c.stats.ok.Load()
	// Files the index names that are not here are skipped, said once:
	// their pages are fetched.
	opts := ReextractOptions{olderThan: r.items}
	opts.unreachable, _ = r.c.unreachableArchive(r.ctx, r.arch.w.Dir())
	unreadable, firstBad, err := r.reextractAll(rd, opts)
	if err != nil {
		r.fatal(err)
		return
	}
	// The feed reads the pages' items version from the database.
	if err := r.w.Flush(r.ctx); err != nil && r.ctx.Err() == nil {
		r.fatal(err)
		return
	}
	n := r.c.stats.ok.Load() - okBefore
	r.c.stats.reextracted.Store(n)
	r.log.Info("pages of an earlier version of the items were extracted again from the archive, with no request", "pages", n)
	if unreadable > 0 {
		r.notes = append(r.notes, fmt.Sprintf("archive: %d archived responses could not be read (first: %v); their pages are fetched again", unreadable, firstBad))
	}
}
