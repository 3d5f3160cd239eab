package frontier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gather-crawler/gather/crawler"
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
	// Late counts the late outcomes stored (late.go), LateStale those
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
func (r *Redis) Sink(ctx context.Context, st *storage.Store, opts SinkOptions) (SinkSummary, error) {
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
	job := r.opts.Job
	start := time.Now()
	// The crawl's database is checked before anything is read: a sink of
	// another database is refused (bind.go).
	dbID, err := st.DatabaseID(ctx)
	if err != nil {
		return SinkSummary{}, err
	}
	var other error
	var unreconciled string
	err = r.untilUp(ctx, func(ctx context.Context) error {
		err := r.Bind(ctx, dbID, st.Path())
		if errors.Is(err, ErrOtherDatabase) {
			other, err = err, nil
		}
		if err == nil && other == nil {
			_, err = r.restarted(ctx) // notes the server, to see it restart
		}
		if err == nil && other == nil && opts.seed == nil {
			// A restart while no sink ran (sinkbeat.go); a run's own
			// seeding reconciles anyway.
			unreconciled, err = r.startCheck(ctx, st)
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
	rc := &reconciler{r: r, st: st, opts: opts, log: log, dbID: dbID, wake: make(chan struct{}, 1)}
	if unreconciled != "" {
		rc.restartedBecause(ctx, unreconciled)
	} else if err := r.reconciled(ctx, st); err != nil {
		log.Warn("the frontier's server could not be noted; a restart while no sink runs may go unseen", "error", err)
	}
	rctx, stopReconciling := context.WithCancel(ctx)
	// The sink says it runs (sinkbeat.go) until it ends.
	var beating sync.WaitGroup
	r.beat(rctx, &beating, sinkBeat{Owner: lease.Owner(), Database: st.Path(), Run: id})
	if loopErr == nil {
		seeding.Add(1)
		go func() {
			defer seeding.Done()
			rc.run(rctx)
		}()
		loopErr = r.sinkLoop(ctx, w, opts, log, &sum, rc)
	}
	if loopErr != nil {
		cancel(loopErr) // the seeding stops too
	}
	stopReconciling()
	seeding.Wait()
	beating.Wait()
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

// sinkLoop reads outcomes, first those this sink read before and did not
// acknowledge (a sink killed mid-batch), then new ones, until drained.
func (r *Redis) sinkLoop(ctx context.Context, w *storage.Writer, opts SinkOptions, log *slog.Logger, sum *SinkSummary, rc *reconciler) error {
	again := true
	wait := opts.Retry
	var looked, lateLooked time.Time
	// late stores the late outcomes waiting (late.go): first, then every
	// second, and before the sink ends.
	late := func() error {
		lateLooked = time.Now()
		err := r.storeLate(ctx, w, opts.Batch, log, sum)
		if err != nil && w.Err() != nil {
			return err // the database failed
		}
		return nil // Redis: the next look tries again
	}
	for ctx.Err() == nil {
		if time.Since(lateLooked) > time.Second {
			if err := late(); err != nil {
				return err
			}
		}
		if time.Since(looked) > time.Second {
			// Redis restarted? What this sink read and did not
			// acknowledge may be lost, or back: read it again.
			if restarted, err := r.restarted(ctx); err == nil {
				looked = time.Now()
				if restarted {
					again = true
					rc.restarted(ctx)
				}
			}
		}
		from, block := ">", time.Second
		if again {
			from, block = "0", -1
		}
		streams, err := r.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: sinkGroup, Consumer: sinkConsumer,
			Streams: []string{r.keys.results, from}, Count: int64(opts.Batch), Block: block}).Result()
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		if isNoGroup(err) {
			err = r.ensureGroups(ctx)
		}
		var msgs []redis.XMessage
		if err == nil && len(streams) > 0 {
			msgs = streams[0].Messages
		}
		if err == nil && len(msgs) == 0 {
			if again {
				again = false
				continue
			}
			var drained bool
			if drained, err = r.Drained(ctx); err == nil && drained && r.over(ctx, rc) {
				return late()
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("the frontier cannot be reached; trying again", "in", wait, "error", err)
			if !sleepCtx(ctx, wait) {
				return nil
			}
			wait = min(2*wait, 30*opts.Retry)
			// What was read and not acknowledged is read again.
			again = true
			continue
		}
		wait = opts.Retry
		if len(msgs) == 0 {
			continue
		}
		if again {
			sum.Redelivered += int64(len(msgs))
		}
		sum.Results += int64(len(msgs))
		unread, err := r.store(ctx, w, msgs, opts.Now, log)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		r.acknowledge(ctx, msgs, unread, opts.Retry, log)
		if len(msgs) < opts.Batch {
			// Caught up: the last outcomes may have ended the crawl, and
			// the next read would wait for nothing.
			if drained, err := r.Drained(ctx); err == nil && drained && r.over(ctx, rc) {
				return late()
			}
		}
	}
	return nil
}

// over confirms a drained frontier: no reconciling under way, and Redis
// did not restart since it was last looked at (a restored snapshot can
// look drained and not be).
func (r *Redis) over(ctx context.Context, rc *reconciler) bool {
	restarted, err := r.restarted(ctx)
	if err != nil {
		return false
	}
	if restarted {
		rc.restarted(ctx)
		return false
	}
	return !rc.busy()
}

// store writes a batch of outcomes and waits for their commit. It returns
// the entries it could not read.
func (r *Redis) store(ctx context.Context, w *storage.Writer, msgs []redis.XMessage, now func() time.Time, log *slog.Logger) (unread map[string]bool, err error) {
	for _, m := range msgs {
		payload, _ := m.Values["p"].(string)
		p, links, err := decodeResult([]byte(payload))
		if err != nil {
			// Written by another version of gather? Left leased, the page
			// would be fetched again and again, each time unreadable, and
			// the run would never drain: it is recorded failed instead,
			// with why, and the next run fetches it again.
			failed, ok := r.unreadable(ctx, m, now(), err)
			if !ok {
				log.Error("an outcome could not be read, nor its URL found; it stays leased", "entry", m.ID, "error", err)
				if unread == nil {
					unread = map[string]bool{}
				}
				unread[m.ID] = true
				continue
			}
			log.Error("an outcome could not be read (written by another version of gather?); its page is recorded failed, for the next run to fetch again",
				"entry", m.ID, "url", failed.URL, "error", err)
			p, links = failed, nil
		}
		for _, l := range links {
			if err := w.Pending(ctx, l.URL, l.Depth); err != nil {
				return nil, err
			}
		}
		if err := w.Put(ctx, p); err != nil {
			return nil, err
		}
	}
	return unread, w.Flush(ctx)
}

// unreadable is the failed page an outcome that could not be read stands
// for: its URL and depth are the queue entry's it answers.
func (r *Redis) unreadable(ctx context.Context, m redis.XMessage, at time.Time, why error) (storage.Page, bool) {
	q, _ := m.Values["q"].(string)
	if q == "" {
		return storage.Page{}, false
	}
	xs, err := r.rdb.XRange(ctx, r.keys.queue, q, q).Result()
	if err != nil || len(xs) != 1 {
		return storage.Page{}, false
	}
	u, _ := xs[0].Values["u"].(string)
	if u == "" {
		return storage.Page{}, false
	}
	depth := 0
	if d, ok := xs[0].Values["d"].(string); ok {
		depth, _ = strconv.Atoi(d)
	}
	return storage.Page{URL: u, Depth: depth, Status: storage.PageFailed, FetchedAt: at,
		Error: "the sink could not read the worker's outcome (another version of gather?): " + why.Error()}, true
}

// acknowledge ends the leases of stored outcomes, trying until Redis
// answers: until then a restarted sink would store them again, which is
// harmless, and the workers keep renewing the leases.
func (r *Redis) acknowledge(ctx context.Context, msgs []redis.XMessage, unread map[string]bool, retry time.Duration, log *slog.Logger) {
	results := make([]string, 0, len(msgs))
	queue := make([]string, 0, len(msgs))
	var stored int64
	for _, m := range msgs {
		results = append(results, m.ID)
		if unread[m.ID] {
			continue
		}
		if q, _ := m.Values["q"].(string); q != "" {
			queue = append(queue, q)
		}
		stored++
	}
	wait := retry
	for {
		_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if len(queue) > 0 {
				p.XAck(ctx, r.keys.queue, workersGroup, queue...)
				p.XDel(ctx, r.keys.queue, queue...)
			}
			p.XAck(ctx, r.keys.results, sinkGroup, results...)
			p.XDel(ctx, r.keys.results, results...)
			p.HIncrBy(ctx, r.keys.stats, "stored", stored)
			return nil
		})
		if err == nil || ctx.Err() != nil {
			return
		}
		log.Warn("stored outcomes not acknowledged yet; trying again", "in", wait, "error", err)
		if !sleepCtx(ctx, wait) {
			return
		}
		wait = min(2*wait, 30*retry)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
