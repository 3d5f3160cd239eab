// Package schedule runs crawl jobs on their cron schedules: never two runs
// of one job at once (in this process by a flag, across processes by the
// database lease the crawler takes), with jitter, metrics and a clean stop.
// The crawler does not know it is scheduled.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// Options tune a Scheduler. The zero value schedules on the real clock
// with random jitter and no metrics.
type Options struct {
	Logger  *slog.Logger
	Metrics *Metrics // optional
	// Lease tunes the job lease each run takes (its TTL and owner).
	Lease storage.LeaseOptions
	// Clock decides when runs are due, how long jitter waits, and is the
	// crawls' wall clock (refresh_after); default the real clock.
	Clock Clock
	// Jitter picks the wait before a run, in [0, max); default uniformly
	// at random.
	Jitter func(max time.Duration) time.Duration
	// Shared runs one run of a job whose config has a frontier (a crawl
	// shared by workers); required for such jobs. gather's command gives
	// the Redis frontier's (scaleout.Run): the scheduler knows when
	// to run, not how a frontier works.
	Shared SharedRunner
}

// SharedRunner runs one scheduled run of a shared crawl: it seeds the
// run from store (what is due) and stores the workers' outcomes in it
// until the run is drained or ctx ends. c is the job's crawler; lease and
// now are the scheduler's.
type SharedRunner func(ctx context.Context, c *crawler.Crawler, cfg *config.Config, store *storage.Store, lease storage.LeaseOptions, now func() time.Time, log *slog.Logger) (crawler.Summary, error)

// Scheduler runs jobs on their schedules until its context ends.
type Scheduler struct {
	opts  Options
	log   *slog.Logger
	clock Clock
	jobs  []*job
	wg    sync.WaitGroup // the jobs' loops and their runs
}

type job struct {
	cfg      *config.Config
	spec     string
	schedule cron.Schedule
	running  atomic.Bool
	current  *atomic.Pointer[crawler.Crawler]
	next     atomic.Int64 // when the next run is due, in Unix nanoseconds
}

// New checks that every config has a schedule, parsed as gather validate
// parses it, with a run in the 5 years after the clock's now, and prepares
// the jobs. Job names must be distinct: they key the lease and the run
// history.
func New(cfgs []*config.Config, opts Options) (*Scheduler, error) {
	s := &Scheduler{opts: opts, log: opts.Logger, clock: opts.Clock}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	if s.opts.Jitter == nil {
		s.opts.Jitter = func(max time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(max))) }
	}
	names := map[string]string{}
	for _, cfg := range cfgs {
		if other, dup := names[cfg.Crawl.Name]; dup {
			return nil, &config.Error{File: cfg.File, Key: "crawl.name", Msg: fmt.Sprintf("job %q is also the name of %s; job names must differ", cfg.Crawl.Name, other)}
		}
		names[cfg.Crawl.Name] = cfg.File
		// The parse gather validate does, so the scheduler accepts exactly
		// the specs validation passes, and refuses one that never runs
		// rather than waiting for it forever.
		sched, err := cfg.CronSchedule(s.clock.Now())
		if err != nil {
			return nil, err
		}
		if cfg.Frontier != "" && opts.Shared == nil {
			return nil, &config.Error{File: cfg.File, Key: "frontier", Msg: "this scheduler cannot run shared crawls (no runner for a frontier)"}
		}
		j := &job{cfg: cfg, spec: cfg.Schedule.Cron, schedule: sched, current: &atomic.Pointer[crawler.Crawler]{}}
		if opts.Metrics != nil {
			j.current = opts.Metrics.addJob(cfg.Crawl.Name)
		}
		s.jobs = append(s.jobs, j)
	}
	return s, nil
}

// Run schedules the jobs and blocks until ctx ends. Then it starts no new
// run, lets running crawls stop cleanly (they see ctx and record
// themselves interrupted; the next run resumes them), waits for them and
// returns nil.
func (s *Scheduler) Run(ctx context.Context) error {
	for _, j := range s.jobs {
		s.wg.Add(1)
		go s.loop(ctx, j)
	}
	<-ctx.Done()
	s.log.Info("stopping: no new runs; waiting for running crawls to stop")
	s.wg.Wait()
	s.log.Info("scheduler stopped")
	return nil
}

// Next is when job's next run is due (zero before Run, for an unknown job,
// or for one with no further run).
func (s *Scheduler) Next(job string) time.Time {
	for _, j := range s.jobs {
		if j.cfg.Crawl.Name == job {
			if n := j.next.Load(); n != 0 {
				return time.Unix(0, n)
			}
		}
	}
	return time.Time{}
}

// JobState is a job as the scheduler sees it now.
type JobState struct {
	Name, Schedule, Database string
	Next                     time.Time // zero: none
	// Stats is the running crawl's, nil when none is running.
	Stats *crawler.Stats
}

// Jobs reports every job's next run and running crawl; safe to call while
// Run is going.
func (s *Scheduler) Jobs() []JobState {
	out := make([]JobState, 0, len(s.jobs))
	for _, j := range s.jobs {
		st := JobState{Name: j.cfg.Crawl.Name, Schedule: j.spec, Database: j.cfg.Database}
		if n := j.next.Load(); n != 0 {
			st.Next = time.Unix(0, n)
		}
		if c := j.current.Load(); c != nil {
			stats := c.Stats()
			st.Stats = &stats
		}
		out = append(out, st)
	}
	return out
}

// loop waits for each due time of j and starts its run then, until ctx
// ends. A run that would overlap the previous one is skipped, not queued.
func (s *Scheduler) loop(ctx context.Context, j *job) {
	defer s.wg.Done()
	next := j.schedule.Next(s.clock.Now())
	attrs := []any{"job", j.cfg.Crawl.Name, "schedule", j.spec}
	if loc, ok := Zone(j.schedule); ok {
		// The zone the spec's times are read in, wherever it was set.
		attrs = append(attrs, "timezone", loc.String())
	}
	s.log.Info("job scheduled", append(attrs, "next", next.Format(time.RFC3339))...)
	for {
		if next.IsZero() {
			// New refused specs that never run, but a rare one (Feb 29
			// near 2100) can run out of runs inside robfig/cron's 5-year
			// horizon. Waiting until the zero time would fire at once and
			// crawl in a tight loop.
			s.log.Error("job has no run in the next 5 years: not scheduled any more", "job", j.cfg.Crawl.Name, "schedule", j.spec)
			j.next.Store(0)
			return
		}
		j.next.Store(next.UnixNano())
		due, stop := s.clock.After(next.Sub(s.clock.Now()))
		select {
		case <-ctx.Done():
			stop()
			return
		case <-due:
		}
		s.fire(ctx, j)
		next = j.schedule.Next(s.clock.Now())
	}
}

// fire starts a run of j on a goroutine of its own, unless one is going.
func (s *Scheduler) fire(ctx context.Context, j *job) {
	name := j.cfg.Crawl.Name
	if !j.running.CompareAndSwap(false, true) {
		s.log.Warn("run skipped: the previous run is still going", "job", name)
		if m := s.opts.Metrics; m != nil {
			m.skipped.WithLabelValues(name, "overlap").Inc()
		}
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runJob(ctx, j)
	}()
}

// runJob runs j, whose running flag fire set, and clears the flag as soon
// as the crawl is over: a due time that comes while the end is still being
// reported starts the next run rather than being skipped as an overlap.
func (s *Scheduler) runJob(ctx context.Context, j *job) {
	name := j.cfg.Crawl.Name
	log := s.log.With("job", name)
	if jit := j.cfg.Schedule.Jitter; jit > 0 {
		wait, stop := s.clock.After(s.opts.Jitter(jit))
		select {
		case <-wait:
		case <-ctx.Done():
			stop()
			j.running.Store(false)
			return
		}
	}
	if ctx.Err() != nil {
		j.running.Store(false)
		return
	}
	sum, err := s.crawl(ctx, j)
	j.running.Store(false)
	switch {
	case errors.Is(err, storage.ErrLeaseHeld):
		log.Warn("run skipped: another process is running this job", "reason", err)
		if m := s.opts.Metrics; m != nil {
			m.skipped.WithLabelValues(name, "locked").Inc()
		}
		return
	case sum.Run == 0 && err != nil:
		log.Error("run could not start", "error", err)
		if m := s.opts.Metrics; m != nil {
			m.runs.WithLabelValues(name, storage.RunFailed).Inc()
		}
		return
	}
	if m := s.opts.Metrics; m != nil {
		m.ended(name, sum)
		if sum.Status == storage.RunFinished {
			m.lastSuccess.WithLabelValues(name).Set(float64(s.clock.Now().Unix()))
		}
	}
	next := "none"
	if n := j.next.Load(); n != 0 {
		next = time.Unix(0, n).Format(time.RFC3339)
	}
	log.Info("run ended", "run", sum.Run, "status", sum.Status, "ok", sum.Counts.PagesOK, "failed", sum.Counts.PagesFailed,
		"changed", sum.Counts.PagesChanged, "items", sum.Counts.Items, "elapsed", sum.Elapsed.Round(time.Millisecond),
		"next", next)
}

func (s *Scheduler) crawl(ctx context.Context, j *job) (crawler.Summary, error) {
	store, err := storage.Open(ctx, j.cfg.Database, crawler.Tables(j.cfg))
	if err != nil {
		return crawler.Summary{}, err
	}
	for _, n := range store.Notes() {
		s.log.Warn(n)
	}
	defer func() {
		if err := store.Close(); err != nil {
			s.log.Warn("closing the database failed", "job", j.cfg.Crawl.Name, "database", j.cfg.Database, "error", err)
		}
	}()
	c, err := crawler.New(j.cfg, store, crawler.Options{Logger: s.log, Lease: s.opts.Lease, Now: s.clock.Now})
	if err != nil {
		return crawler.Summary{}, err
	}
	if j.cfg.Frontier != "" {
		return s.opts.Shared(ctx, c, j.cfg, store, s.opts.Lease, s.clock.Now, s.log.With("job", j.cfg.Crawl.Name))
	}
	j.current.Store(c)
	defer j.current.Store(nil)
	return c.Run(ctx)
}
