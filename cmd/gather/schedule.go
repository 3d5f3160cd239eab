package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/crawler/scaleout"
	"github.com/gather-crawler/gather/frontier"
	"github.com/gather-crawler/gather/schedule"
	"github.com/gather-crawler/gather/serve"
	"github.com/gather-crawler/gather/storage"
)

func newScheduleCmd(g *globals) *cobra.Command {
	var (
		files  []string
		listen string
		token  string
		lease  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "schedule -c FILE [-c FILE ...] [--listen 127.0.0.1:PORT]",
		Short: "Run each config's crawl on its schedule, in the foreground",
		Long: `schedule runs each config's crawl on its schedule.cron, until SIGINT or
SIGTERM. A job never runs twice at once: a run that would overlap is skipped
and logged, and a database lease keeps other processes (another schedule, a
manual crawl) from running the same job. On a signal no new run starts,
running crawls stop cleanly (their pages resume at the next run) and
schedule exits 0. A config with a frontier (the key or GATHER_FRONTIER) is a
shared crawl: each run is seeded in Redis and stored here, and workers
(gather worker --wait) fetch its pages. --listen serves /healthz, Prometheus
/metrics (a frontier's too) and the pages of gather serve with the live
progress of running crawls; an address other machines can reach needs
--token (or GATHER_SERVE_TOKEN).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				files = []string{configPath("")}
			}
			if lease < time.Second {
				return usagef("--lease must be at least 1s")
			}
			var cfgs []*config.Config
			for _, f := range files {
				cfg, err := config.Load(f)
				if err != nil {
					return err
				}
				cfgs = append(cfgs, cfg)
			}
			logger, err := g.logger(g.stderr, slog.LevelInfo)
			if err != nil {
				return err
			}
			metrics := schedule.NewMetrics()
			s, err := schedule.New(cfgs, schedule.Options{Logger: logger, Metrics: metrics, Lease: storage.LeaseOptions{TTL: lease}, Shared: runShared})
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if listen != "" {
				if token == "" {
					token = os.Getenv(tokenEnv)
				}
				// /metrics and /healthz were served on any address before
				// the pages came; without a token, an address other
				// machines reach keeps serving just those.
				pages := true
				if err := serve.CheckListen(listen, token); err != nil {
					logger.Warn("the pages are not served: "+err.Error(), "listen", listen)
					pages = false
				}
				// A shared crawl's frontier is on /metrics too, as gather
				// status --listen serves it.
				for _, cfg := range cfgs {
					if cfg.Frontier == "" {
						continue
					}
					fr, err := frontier.Open(cfg.Frontier, frontier.Options{Job: cfg.Crawl.Name, Consumer: "schedule-metrics", Logger: logger})
					if err != nil {
						return usageError{err}
					}
					defer fr.Close()
					metrics.Registry.MustRegister(frontier.NewCollector(fr))
				}
				h, closeReaders, err := scheduleMux(ctx, cfgs, s, metrics, pages, token, logger)
				if err != nil {
					return err
				}
				defer closeReaders()
				stop, addr, err := serveHTTP(listen, h, logger)
				if err != nil {
					return err
				}
				defer stop()
				logger.Info("serving /healthz and /metrics and the pages at /", "address", addr)
			}
			return s.Run(ctx)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "config", "c", nil, "config of a job to schedule (repeat for more; default $GATHER_CONFIG, else ./config.yaml)")
	cmd.Flags().StringVar(&listen, "listen", "", "serve /healthz, /metrics and the pages on this address, e.g. 127.0.0.1:9464")
	cmd.Flags().StringVar(&token, "token", "", "token the pages require (default $"+tokenEnv+"); required off loopback")
	cmd.Flags().DurationVar(&lease, "lease", 30*time.Second, "how long a job's database lease lasts unrenewed (another process takes over a dead one's job after this)")
	return cmd
}

// scheduleMux serves /healthz, /metrics and, with pages, at / the pages
// of gather serve over the jobs' databases, with the scheduler's live
// stats. A database that does not exist yet is created as the first run
// would. The returned func closes the readers.
func scheduleMux(ctx context.Context, cfgs []*config.Config, s *schedule.Scheduler, m *schedule.Metrics, pages bool, token string, log *slog.Logger) (http.Handler, func(), error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	var readers []*storage.Reader
	closeAll := func() {
		for _, r := range readers {
			r.Close()
		}
	}
	if !pages {
		return mux, closeAll, nil
	}
	var dbs []string
	for _, cfg := range cfgs {
		if !slices.Contains(dbs, cfg.Database) {
			dbs = append(dbs, cfg.Database)
		}
	}
	for i, db := range dbs {
		r, err := openForPages(ctx, cfgs, db)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		readers = append(readers, r)
		base := ""
		if len(dbs) > 1 {
			base = fmt.Sprintf("/db/%d", i+1)
		}
		h, err := serve.New(serve.Options{Reader: r, Logger: log, Base: base, Token: token, Live: liveJobs(s, db)})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		mux.Handle(base+"/", h)
		if base != "" {
			log.Info("pages of a database", "database", db, "path", base+"/")
		}
	}
	if len(dbs) > 1 {
		mux.Handle("/{$}", http.RedirectHandler("/db/1/", http.StatusFound))
	}
	return mux, closeAll, nil
}

// openForPages opens db read-only, creating it first (schema included,
// as its first run would) when no run has yet.
func openForPages(ctx context.Context, cfgs []*config.Config, db string) (*storage.Reader, error) {
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		for _, cfg := range cfgs {
			if cfg.Database == db {
				st, err := storage.Open(ctx, db, crawler.Tables(cfg))
				if err != nil {
					return nil, err
				}
				if err := st.Close(); err != nil {
					return nil, err
				}
				break
			}
		}
	}
	return storage.OpenReader(ctx, db)
}

// liveJobs reports the scheduler's jobs writing to db.
func liveJobs(s *schedule.Scheduler, db string) func() []serve.LiveJob {
	return func() []serve.LiveJob {
		var out []serve.LiveJob
		for _, j := range s.Jobs() {
			if j.Database == db {
				out = append(out, serve.LiveJob{Name: j.Name, Schedule: j.Schedule, Next: j.Next, Stats: j.Stats})
			}
		}
		return out
	}
}

// runShared is the scheduler's runner of a shared crawl's run: this
// process seeds the run from the database and is its sink, the database's
// one writer, while workers (gather worker --wait) fetch its pages.
func runShared(ctx context.Context, c *crawler.Crawler, cfg *config.Config, store *storage.Store, lease storage.LeaseOptions, now func() time.Time, log *slog.Logger) (crawler.Summary, error) {
	fr, err := frontier.Open(cfg.Frontier, frontier.Options{Job: cfg.Crawl.Name, Consumer: "schedule", Logger: log})
	if err != nil {
		return crawler.Summary{}, err
	}
	defer fr.Close()
	// Pages no changed item applies to are not seeded again.
	if _, err := c.SettleItems(ctx); err != nil {
		return crawler.Summary{}, err
	}
	sum, err := scaleout.Run(ctx, fr, c, store, scaleout.SinkOptions{ItemsHash: cfg.ItemsHash(), Lease: lease, Now: now,
		Logger: log.With("frontier", fr.Addr())})
	return crawler.Summary{Run: sum.Run, Status: sum.Status, Counts: sum.Counts, Elapsed: sum.Elapsed, Err: err, Database: store.Path()}, err
}
