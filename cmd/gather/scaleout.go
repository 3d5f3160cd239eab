package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/crawler/scaleout"
	"github.com/gather-crawler/gather/frontier"
	"github.com/gather-crawler/gather/storage"
)

// The scaled-out crawl's commands: seed, worker, sink and status share a
// Redis frontier (docs/scaleout.md).

// sharedFlags are the flags every scale-out command takes.
type sharedFlags struct {
	cfgFile  string
	frontier string
	lease    time.Duration
}

func (f *sharedFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.cfgFile, "config", "c", "", "config file (default $GATHER_CONFIG, else ./config.yaml)")
	cmd.Flags().StringVar(&f.frontier, "frontier", "", "Redis URL of the shared frontier, redis:// or rediss:// (overrides the config's frontier and GATHER_FRONTIER)")
	cmd.Flags().DurationVar(&f.lease, "lease", 30*time.Second, "how long a URL stays a silent worker's before another takes it")
}

// load reads the config and opens its frontier, as consumer, with a
// logger on stderr; a config without a frontier is a usage error, before
// anything is sent.
func (f *sharedFlags) load(cmd *cobra.Command, g *globals, consumer string) (*config.Config, *frontier.Redis, *slog.Logger, error) {
	logger, err := g.logger(g.stderr, slog.LevelInfo)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, fr, err := f.open(cmd, logger, consumer)
	return cfg, fr, logger, err
}

func (f *sharedFlags) open(cmd *cobra.Command, logger *slog.Logger, consumer string) (*config.Config, *frontier.Redis, error) {
	cfg, err := config.Load(configPath(f.cfgFile))
	if err != nil {
		return nil, nil, err
	}
	if cmd.Flags().Changed("frontier") {
		cfg.Frontier = f.frontier
		if err := cfg.Validate(); err != nil {
			return nil, nil, err
		}
	}
	if cfg.Frontier == "" {
		return nil, nil, usagef("%s: frontier: no Redis to share the crawl through: set frontier: redis://HOST:6379/0, GATHER_FRONTIER or --frontier", cfg.File)
	}
	if f.lease < time.Second {
		return nil, nil, usagef("--lease must be at least 1s, got %s", f.lease)
	}
	fr, err := frontier.Open(cfg.Frontier, frontier.Options{Job: cfg.Crawl.Name, Consumer: consumer, LeaseTTL: f.lease, Logger: logger})
	if err != nil {
		return nil, nil, usageError{err}
	}
	return cfg, fr, nil
}

func newSeedCmd(g *globals) *cobra.Command {
	var f sharedFlags
	var resume bool
	cmd := &cobra.Command{
		Use:   "seed [-c FILE] [--frontier URL] [--resume]",
		Short: "Queue the start URLs in the shared frontier (each once, however often seeded)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, fr, logger, err := f.load(cmd, g, "seed")
			if err != nil {
				return err
			}
			defer fr.Close()
			c, err := crawler.New(cfg, nil, crawler.Options{Logger: logger})
			if err != nil {
				return err
			}
			if !resume {
				// The database is not opened, but one the crawl does not
				// belong to is still told.
				if err := checkConfigDatabase(cmd.Context(), fr, cfg.Database); err != nil {
					return err
				}
			}
			markDeadRuns(cmd, cfg)
			var st *storage.Store
			if resume {
				// The database is where what was stored is known when
				// Redis lost its data.
				if st, err = storage.Open(cmd.Context(), cfg.Database, crawler.Tables(cfg)); err != nil {
					return err
				}
				defer st.Close()
			}
			sum, err := scaleout.Seed(cmd.Context(), fr, c, st)
			if err != nil {
				return fmt.Errorf("seed %s: %w", fr.Addr(), err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "seeded %s: %s\n", fr.Addr(), sum)
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&resume, "resume", false, "rebuild a frontier that lost its data from the database: stored pages are not fetched again")
	return cmd
}

func newWorkerCmd(g *globals) *cobra.Command {
	var f sharedFlags
	var name string
	var wait bool
	cmd := &cobra.Command{
		Use:   "worker [-c FILE] [--frontier URL] [--name NAME] [--wait]",
		Short: "Fetch and extract pages leased from the shared frontier until the crawl is done",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, fr, logger, err := f.load(cmd, g, name)
			if err != nil {
				return err
			}
			defer fr.Close()
			c, err := crawler.New(cfg, nil, crawler.Options{Logger: logger})
			if err != nil {
				return err
			}
			sum, err := c.Work(cmd.Context(), fr, crawler.WorkOptions{Wait: wait})
			fmt.Fprintf(cmd.OutOrStdout(), "worker %s: %d ok, %d failed, %d skipped, %d items handed to the sink in %s%s\n",
				sum.Status, sum.Counts.PagesOK, sum.Counts.PagesFailed, sum.Counts.PagesSkipped, sum.Counts.Items, sum.Elapsed.Round(time.Millisecond),
				archivedNote(sum.Counts))
			return err
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&name, "name", "", "this worker's name in the frontier (default host:pid)")
	cmd.Flags().BoolVar(&wait, "wait", false, "when the crawl is over, wait for its next run (gather schedule seeds it) until SIGINT or SIGTERM")
	return cmd
}

func newSinkCmd(g *globals) *cobra.Command {
	var f sharedFlags
	var dbPath, listen string
	var newRun bool
	cmd := &cobra.Command{
		Use:   "sink [-c FILE] [--frontier URL] [--db PATH] [--listen ADDR] [--new-run]",
		Short: "Store the workers' outcomes in the SQLite database, the crawl's one writer",
		Long: `sink stores the outcomes the workers hand over in the SQLite database and
acknowledges them once committed, until the crawl's run is drained.

With --new-run it first begins the crawl's next run, as gather schedule does
on each tick: when the last run is over, the frontier forgets the URLs it
saw, and what is due in the database (refresh_after, failed pages past
their back-off, start URLs not stored) is seeded, then stored as it comes
back. A run that is not over is continued instead. Workers started with
--wait take the new run up.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, fr, logger, err := f.load(cmd, g, "sink")
			if err != nil {
				return err
			}
			defer fr.Close()
			if cmd.Flags().Changed("db") {
				if err := config.CheckDatabasePath(dbPath); err != nil {
					return usagef("--db: %v", err)
				}
				cfg.Database = dbPath
			}
			st, err := storage.Open(cmd.Context(), cfg.Database, crawler.Tables(cfg))
			if err != nil {
				return err
			}
			defer st.Close()
			if listen != "" {
				stop, err := serveFrontierMetrics(listen, fr, logger)
				if err != nil {
					return err
				}
				defer stop()
			}
			// The crawl, for reconciling the frontier if Redis restarts.
			c, err := crawler.New(cfg, st, crawler.Options{Logger: logger})
			if err != nil {
				return err
			}
			opts := scaleout.SinkOptions{ItemsHash: cfg.ItemsHash(), Logger: logger, Crawler: c}
			var sum scaleout.SinkSummary
			// The items' versions are recorded for the pages this sink
			// stores, and pages no changed item applies to are not seeded
			// again (SettleItems).
			if _, err := c.SettleItems(cmd.Context()); err != nil {
				return err
			}
			if newRun {
				sum, err = scaleout.Run(cmd.Context(), fr, c, st, opts)
				fmt.Fprintf(cmd.OutOrStdout(), "seeded %s: %s\n", fr.Addr(), sum.Seed)
			} else {
				sum, err = scaleout.Sink(cmd.Context(), fr, st, opts)
			}
			if sum.Run != 0 {
				fmt.Fprintln(cmd.OutOrStdout(), sum.String()+archivedNote(sum.Counts))
			}
			return err
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&dbPath, "db", "", "SQLite file (overrides the config's database)")
	cmd.Flags().StringVar(&listen, "listen", "", "serve /healthz and the frontier's Prometheus /metrics on this address while the sink runs, e.g. 127.0.0.1:9465")
	cmd.Flags().BoolVar(&newRun, "new-run", false, "begin the crawl's next run (what is due, from the database) and seed it, then store it")
	return cmd
}

func newStatusCmd(g *globals) *cobra.Command {
	var f sharedFlags
	var listen string
	cmd := &cobra.Command{
		Use:   "status [-c FILE] [--frontier URL] [--listen ADDR]",
		Short: "Show a shared crawl: queued, leased, stored, and each worker's rate",
		Long: `status prints a shared crawl's state, read from Redis. With --listen it
then serves the same as Prometheus metrics on /metrics (and /healthz), read
from Redis at each scrape, until SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, fr, logger, err := f.load(cmd, g, "status")
			if err != nil {
				return err
			}
			defer fr.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			st, err := fr.Status(ctx)
			if err != nil {
				return err
			}
			printStatus(cmd, fr.Addr(), st)
			printBinding(cmd, fr, cfg.Database)
			markDeadRuns(cmd, cfg)
			if listen == "" {
				return nil
			}
			stop, err := serveFrontierMetrics(listen, fr, logger)
			if err != nil {
				return err
			}
			defer stop()
			<-cmd.Context().Done()
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&listen, "listen", "", "then serve /healthz and Prometheus /metrics of the crawl on this address, e.g. 127.0.0.1:9465")
	return cmd
}

func printStatus(cmd *cobra.Command, addr string, st frontier.Status) {
	w := cmd.OutOrStdout()
	seeded := "seeding not finished"
	if st.Seeded {
		seeded = "seeded"
	}
	fmt.Fprintf(w, "frontier  %s (%s)\n", addr, seeded)
	if st.Run > 0 {
		fmt.Fprintf(w, "run       %d\n", st.Run)
	}
	fmt.Fprintf(w, "queued    %d\nleased    %d (oldest idle %s)\nto store  %d\nstored    %d\nseen      %d\n",
		st.Queued, st.Leased, st.OldestLease.Round(time.Millisecond), st.Results, st.Stored, st.Seen)
	if st.Sink != nil {
		fmt.Fprintf(w, "sink      %s, run %d of %s (beat %s ago)\n", st.Sink.Owner, st.Sink.Run, st.Sink.Database, st.Sink.Seen.Round(time.Millisecond))
	} else {
		fmt.Fprintln(w, "sink      none runs")
	}
	if st.Unreconciled != "" {
		fmt.Fprintf(w, "restarted %s: pages wait until a sink starts and reconciles the frontier with the database (gather sink)\n", st.Unreconciled)
	}
	if st.Late > 0 {
		fmt.Fprintf(w, "late      %d (outcomes whose lease was gone; the sink stores them where newer, the next sink if none runs)\n", st.Late)
	}
	for _, host := range slices.Sorted(maps.Keys(st.Stopped)) {
		fmt.Fprintf(w, "stopped   %s: %s\n", host, st.Stopped[host])
	}
	if len(st.Workers) == 0 {
		fmt.Fprintln(w, "workers   none")
		return
	}
	fmt.Fprintf(w, "workers   %d\n", len(st.Workers))
	for _, ws := range st.Workers {
		fmt.Fprintf(w, "  %-28s leased %-5d (oldest idle %s) pages %-7d %.1f pages/s, last seen %s ago\n", ws.Name, ws.Leased,
			ws.OldestLease.Round(time.Millisecond), ws.Pages, ws.Rate, ws.Seen.Round(time.Second))
		if ws.Outages > 0 || ws.Late > 0 {
			fmt.Fprintf(w, "  %-28s waited %s for the frontier (%d outages); %d outcomes handed over late\n", "", ws.Waited.Round(time.Millisecond), ws.Outages, ws.Late)
		}
	}
}

// serveFrontierMetrics serves /healthz and the crawl's frontier metrics
// (frontier.Collector) on addr, until stop.
func serveFrontierMetrics(addr string, fr *frontier.Redis, log *slog.Logger) (stop func(), err error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(frontier.NewCollector(fr))
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	stop, bound, err := serveHTTP(addr, mux, log)
	if err != nil {
		return nil, err
	}
	log.Info("serving /healthz and /metrics", "address", bound)
	return stop, nil
}

// checkFrontier is validate --connect: the frontier answers, or a usage
// error (exit 2) names it, without its password.
func checkFrontier(ctx context.Context, cfg *config.Config) error {
	if cfg.Frontier == "" {
		return nil
	}
	fr, err := frontier.Open(cfg.Frontier, frontier.Options{Job: cfg.Crawl.Name})
	if err != nil {
		return usageError{err}
	}
	defer fr.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := fr.Ping(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("frontier %s: no answer within 5s", fr.Addr())
		}
		return usagef("%s: %v", cfg.File, err)
	}
	return nil
}
