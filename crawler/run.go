package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gather-crawler/gather/crawler/browser"
	"github.com/gather-crawler/gather/crawler/fetch"
	"github.com/gather-crawler/gather/crawler/robots"
	"github.com/gather-crawler/gather/storage"
)

// run is the state of one Run: the collector and its transport, the
// writer, and the window of pages between dispatch and their ending.
type run struct {
	c      *Crawler
	id     int64
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelCauseFunc
	eng    engine
	tr     *fetch.Transport
	// br is the crawl's Chromium, with crawl.fetch browser or auto.
	br *browser.Browser
	// noBrowser is why br is nil with fetch: auto (no Chromium).
	noBrowser error
	// paused holds the hosts a CAPTCHA stopped (host → the pages' reason).
	paused  sync.Map
	robots  *robots.Cache
	w       pageSink
	win     *window
	backoff fetch.Backoff
	report  *report

	// limits are crawl.parallelism and delay per host; shared, in a
	// worker of a shared crawl, holds them across every worker
	// (shared.go).
	limits *fetch.HostLimits
	shared *sharedSlots

	fatalMu  sync.Mutex
	fatalErr error

	// items is the config's ItemsHash; reextract is set when pages of the
	// job were stored under another version of the items.
	items     string
	reextract bool

	// idsSkipped counts the ids the feed could not use (set when it is
	// done).
	idsSkipped int64
	// notes are the run's warnings of its own making (a re-extraction's
	// unreadable records), besides the report's.
	notes []string

	// startSeen counts the start URLs dispatched or found done (written
	// by the feed goroutine only, read once it has returned).
	startSeen int64

	// tap, if set, sees each page's extraction as it is stored (gather
	// try shows it); once says a response the policy would retry is
	// reported instead (try's one look at a page).
	tap  func(*pageState, storage.Page)
	once bool

	// arch is the run's archive (nil: none kept).
	arch *archiver
}

// Run crawls to completion, or until ctx is cancelled (the run is then
// marked interrupted and unfinished pages stay pending for the next run).
// It returns the summary and, when the run did not finish, why.
func (c *Crawler) Run(ctx context.Context) (Summary, error) {
	if !c.ran.CompareAndSwap(false, true) {
		return Summary{}, errors.New("crawler: Run called twice")
	}
	start := time.Now()
	c.stats.startNano.Store(start.UnixNano())
	c.stats.total.Store(-1)
	cr := c.cfg.Crawl

	// One run per job at a time, across processes: the lease is taken
	// before the run exists and given back after it is recorded.
	lease := c.store.NewLease(cr.Name, c.opts.Lease)
	if err := lease.Acquire(ctx); err != nil {
		return Summary{}, err
	}
	defer func() {
		if err := lease.Release(); err != nil {
			c.log.Error("the job's lease could not be given back; the next run waits for it to expire", "ttl", lease.TTL(), "error", err)
		}
	}()
	if n, err := c.store.MarkAbandonedRuns(ctx, cr.Name); err != nil {
		return Summary{}, err
	} else if n > 0 {
		c.log.Warn("earlier runs ended without finishing (process killed?); marked interrupted", "runs", n)
	}
	id, err := c.store.StartRun(ctx, cr.Name, c.opts.Now())
	if err != nil {
		return Summary{}, err
	}
	r := c.newRun(ctx, c.log.With("run", id))
	r.id = id
	defer r.cancel(nil)

	if err := r.openArchive(); err != nil {
		return Summary{}, errors.Join(err, c.store.FinishRun(context.Background(), id, storage.RunFailed, storage.RunCounts{}, c.opts.Now(), err.Error()))
	}
	if _, err := c.SettleItems(ctx); err != nil {
		return Summary{}, errors.Join(err, c.store.FinishRun(context.Background(), id, storage.RunFailed, storage.RunCounts{}, c.opts.Now(), err.Error()))
	}
	older, err := c.store.OlderItems(ctx, cr.Name, r.items)
	if err != nil {
		return Summary{}, errors.Join(err, c.store.FinishRun(context.Background(), id, storage.RunFailed, storage.RunCounts{}, c.opts.Now(), err.Error()))
	}
	if r.reextract = older > 0; r.reextract {
		r.log.Info("pages stored with an earlier version of the items are fetched again, so that every row follows the config", "pages", older)
	}
	w, err := c.store.NewWriter(storage.WriterOptions{Run: id, Job: cr.Name, BatchOps: c.opts.BatchOps,
		BatchDelay: c.opts.BatchDelay, OnCommit: r.win.onCommit, BeforeCommit: r.arch.sync, Logger: r.log, ItemsHash: r.items})
	if err != nil {
		if ferr := c.store.FinishRun(context.Background(), id, storage.RunFailed, storage.RunCounts{}, c.opts.Now(), err.Error()); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return Summary{}, err
	}
	if err := r.startFetching(w, nil); err != nil {
		w.Close()
		return Summary{}, errors.Join(err, c.store.FinishRun(context.Background(), id, storage.RunFailed, storage.RunCounts{}, c.opts.Now(), err.Error()))
	}
	r.log.Info("crawl started", "database", c.store.Path(), "parallelism", cr.Parallelism)

	if n, err := countStart(r.ctx, cr.Start); err == nil {
		c.stats.total.Store(n)
	}

	lease.Keep(r.fatal)
	stopSnapshots := r.snapshots()
	r.reextractOlder()
	if err := r.feed(); err != nil {
		r.fatal(err)
	}
	r.stopFetching()
	stopSnapshots()
	werr := r.w.Close()
	// After the writer: its last commit syncs the archive first.
	astats, aerr := r.arch.close()
	if aerr != nil {
		werr = errors.Join(werr, fmt.Errorf("archive: %w", aerr))
	}
	c.stats.archived.Store(astats.Exchanges)
	c.stats.archiveBytes.Store(astats.Bytes)
	sum := r.end(ctx, start, werr)
	return sum, sum.Err
}

// end records how the run ended and returns its summary, whose Err says
// why when it did not finish.
func (r *run) end(ctx context.Context, start time.Time, werr error) Summary {
	c := r.c
	sum := Summary{Run: r.id, Counts: r.w.Counts(), Already: c.stats.already.Load(), Retries: c.stats.retries.Load(),
		Deferred: c.stats.deferred.Load(), GivenUp: c.stats.givenUp.Load(), retryRuns: c.cfg.Crawl.RetryFailedRuns,
		Bytes: c.stats.bytes.Load(), Elapsed: time.Since(start), Database: c.store.Path()}
	sum.Counts.BrowserPages, sum.Counts.Challenges = c.stats.browserPages.Load(), c.stats.challenges.Load()
	sum.Archived, sum.ArchiveBytes, sum.ArchiveDir = c.stats.archived.Load(), c.stats.archiveBytes.Load(), r.archiveDir()
	// What the run wrote, not what its writer indexed (a re-extraction
	// indexes what earlier runs wrote).
	sum.Counts.Archived, sum.Counts.ArchiveBytes = sum.Archived, sum.ArchiveBytes
	sum.Reextracted = c.stats.reextracted.Load()
	r.fatalMu.Lock()
	fatal := r.fatalErr
	r.fatalMu.Unlock()
	switch {
	case werr != nil:
		sum.Status, sum.Err = storage.RunFailed, fmt.Errorf("database write failed: %w", werr)
	case fatal != nil:
		sum.Status, sum.Err = storage.RunFailed, fatal
	case ctx.Err() != nil:
		sum.Status, sum.Err = storage.RunInterrupted, context.Cause(ctx)
	case sum.Counts.PagesOK == 0 && c.stats.freshFailed.Load() > 0 && c.stats.freshFailed.Load() == c.stats.fresh.Load():
		sum.Status, sum.Err = storage.RunFailed, ErrAllFailed
	default:
		sum.Status = storage.RunFinished
	}
	if stored, pending, err := c.store.FrontierCounts(context.Background(), c.cfg.Crawl.Name, r.id); err == nil {
		sum.Already, sum.Pending = stored, pending
	} else {
		r.log.Warn("the summary's frontier counts are missing", "error", err)
	}
	if total := c.stats.total.Load(); total > r.startSeen {
		sum.NotReached = total - r.startSeen
	}
	r.report.quiet.hasRows = func(item string) bool {
		has, err := c.store.HasRows(context.Background(), item)
		return err == nil && has
	}
	sum.Warnings = append(r.report.warnings(), r.notes...)
	if r.idsSkipped > 0 {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("crawl.start: %d ids could not be used and were skipped (each is in the log with its line or index)", r.idsSkipped))
	}
	for _, w := range sum.Warnings {
		r.log.Warn(w)
	}
	sum.Counts.Warnings = int64(len(sum.Warnings))
	errText := ""
	if sum.Err != nil {
		errText = sum.Err.Error()
	}
	err := c.store.FinishRun(context.Background(), r.id, sum.Status, sum.Counts, c.opts.Now(), errText)
	if err != nil {
		// Once more: a full disk may have room again now that the writer
		// has closed and given back its WAL.
		time.Sleep(100 * time.Millisecond)
		err = c.store.FinishRun(context.Background(), r.id, sum.Status, sum.Counts, c.opts.Now(), errText)
	}
	if err != nil {
		sum.Err = errors.Join(sum.Err, err)
		if sum.Status == storage.RunFinished {
			sum.Status = storage.RunFailed
		}
	}
	r.log.Info("crawl ended", "status", sum.Status, "ok", sum.Counts.PagesOK, "failed", sum.Counts.PagesFailed,
		"skipped", sum.Counts.PagesSkipped, "items", sum.Counts.Items, "elapsed", sum.Elapsed.Round(time.Millisecond))
	return sum
}

// fatal stops the run for a reason that is not the page's fault.
func (r *run) fatal(err error) {
	r.fatalMu.Lock()
	if r.fatalErr == nil {
		r.fatalErr = err
	}
	r.fatalMu.Unlock()
	r.cancel(err)
}
