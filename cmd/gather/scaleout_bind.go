package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/frontier"
	"github.com/gather-crawler/gather/storage"
)

// The database a shared crawl belongs to (frontier/bind.go), as seed and
// status see it: both read the config's database without writing it.

// configDatabaseID is the id of the database at path, "" if there is no
// file there or it has no id yet.
func configDatabaseID(ctx context.Context, path string) (string, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	rd, err := storage.OpenReader(ctx, path)
	if err != nil {
		return "", err
	}
	defer rd.Close()
	return rd.DatabaseID(ctx)
}

// checkConfigDatabase refuses to seed a crawl bound to another database
// than the config's, when the config's has an id.
func checkConfigDatabase(ctx context.Context, fr *frontier.Redis, path string) error {
	id, err := configDatabaseID(ctx, path)
	if err != nil || id == "" {
		return nil // nothing to compare: the sink checks when it starts
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return fr.CheckDatabase(ctx, id, path)
}

// printBinding says which database the crawl belongs to, and whether the
// config's is that one.
func printBinding(cmd *cobra.Command, fr *frontier.Redis, path string) {
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	w := cmd.OutOrStdout()
	b, ok, err := fr.Binding(ctx)
	switch {
	case err != nil:
		fmt.Fprintf(w, "database  unknown: %v\n", err)
		return
	case !ok:
		fmt.Fprintln(w, "database  none yet (the first sink binds the crawl to its database)")
		return
	}
	fmt.Fprintf(w, "database  %s (id %s)\n", b.Path, b.ID)
	if id, err := configDatabaseID(ctx, path); err == nil && id != "" && id != b.ID {
		fmt.Fprintf(w, "warning   this config's database %s (id %s) is another: a sink of it is refused\n", path, id)
	}
}

// markDeadRuns records as interrupted the crawl's runs that its database
// still says are running while no process runs them (their sink was
// killed: storage.Store.MarkDeadRuns), when the database is here, and
// says so. It is a courtesy of status and seed: a database it cannot
// write (read-only, busy) is left to the next sink, with a warning.
func markDeadRuns(cmd *cobra.Command, cfg *config.Config) {
	if _, err := os.Stat(cfg.Database); err != nil {
		return
	}
	w := cmd.OutOrStdout()
	st, err := storage.Open(cmd.Context(), cfg.Database, crawler.Tables(cfg))
	if err != nil {
		fmt.Fprintf(w, "warning   runs of %s not checked: %v\n", cfg.Database, err)
		return
	}
	defer st.Close()
	n, err := st.MarkDeadRuns(cmd.Context(), cfg.Crawl.Name)
	if err != nil {
		fmt.Fprintf(w, "warning   runs of %s not checked: %v\n", cfg.Database, err)
	}
	if n > 0 {
		fmt.Fprintf(w, "runs      %d recorded interrupted: running in %s, though no process ran them (a sink killed?)\n", n, cfg.Database)
	}
}
