package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Columns every item table has besides its fields. A key names the page
// URL and the record's position by the config's KeyURL and KeyIndex, so
// those two columns carry the same names (a test holds them equal:
// storage does not import the config's schema).
const (
	ColURL       = "_url"
	ColRun       = "_run"
	ColFetchedAt = "_fetched_at"
	ColIndex     = "_index"
)

// Column affinities.
const (
	AffinityText    = "TEXT"
	AffinityInteger = "INTEGER"
	AffinityReal    = "REAL"
)

// Table is one item's table: its fields as columns, plus _url, _run,
// _fetched_at and, for items with each, _index.
type Table struct {
	Name    string
	Columns []Column // the item's fields, in config order
	Key     []string
	// Indexed is set for items with `each`: rows carry their position.
	Indexed bool

	keyPos []int // keyPositions, worked out once by Open
}

// Column is one field of an item.
type Column struct {
	Name string
	Type string // declared type: TEXT, INTEGER, REAL or JSONColumnType
}

// JSONColumnType is the declared type of a column holding JSON: a list
// (all: true, or a split) or a field of type json. Its affinity is TEXT,
// as before; readers that look at declared types (gather query, gather
// serve's exports) print its values as JSON, not as strings holding JSON.
const JSONColumnType = "JSON TEXT"

// allColumns is the column order rows are written in.
func (t Table) allColumns() []string {
	cols := make([]string, 0, len(t.Columns)+4)
	for _, c := range t.Columns {
		cols = append(cols, c.Name)
	}
	cols = append(cols, ColURL, ColRun, ColFetchedAt)
	if t.Indexed {
		cols = append(cols, ColIndex)
	}
	return cols
}

func (t Table) check() error {
	if err := checkIdent(t.Name); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	if strings.HasPrefix(t.Name, "gather_") || strings.HasPrefix(t.Name, "sqlite_") {
		return fmt.Errorf("table %s: the gather_ and sqlite_ prefixes are reserved", t.Name)
	}
	if len(t.Columns) == 0 {
		return fmt.Errorf("table %s: no columns", t.Name)
	}
	names := map[string]bool{}
	for _, c := range t.allColumns() {
		if err := checkIdent(c); err != nil {
			return fmt.Errorf("table %s: column %w", t.Name, err)
		}
		if names[c] {
			return fmt.Errorf("table %s: column %s twice", t.Name, c)
		}
		names[c] = true
	}
	if len(t.Key) == 0 {
		return fmt.Errorf("table %s: no key", t.Name)
	}
	for _, k := range t.Key {
		if !names[k] {
			return fmt.Errorf("table %s: key column %s is not a column", t.Name, k)
		}
	}
	return nil
}

func (t Table) createSQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n", quote(t.Name))
	for _, c := range t.Columns {
		fmt.Fprintf(&b, "  %s %s,\n", quote(c.Name), c.Type)
	}
	fmt.Fprintf(&b, "  %s TEXT NOT NULL,\n  %s INTEGER NOT NULL,\n  %s TEXT NOT NULL,\n", quote(ColURL), quote(ColRun), quote(ColFetchedAt))
	if t.Indexed {
		fmt.Fprintf(&b, "  %s INTEGER,\n", quote(ColIndex))
	}
	// WITHOUT ROWID stores each row once, in its key's b-tree, instead of
	// a rowid table plus a key index: one b-tree insert per row fewer.
	fmt.Fprintf(&b, "  PRIMARY KEY (%s)\n) WITHOUT ROWID", quoteAll(t.Key))
	return b.String()
}

const metaSchema = `
CREATE TABLE IF NOT EXISTS gather_runs (
  id INTEGER PRIMARY KEY,
  job TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  status TEXT NOT NULL,
  pages_ok INTEGER NOT NULL DEFAULT 0,
  pages_failed INTEGER NOT NULL DEFAULT 0,
  pages_skipped INTEGER NOT NULL DEFAULT 0,
  items INTEGER NOT NULL DEFAULT 0,
  pages_changed INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  warnings INTEGER NOT NULL DEFAULT 0,
  browser_pages INTEGER NOT NULL DEFAULT 0,
  challenges INTEGER NOT NULL DEFAULT 0,
  archived INTEGER NOT NULL DEFAULT 0,
  archive_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS gather_pages (
  url TEXT NOT NULL,
  status TEXT NOT NULL,
  http_status INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  fetched_at TEXT,
  run INTEGER,
  bytes INTEGER,
  content_hash TEXT,
  changed_at TEXT,
  job TEXT NOT NULL,
  depth INTEGER NOT NULL DEFAULT 0,
  warnings TEXT,
  stored_at TEXT,
  row_keys BLOB,
  fail_runs INTEGER NOT NULL DEFAULT 0,
  items_hash TEXT NOT NULL DEFAULT '',
  fetched_by TEXT NOT NULL DEFAULT '',
  hub INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (job, url)
);
-- Only followed links still to fetch are looked up by status, so only they
-- are indexed: start pages never enter (and never update) this index.
CREATE INDEX IF NOT EXISTS gather_pages_unfinished ON gather_pages (job) WHERE depth > 0 AND status IN ('pending', 'failed');
CREATE TABLE IF NOT EXISTS gather_changes (
  url TEXT NOT NULL,
  run INTEGER NOT NULL,
  item TEXT NOT NULL,
  changed_at TEXT NOT NULL,
  added INTEGER NOT NULL,
  removed INTEGER NOT NULL,
  modified INTEGER NOT NULL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS gather_changes_changed_at ON gather_changes (changed_at);
CREATE INDEX IF NOT EXISTS gather_changes_run ON gather_changes (run);
CREATE VIEW IF NOT EXISTS gather_failures AS
  SELECT url, http_status, attempts, error, fetched_at, run, job
  FROM gather_pages WHERE status = 'failed';
`

// pagesColumns are gather_pages' columns, in order: what a rebuild of an
// older gather_pages copies.
var pagesColumns = []string{"url", "status", "http_status", "attempts", "error", "fetched_at", "run", "bytes",
	"content_hash", "changed_at", "job", "depth", "warnings", "stored_at", "row_keys", "fail_runs", "items_hash", "fetched_by", "hub"}

// metaColumns are the columns added to gather's own tables after their
// first release, in the order they were added.
var metaColumns = []struct{ table, column, decl string }{
	{"gather_runs", "warnings", "INTEGER NOT NULL DEFAULT 0"},
	{"gather_pages", "fail_runs", "INTEGER NOT NULL DEFAULT 0"},
	{"gather_pages", "items_hash", "TEXT NOT NULL DEFAULT ''"},
	{"gather_pages", "hub", "INTEGER NOT NULL DEFAULT 0"},
	// http, browser or http+cookie ("" before the column, or unknown).
	{"gather_pages", "fetched_by", "TEXT NOT NULL DEFAULT ''"},
	// Pages loaded in Chromium and JavaScript challenges solved.
	{"gather_runs", "browser_pages", "INTEGER NOT NULL DEFAULT 0"},
	{"gather_runs", "challenges", "INTEGER NOT NULL DEFAULT 0"},
	// Exchanges the run archived and their bytes on disk (archive.go).
	{"gather_runs", "archived", "INTEGER NOT NULL DEFAULT 0"},
	{"gather_runs", "archive_bytes", "INTEGER NOT NULL DEFAULT 0"},
	// Where a browser page's rendered DOM lies beside its response.
	{"gather_archive", "rendered_offset", "INTEGER NOT NULL DEFAULT 0"},
	{"gather_archive", "rendered_length", "INTEGER NOT NULL DEFAULT 0"},
}

// migrate creates gather's own tables and the item tables, adding columns a
// config gained since the table was made. A table whose key changed is an
// error: silently re-keying would merge or split stored rows.
func migrate(ctx context.Context, db *sql.DB, tables []Table) (dead []string, err error) {
	if _, err := db.ExecContext(ctx, metaSchema+leaseSchema+poisonSchema+progressSchema+outcomeSchema+archiveSchema+itemVersionsSchema); err != nil {
		return nil, fmt.Errorf("create gather tables: %w", err)
	}
	// Columns gather's own tables gained since a database was made.
	if err := pagesPerJob(ctx, db); err != nil {
		return nil, err
	}
	for _, c := range metaColumns {
		cols, _, err := tableInfo(ctx, db, c.table)
		if err != nil {
			return nil, err
		}
		if !cols[c.column] {
			if _, err := db.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", c.table, c.column, c.decl)); err != nil {
				// Another process opening the same database may have
				// added it in between.
				if cols, _, ierr := tableInfo(ctx, db, c.table); ierr != nil || !cols[c.column] {
					return nil, fmt.Errorf("add column %s.%s: %w", c.table, c.column, err)
				}
			}
		}
	}
	for _, t := range tables {
		if err := t.check(); err != nil {
			return nil, err
		}
		existing, pk, err := tableInfo(ctx, db, t.Name)
		if err != nil {
			return nil, err
		}
		if existing == nil {
			if _, err := db.ExecContext(ctx, t.createSQL()); err != nil {
				return nil, fmt.Errorf("create table %s: %w", t.Name, err)
			}
		} else {
			if strings.Join(pk, ",") != strings.Join(t.Key, ",") {
				return nil, fmt.Errorf("table %s exists with key (%s) but the config says (%s): drop or rename the table, or rename the item",
					t.Name, strings.Join(pk, ", "), strings.Join(t.Key, ", "))
			}
			if unfilled := unfilledColumns(t, existing); len(unfilled) > 0 {
				dead = append(dead, deadColumnsNote(t.Name, unfilled))
			}
			for _, c := range t.allColumns() {
				if existing[c] {
					continue
				}
				typ := "TEXT"
				for _, col := range t.Columns {
					if col.Name == c {
						typ = col.Type
					}
				}
				if c == ColIndex {
					typ = "INTEGER"
				}
				if _, err := db.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", quote(t.Name), quote(c), typ)); err != nil {
					return nil, fmt.Errorf("add column %s.%s: %w", t.Name, c, err)
				}
			}
		}
	}
	return dead, nil
}

// pagesPerJob rebuilds a gather_pages keyed by URL alone (databases made
// before jobs had a frontier each) into one keyed by (job, url), in one
// transaction: two jobs crawling the same URL must each have their own
// record of it, or one job's pages hide the other's.
func pagesPerJob(ctx context.Context, db *sql.DB) error {
	cols, pk, err := tableInfo(ctx, db, "gather_pages")
	if err != nil {
		return err
	}
	if strings.Join(pk, ",") != "url" {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rebuild gather_pages per job: %w", err)
	}
	defer tx.Rollback()
	// Columns the old table lacks take their defaults.
	var copied []string
	for _, c := range pagesColumns {
		if cols[c] {
			copied = append(copied, c)
		}
	}
	sel := make([]string, len(copied))
	for i, c := range copied {
		sel[i] = c
		if c == "job" {
			sel[i] = "coalesce(job, '')"
		}
	}
	create := strings.Replace(metaSchema[strings.Index(metaSchema, "CREATE TABLE IF NOT EXISTS gather_pages ("):strings.Index(metaSchema, "-- Only followed links")],
		"CREATE TABLE IF NOT EXISTS gather_pages (", "CREATE TABLE gather_pages_per_job (", 1)
	for _, q := range []string{
		create,
		fmt.Sprintf("INSERT INTO gather_pages_per_job (%s) SELECT %s FROM gather_pages ORDER BY rowid",
			strings.Join(copied, ", "), strings.Join(sel, ", ")),
		"DROP VIEW IF EXISTS gather_failures",
		"DROP TABLE gather_pages",
		"ALTER TABLE gather_pages_per_job RENAME TO gather_pages",
		metaSchema,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuild gather_pages per job: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rebuild gather_pages per job: %w", err)
	}
	return nil
}

// tableInfo returns the columns of a table (nil if it does not exist) and
// its primary key columns in key order.
func tableInfo(ctx context.Context, db *sql.DB, name string) (map[string]bool, []string, error) {
	rows, err := db.QueryContext(ctx, "SELECT name, pk FROM pragma_table_info(?)", name)
	if err != nil {
		return nil, nil, fmt.Errorf("inspect table %s: %w", name, err)
	}
	defer rows.Close()
	cols := map[string]bool{}
	pkPos := map[int]string{}
	for rows.Next() {
		var col string
		var pk int
		if err := rows.Scan(&col, &pk); err != nil {
			return nil, nil, err
		}
		cols[col] = true
		if pk > 0 {
			pkPos[pk] = col
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(cols) == 0 {
		return nil, nil, nil
	}
	pk := make([]string, len(pkPos))
	for i := range pk {
		pk[i] = pkPos[i+1]
	}
	return cols, pk, nil
}
