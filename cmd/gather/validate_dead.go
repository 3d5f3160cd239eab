package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// describeDeadColumns says, when the config's database exists, which
// columns of its item tables no field fills any more (a renamed or
// removed field): the run would warn of them too. It opens the database
// read-only and changes nothing; no database, nothing to say.
func describeDeadColumns(ctx context.Context, w io.Writer, cfg *config.Config) {
	if _, err := os.Stat(cfg.Database); errors.Is(err, os.ErrNotExist) {
		return
	}
	// The config is what validate checks: a database it cannot read is
	// said, not a failure of the config (a crawl would say more).
	r, err := storage.OpenReader(ctx, cfg.Database)
	if err != nil {
		fmt.Fprintf(w, "columns   not checked: %v\n", err)
		return
	}
	defer r.Close()
	notes, err := r.DeadColumns(ctx, crawler.Tables(cfg))
	if err != nil {
		fmt.Fprintf(w, "columns   not checked: database %s: %v\n", cfg.Database, err)
		return
	}
	for _, n := range notes {
		fmt.Fprintf(w, "columns   %s\n", n)
	}
}
