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
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// Options tune a Scheduler.
type Options struct {
	Logger   *slog.Logger
	Metrics  *Metrics // optional
	LeaseTTL time.Duration
	Owner    string
}

// Scheduler runs jobs on their schedules until its context ends.
type Scheduler struct {
	opts Options
	log  *slog.Logger
	cron *cron.Cron
	jobs []*job
}

type job struct {
	cfg      *config.Config
	spec     string
	running  atomic.Bool
	current  *atomic.Pointer[crawler.Crawler]
	entry    cron.EntryID
	runs     atomic.Int64
	overlaps atomic.Int64
}

// New checks that every config has a schedule and prepares the jobs. Job
// names must be distinct: they key the lease and the run history.
func New(cfgs []*config.Config, opts Options) (*Scheduler, error) {
	s := &Scheduler{opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.cron = cron.New(cron.WithParser(config.CronParser), cron.WithLogger(cron.DiscardLogger))
	names := map[string]string{}
	for _, cfg := range cfgs {
		if cfg.Schedule.Cron == "" {
			return nil, &config.Error{File: cfg.File, Key: "schedule.cron", Msg: "no schedule: gather schedule needs one (e.g. \"@daily\" or \"0 3 * * *\")"}
		}
		if other, dup := names[cfg.Crawl.Name]; dup {
			return nil, &config.Error{File: cfg.File, Key: "crawl.name", Msg: fmt.Sprintf("job %q is also the name of %s; job names must differ", cfg.Crawl.Name, other)}
		}
		names[cfg.Crawl.Name] = cfg.File
		j := &job{cfg: cfg, spec: cfg.Schedule.Cron, current: &atomic.Pointer[crawler.Crawler]{}}
		if cfg.Schedule.Timezone != "" {
			j.spec = "CRON_TZ=" + cfg.Schedule.Timezone + " " + j.spec
		}
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
		id, err := s.cron.AddFunc(j.spec, func() { s.runJob(ctx, j) })
		if err != nil {
			return &config.Error{File: j.cfg.File, Key: "schedule.cron", Msg: err.Error()}
		}
		j.entry = id
	}
	s.cron.Start()
	for _, j := range s.jobs {
		s.log.Info("job scheduled", "job", j.cfg.Crawl.Name, "schedule", j.spec, "next", s.cron.Entry(j.entry).Next.Format(time.RFC3339))
	}
	<-ctx.Done()
	s.log.Info("stopping: no new runs; waiting for running crawls to stop")
	<-s.cron.Stop().Done()
	s.log.Info("scheduler stopped")
	return nil
}

func (s *Scheduler) runJob(ctx context.Context, j *job) {
	name := j.cfg.Crawl.Name
	log := s.log.With("job", name)
	if !j.running.CompareAndSwap(false, true) {
		j.overlaps.Add(1)
		log.Warn("run skipped: the previous run is still going")
		if m := s.opts.Metrics; m != nil {
			m.skipped.WithLabelValues(name, "overlap").Inc()
		}
		return
	}
	defer j.running.Store(false)
	if jit := j.cfg.Schedule.Jitter; jit > 0 {
		wait := time.Duration(rand.Int64N(int64(jit)))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
	if ctx.Err() != nil {
		return
	}
	sum, err := s.crawl(ctx, j, log)
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
	j.runs.Add(1)
	if m := s.opts.Metrics; m != nil {
		m.ended(name, sum)
		if sum.Status == storage.RunFinished {
			m.lastSuccess.WithLabelValues(name).Set(float64(time.Now().Unix()))
		}
	}
	log.Info("run ended", "run", sum.Run, "status", sum.Status, "ok", sum.Counts.PagesOK, "failed", sum.Counts.PagesFailed,
		"changed", sum.Counts.PagesChanged, "items", sum.Counts.Items, "elapsed", sum.Elapsed.Round(time.Millisecond),
		"next", s.cron.Entry(j.entry).Next.Format(time.RFC3339))
}

func (s *Scheduler) crawl(ctx context.Context, j *job, log *slog.Logger) (crawler.Summary, error) {
	store, err := storage.Open(ctx, j.cfg.Database, storage.TablesFor(j.cfg))
	if err != nil {
		return crawler.Summary{}, err
	}
	defer store.Close()
	c, err := crawler.New(j.cfg, store, crawler.Options{Logger: log, LeaseTTL: s.opts.LeaseTTL, Owner: s.opts.Owner})
	if err != nil {
		return crawler.Summary{}, err
	}
	j.current.Store(c)
	defer j.current.Store(nil)
	return c.Run(ctx)
}
