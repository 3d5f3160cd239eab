package scaleout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/frontier"
	"github.com/gather-crawler/gather/storage"
)

// SinkOptions tune the sink.
type SinkOptions struct {
	// ItemsHash is the config's items hash (config.ItemsHash), recorded
	// with each page as a local crawl does.
	ItemsHash string
	// Lease tunes the job's lease in the database: one sink per database.
	Lease storage.LeaseOptions
	// Batch is how many outcomes are read, stored in one go and
	// acknowledged together (default 256).
	Batch int
	// Retry is the first pause after Redis could not be reached (default
	// 250ms), doubling up to 30 times it.
	Retry time.Duration
	// Now is the clock of the run's start and end (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// Crawler is the crawl, for reconciling the frontier with the
	// database when Redis restarted under the sink (it may have lost its
	// last writes, or everything): what is stored is marked seen and what
	// is not is queued again, start URLs included, as `gather seed
	// --resume` does. Without it, the database's unfinished links are
	// queued again, not the start URLs.
	Crawler *crawler.Crawler

	// begin runs once the lease is held, before anything is read (Run:
	// NewRun); seed beside the reading (Run: SeedRun), which cannot end
	// before seeding is done. An error of either fails the run.
	// reconcile, when set, is the reconciling after a restart (Run:
	// SeedRun again).
	begin, seed, reconcile func(context.Context) error
}

// SinkSummary is what a sink stored.
type SinkSummary struct {
	Run    int64
	Status string // storage.RunFinished, RunInterrupted or RunFailed
	Counts storage.RunCounts
	// Results counts the outcomes read, Redelivered those read again after
	// a sink stopped before acknowledging them (each stored as before).
	Results, Redelivered int64
	// Late counts the late outcomes stored (frontier/late.go), LateStale those
	// left out as no newer than their page's record.
	Late, LateStale int64
	Elapsed         time.Duration
	// Seed is what Run queued (zero for Sink).
	Seed SeedSummary
}

func (s SinkSummary) String() string {
	n := s.Counts.PagesOK + s.Counts.PagesFailed + s.Counts.PagesSkipped
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(n) / s.Elapsed.Seconds()
	}
	late := ""
	if s.Late+s.LateStale > 0 {
		late = fmt.Sprintf(", %d late outcomes (%d stored as newer than their page's record)", s.Late+s.LateStale, s.Late)
	}
	return fmt.Sprintf("run %d %s: %d ok, %d failed, %d skipped, %d items stored, %d outcomes from workers (%d read again)%s in %s (%.1f pages/s)",
		s.Run, s.Status, s.Counts.PagesOK, s.Counts.PagesFailed, s.Counts.PagesSkipped, s.Counts.Items,
		s.Results, s.Redelivered, late, s.Elapsed.Round(time.Millisecond), rate)
}

// Sink stores the outcomes the workers hand over in st, with storage's
// one writer, as a run of job; an outcome is acknowledged (and its URL's
// lease ended) only once its transaction has committed. It returns when
// the crawl is drained or ctx is cancelled. A sink killed before
// acknowledging reads the same outcomes again when it starts: the rows
// are upserts, so nothing is stored twice.
func Sink(ctx context.Context, fr *frontier.Redis, st *storage.Store, opts SinkOptions) (SinkSummary, error) {
	if opts.Batch <= 0 {
		opts.Batch = 256
	}
	if opts.Retry <= 0 {
		opts.Retry = 250 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Lease.Logger == nil {
		opts.Lease.Logger = log
	}
	job := fr.Job()
	start := time.Now()
	// The crawl's database is checked before anything is read: a sink of
	// another database is refused (frontier/bind.go).
	dbID, err := st.DatabaseID(ctx)
	if err != nil {
		return SinkSummary{}, err
	}
	var other error
	var unreconciled string
	err = fr.UntilUp(ctx, func(ctx context.Context) error {
		err := fr.Bind(ctx, dbID, st.Path())
		if errors.Is(err, frontier.ErrOtherDatabase) {
			other, err = err, nil
		}
		if err == nil && other == nil {
			_, err = fr.Restarted(ctx) // notes the server, to see it restart
		}
		if err == nil && other == nil && opts.seed == nil {
			// A restart while no sink ran (frontier/sinkbeat.go); a run's
			// own seeding reconciles anyway.
			var last string
			if last, err = st.FrontierServer(ctx, job); err == nil {
				unreconciled, err = fr.Unreconciled(ctx, last)
			}
		}
		return err
	})
	if err != nil {
		return SinkSummary{}, err
	}
	if other != nil {
		return SinkSummary{}, other
	}
	lease := st.NewLease(job, opts.Lease)
	if err := lease.Acquire(ctx); err != nil {
		return SinkSummary{}, err
	}
	defer func() {
		if err := lease.Release(); err != nil {
			log.Error("the job's lease could not be given back", "error", err)
		}
	}()
	if _, err := st.MarkAbandonedRuns(ctx, job); err != nil {
		return SinkSummary{}, err
	}
	id, err := st.StartRun(ctx, job, opts.Now())
	if err != nil {
		return SinkSummary{}, err
	}
	sum := SinkSummary{Run: id}
	w, err := st.NewWriter(storage.WriterOptions{Run: id, Job: job, ItemsHash: opts.ItemsHash, Logger: log})
	if err != nil {
		return sum, errors.Join(err, st.FinishRun(context.Background(), id, storage.RunFailed, storage.RunCounts{}, opts.Now(), err.Error()))
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var fatalMu sync.Mutex
	var fatal error
	lease.Keep(func(err error) {
		fatalMu.Lock()
		fatal = err
		fatalMu.Unlock()
		cancel(err)
	})
	log.Info("sink started", "run", id, "database", st.Path())
	var loopErr error
	if opts.begin != nil {
		loopErr = opts.begin(ctx)
	}
	var seeding sync.WaitGroup
	if loopErr == nil && opts.seed != nil {
		seeding.Add(1)
		go func() {
			defer seeding.Done()
			if err := opts.seed(ctx); err != nil && ctx.Err() == nil {
				fatalMu.Lock()
				fatal = fmt.Errorf("seed: %w", err)
				fatalMu.Unlock()
				cancel(err)
			}
		}()
	}
	if loopErr == nil {
		var got frontier.Consumed
		got, loopErr = fr.Consume(ctx, frontier.Consumer{Batch: opts.Batch, Retry: opts.Retry, Now: opts.Now, Logger: log,
			Store:     func(ctx context.Context, outs []frontier.Outcome) error { return store(ctx, w, outs) },
			StoreLate: func(ctx context.Context, outs []frontier.Outcome) error { return storeLate(ctx, w, outs, log, &sum) },
			Reconcile: func(ctx context.Context) error { return reconcile(ctx, fr, st, opts, log) },
			Reconciled: func(ctx context.Context, server string) error {
				return st.SetFrontierServer(ctx, job, server)
			},
			DatabaseID: dbID, DatabasePath: st.Path(), Owner: lease.Owner(), Run: id, Unreconciled: unreconciled})
		sum.Results, sum.Redelivered = got.Results, got.Redelivered
	}
	if loopErr != nil {
		cancel(loopErr) // the seeding stops too
	}
	seeding.Wait()
	werr := w.Close()
	sum.Counts = w.Counts()
	if werr == nil {
		// A page whose outcome came twice (its lease taken over from a
		// stalled worker) is one page of the run.
		ok, failed, skipped, err := st.RunPageCounts(context.Background(), job, id)
		if err == nil {
			sum.Counts.PagesOK, sum.Counts.PagesFailed, sum.Counts.PagesSkipped = ok, failed, skipped
		} else {
			log.Warn("the run's pages could not be counted; its record counts outcomes", "error", err)
		}
	}
	sum.Elapsed = time.Since(start)
	fatalMu.Lock()
	if loopErr == nil {
		loopErr = fatal
	}
	fatalMu.Unlock()
	switch {
	case werr != nil:
		sum.Status, loopErr = storage.RunFailed, fmt.Errorf("database write failed: %w", werr)
	case loopErr != nil:
		sum.Status = storage.RunFailed
	case ctx.Err() != nil:
		sum.Status, loopErr = storage.RunInterrupted, context.Cause(ctx)
	default:
		sum.Status = storage.RunFinished
	}
	errText := ""
	if loopErr != nil {
		errText = loopErr.Error()
	}
	if err := st.FinishRun(context.Background(), id, sum.Status, sum.Counts, opts.Now(), errText); err != nil {
		loopErr = errors.Join(loopErr, err)
	}
	log.Info("sink ended", "run", id, "status", sum.Status, "ok", sum.Counts.PagesOK, "failed", sum.Counts.PagesFailed)
	return sum, loopErr
}

// store writes a batch of outcomes and waits for their commit.
func store(ctx context.Context, w *storage.Writer, outs []frontier.Outcome) error {
	for _, o := range outs {
		for _, l := range o.Links {
			if err := w.Pending(ctx, l.URL, l.Depth); err != nil {
				return err
			}
		}
		if err := w.Put(ctx, o.Page); err != nil {
			return err
		}
	}
	return w.Flush(ctx)
}

// storeLate writes late outcomes (frontier/late.go) with
// storage.Writer.PutLate: each as its page's record where it is newer, in
// the run that recorded the page, never counted as a page of this run. A
// failure that is not the database's (the sink stopping) is not one: the
// outcomes wait for the next look.
func storeLate(ctx context.Context, w *storage.Writer, outs []frontier.Outcome, log *slog.Logger, sum *SinkSummary) error {
	for _, o := range outs {
		pl := make([]storage.PendingLink, len(o.Links))
		for i, l := range o.Links {
			pl[i] = storage.PendingLink(l)
		}
		if err := w.PutLate(ctx, o.Page, pl); err != nil {
			return dbErr(w, err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		return dbErr(w, err)
	}
	landed, stale := sum.Late, sum.LateStale
	sum.Late, sum.LateStale = w.LateCounts()
	log.Info("late outcomes read: each stored where newer than its page's record", "read", len(outs),
		"stored", sum.Late-landed, "older", sum.LateStale-stale)
	return nil
}

// dbErr is err if the database failed, else nil.
func dbErr(w *storage.Writer, err error) error {
	if w.Err() != nil {
		return err
	}
	return nil
}

// reconcile brings the frontier back in line with the database after
// Redis restarted under the sink: a run's own seeding again (Run), or what
// gather seed --resume does.
func reconcile(ctx context.Context, fr *frontier.Redis, st *storage.Store, opts SinkOptions, log *slog.Logger) error {
	if opts.reconcile != nil {
		return opts.reconcile(ctx)
	}
	sum, err := seedResume(ctx, fr, opts.Crawler, st)
	if err == nil {
		log.Info("the frontier is reconciled with the database", "summary", sum.String())
	}
	return err
}
