package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
)

// runRebuild is gather reextract --rebuild ITEM: the table remade with
// today's columns, its pages re-extracted, and what became of the rows
// said.
func runRebuild(cmd *cobra.Command, g *globals, cfg *config.Config, item string, opts crawler.ReextractOptions) error {
	if _, ok := cfg.Items[item]; !ok {
		return usagef("--rebuild %s: the config has no such item (it has %v)", item, cfg.ItemOrder)
	}
	// A rebuild refreshes the whole table: a part of it would leave the
	// backup behind for nothing.
	if len(opts.Items) > 0 || opts.URL != nil || opts.Limit > 0 {
		return usagef("--rebuild re-extracts every page of its item: it takes no --item, --url or --limit")
	}
	var reb crawler.Rebuilt
	_, err := runLocal(cmd.Context(), g, cfg, crawler.Options{}, cmd.OutOrStdout(), "reextract --rebuild",
		func(c *crawler.Crawler, ctx context.Context) (crawler.Summary, error) {
			sum, r, err := c.Rebuild(ctx, item, opts)
			reb = r
			return sum, err
		})
	if reb.Backup != "" {
		printRebuilt(cmd.OutOrStdout(), cfg.Database, reb)
	}
	return err
}

func printRebuilt(w io.Writer, db string, reb crawler.Rebuilt) {
	dropped := "no column to drop"
	if len(reb.Dropped) > 0 {
		dropped = "dropped " + strings.Join(reb.Dropped, ", ")
	}
	fmt.Fprintf(w, "rebuilt table %s with today's columns (%s): %d rows of %d pages\n", reb.Table, dropped, reb.Rows, reb.Pages)
	if reb.Unarchived > 0 {
		fmt.Fprintf(w, "%d pages have rows but no archived response (first: %s): their rows were kept as they were, not re-extracted; a crawl that fetches them again refreshes them\n",
			reb.Unarchived, reb.FirstUnarchived)
	}
	if !reb.BackupKept {
		fmt.Fprintf(w, "every page was re-extracted; the backup %s was dropped\n", reb.Backup)
		return
	}
	why := "the re-extraction did not finish"
	if reb.Stale > 0 {
		why = fmt.Sprintf("%d pages' rows were not re-extracted", reb.Stale)
	}
	fmt.Fprintf(w, "the old table is kept as %s (%s): every row and column it had; once you no longer need it: sqlite3 %s 'DROP TABLE %s'\n",
		reb.Backup, why, db, reb.Backup)
}
