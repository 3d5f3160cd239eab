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
func describeDeadColumns(ctx context.Context, w io.Writer, cfg *config.Config) error {
	if _, err := os.Stat(cfg.Database); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	r, err := storage.OpenReader(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer r.Close()
	notes, err := r.DeadColumns(ctx, crawler.Tables(cfg))
	if err != nil {
		return fmt.Errorf("database %s: %w", cfg.Database, err)
	}
	for _, n := range notes {
		fmt.Fprintf(w, "columns   %s\n", n)
	}
	return nil
}
