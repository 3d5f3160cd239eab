package storage

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// gatherCore are, for each of gather's own tables, columns every version
// of gather made it with: a table of that name without them was made by
// something else, and gather must not touch it.
var gatherCore = map[string][]string{
	"gather_runs":    {"id", "job", "started_at", "status"},
	"gather_pages":   {"url", "status", "job", "depth", "run"},
	"gather_changes": {"url", "run", "item"},
	"gather_locks":   {"job", "owner", "expires_at"},
}

// checkSchema refuses a database gather cannot use — a table of gather's
// own made by something else, an item table gather did not make, an item
// table whose key differs from the config's — before anything in it is
// changed: a refused database is left exactly as it was.
func checkSchema(ctx context.Context, db *sql.DB, tables []Table) error {
	names := make([]string, 0, len(gatherCore))
	for name := range gatherCore {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		cols, _, err := tableInfo(ctx, db, name)
		if err != nil {
			return err
		}
		if cols == nil {
			continue
		}
		for _, c := range gatherCore[name] {
			if !cols[c] {
				return fmt.Errorf("not a gather database, or one gather cannot read: its table %s has no column %s; use another file", name, c)
			}
		}
	}
	for _, t := range tables {
		if err := t.check(); err != nil {
			return err
		}
		cols, pk, err := tableInfo(ctx, db, t.Name)
		if err != nil {
			return err
		}
		if cols == nil {
			continue
		}
		for _, c := range []string{ColURL, ColRun, ColFetchedAt} {
			if !cols[c] {
				return fmt.Errorf("table %s exists but gather did not make it (it has no %s column): rename the item, or use another database", t.Name, c)
			}
		}
		if strings.Join(pk, ",") != strings.Join(t.Key, ",") {
			return fmt.Errorf("table %s exists with key (%s) but the config says (%s): drop or rename the table, or rename the item",
				t.Name, strings.Join(pk, ", "), strings.Join(t.Key, ", "))
		}
	}
	return nil
}

// journalNote says, for a database gather did not make, that opening it
// switches it to WAL for good — which other programs using the file may
// need to know — and is "" otherwise.
func journalNote(ctx context.Context, db *sql.DB, path string) (string, error) {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return "", fmt.Errorf("read the journal mode: %w", err)
	}
	if mode == "wal" {
		return "", nil
	}
	var theirs, ours int
	err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(name = 'gather_runs'), 0) FROM sqlite_master WHERE type = 'table'`).Scan(&theirs, &ours)
	if err != nil {
		return "", fmt.Errorf("inspect the database: %w", err)
	}
	if theirs == 0 || ours > 0 {
		return "", nil
	}
	return fmt.Sprintf("database %s was in journal mode %s; gather switched it to WAL, which it keeps (other programs using it need SQLite 3.7 or later, and the -wal and -shm files beside it)", path, mode), nil
}
