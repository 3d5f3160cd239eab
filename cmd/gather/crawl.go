package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

func newCrawlCmd(g *globals) *cobra.Command {
	var (
		cfgFile     string
		dbPath      string
		parallelism int
		limit       int64
	)
	cmd := &cobra.Command{
		Use:   "crawl [-c FILE] [--db PATH] [--parallelism N] [--limit N]",
		Short: "Run the crawl a config describes, to completion",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadWithDB(cmd, cfgFile, dbPath)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("parallelism") {
				if parallelism < 1 {
					return usagef("--parallelism must be at least 1, got %d", parallelism)
				}
				cfg.Crawl.Parallelism = parallelism
			}
			if limit < 0 {
				return usagef("--limit must not be negative")
			}
			_, err = runCrawl(cmd.Context(), g, cfg, crawler.Options{Limit: limit}, cmd.OutOrStdout())
			return err
		},
	}
	cmd.Flags().StringVarP(&cfgFile, "config", "c", "", "config file (default $GATHER_CONFIG, else ./config.yaml)")
	cmd.Flags().StringVar(&dbPath, "db", "", "SQLite file (overrides the config's database)")
	cmd.Flags().IntVar(&parallelism, "parallelism", 0, "requests in flight per host (overrides crawl.parallelism)")
	cmd.Flags().Int64Var(&limit, "limit", 0, "fetch at most N pages in this run (0: all)")
	return cmd
}

// runCrawl opens the database, runs the crawl with progress on stderr and
// prints the one-line summary on stdout. The error is non-nil when the run
// did not finish (interrupted, every page failed, database trouble).
func runCrawl(ctx context.Context, g *globals, cfg *config.Config, opts crawler.Options, stdout io.Writer) (crawler.Summary, error) {
	return runLocal(ctx, g, cfg, opts, stdout, "crawl", (*crawler.Crawler).Run)
}

// runLocal is a run of a door that writes this process's database (crawl,
// reextract): do runs it on the crawler.
func runLocal(ctx context.Context, g *globals, cfg *config.Config, opts crawler.Options, stdout io.Writer, door string,
	do func(*crawler.Crawler, context.Context) (crawler.Summary, error)) (crawler.Summary, error) {
	stderr := g.stderr
	interactive := isTerminal(stderr)
	var bar *progressBar
	var logOut io.Writer = stderr
	level := slog.LevelInfo
	if interactive {
		bar = newProgressBar(stderr)
		logOut = bar
		level = slog.LevelWarn
	}
	logger, err := g.logger(logOut, level)
	if err != nil {
		return crawler.Summary{}, err
	}
	store, err := storage.Open(ctx, cfg.Database, crawler.Tables(cfg))
	if err != nil {
		return crawler.Summary{}, err
	}
	for _, n := range store.Notes() {
		logger.Warn(n)
	}
	defer func() {
		if err := store.Close(); err != nil {
			logger.Warn("closing the database failed", "database", cfg.Database, "error", err)
		}
	}()

	opts.Logger = logger
	c, err := crawler.New(cfg, store, opts)
	if err != nil {
		return crawler.Summary{}, err
	}
	stop := startProgress(c, bar, logger)
	sum, runErr := do(c, ctx)
	stop()
	if sum.Run == 0 { // no run started (the job's lease is held elsewhere): the error says it all
		return sum, runErr
	}
	fmt.Fprintln(stdout, sum.String())
	if runErr != nil {
		return sum, fmt.Errorf("%s %s: %w", door, sum.Status, runErr)
	}
	return sum, nil
}

// loadWithDB loads the config a command names, with --db, when given, in
// place of its database (and so of the archive beside it).
func loadWithDB(cmd *cobra.Command, cfgFile, dbPath string) (*config.Config, error) {
	cfg, err := config.Load(configPath(cfgFile))
	if err != nil {
		return nil, err
	}
	if cmd.Flags().Changed("db") {
		if err := config.CheckDatabasePath(dbPath); err != nil {
			return nil, usagef("--db: %v", err)
		}
		cfg.Database = dbPath
	}
	return cfg, nil
}
