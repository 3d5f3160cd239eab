package main

import (
	"context"
	"fmt"
	"os"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/crawler/archive"
)

func newReextractCmd(g *globals) *cobra.Command {
	var (
		cfgFile, dbPath, urlPattern string
		rebuild                     string
		items                       []string
		limit                       int64
	)
	cmd := &cobra.Command{
		Use:   "reextract [-c FILE] [--db PATH] [--item NAME]... [--url REGEX] [--limit N] [--rebuild ITEM]",
		Short: "Run the config's items over the archived responses: no request is sent",
		Long: `reextract runs the config's current items over the responses the crawl
archived (the archive key: WARC files beside the database), as a run of its
own: rows are upserted, changes recorded and warnings reported as a crawl's,
and each page says fetched_by archive. Nothing is fetched: the loop for a
config author after a selector change is reextract, then query.

--item keeps the pages those items apply to (their url patterns), --url the
pages whose URL matches, --limit stops after N pages. A response that cannot
be read (a file gone or damaged) leaves its page as it was and is reported.

--rebuild ITEM remakes the item's table with only the config's columns
(dropping those no field fills any more) and re-extracts its pages; the
old table is kept as a backup until every page with rows in it has been
re-extracted (docs/archive.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadWithDB(cmd, cfgFile, dbPath)
			if err != nil {
				return err
			}
			opts := crawler.ReextractOptions{Items: items, Limit: limit}
			if urlPattern != "" {
				if opts.URL, err = regexp.Compile(urlPattern); err != nil {
					return usagef("--url: %v", err)
				}
			}
			if limit < 0 {
				return usagef("--limit must not be negative")
			}
			for _, it := range items {
				if _, ok := cfg.Items[it]; !ok {
					return usagef("--item %s: the config has no such item (it has %v)", it, cfg.ItemOrder)
				}
			}
			if _, err := os.Stat(cfg.Database); err != nil {
				return fmt.Errorf("database %s: %w: crawl first (reextract reads what a crawl archived)", cfg.Database, err)
			}
			if rebuild != "" {
				return runRebuild(cmd, g, cfg, rebuild, opts)
			}
			_, err = runLocal(cmd.Context(), g, cfg, crawler.Options{}, cmd.OutOrStdout(), "reextract",
				func(c *crawler.Crawler, ctx context.Context) (crawler.Summary, error) { return c.Reextract(ctx, opts) })
			return err
		},
	}
	cmd.Flags().StringVarP(&cfgFile, "config", "c", "", "config file (default $GATHER_CONFIG, else ./config.yaml)")
	cmd.Flags().StringVar(&dbPath, "db", "", "SQLite file (overrides the config's database)")
	cmd.Flags().StringSliceVar(&items, "item", nil, "only the pages this item applies to (repeatable)")
	cmd.Flags().StringVar(&urlPattern, "url", "", "only the pages whose URL matches this regex")
	cmd.Flags().Int64Var(&limit, "limit", 0, "re-extract at most N pages (0: all)")
	cmd.Flags().StringVar(&rebuild, "rebuild", "", "remake this item's table with only today's columns, then re-extract its pages")
	return cmd
}

func newWarcIndexCmd(g *globals) *cobra.Command {
	var cfgFile string
	cmd := &cobra.Command{
		Use:   "warc-index [-c FILE] [PATH]",
		Short: "Print a CDXJ index of the archive's WARC files (or of PATH: a file or directory)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
			} else {
				cfg, err := config.Load(configPath(cfgFile))
				if err != nil {
					return err
				}
				path = cfg.ArchiveDir()
			}
			files, err := archive.Files(path)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, f := range files {
				_, skipped, err := archive.CDXJ(out, f)
				if err != nil {
					return err
				}
				for _, s := range skipped {
					fmt.Fprintf(g.stderr, "warc-index: %v (skipped)\n", s)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgFile, "config", "c", "", "config file (default $GATHER_CONFIG, else ./config.yaml)")
	return cmd
}
