package storage_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/storage"
)

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func listDir(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// Every statement that could change the database or touch another file is
// refused with ErrReadOnly, and the file's bytes and its directory stay as
// they were.
func TestReader_RefusesWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.db")
	s := open(t, path, castTable)
	w := writer(t, s, 1)
	must(t, w.Put(context.Background(), okPage("http://x/a", row("tt1", "nm1", 1))))
	must(t, w.Close())
	must(t, s.Close())

	sum, files := fileSum(t, path), listDir(t, dir)
	r, err := storage.OpenReader(context.Background(), path)
	must(t, err)
	defer r.Close()
	for _, q := range []string{
		`INSERT INTO "cast" (movie_id, person_id, _url, _run, _fetched_at) VALUES ('a', 'b', 'u', 1, 't')`,
		`UPDATE "cast" SET person_id = 'x'`,
		`DELETE FROM "cast"`,
		`REPLACE INTO gather_runs (id, job, started_at, status) VALUES (1, 'j', 't', 's')`,
		`DROP TABLE "cast"`,
		`CREATE TABLE evil (x)`,
		`CREATE TEMP TABLE evil (x)`,
		`CREATE INDEX evil ON "cast" (person_id)`,
		`ALTER TABLE "cast" ADD COLUMN evil`,
		`ATTACH DATABASE '` + filepath.Join(dir, "new.db") + `' AS evil`,
		`PRAGMA query_only = 0`,
		`PRAGMA user_version = 7`,
		`PRAGMA journal_mode = DELETE`,
		`PRAGMA writable_schema = 1`,
		`VACUUM`,
		`VACUUM INTO '` + filepath.Join(dir, "copy.db") + `'`,
		`SELECT 1; DELETE FROM "cast"`,
		`SELECT 1; SELECT 2`,
		`WITH x AS (SELECT 1) INSERT INTO gather_runs (job, started_at, status) SELECT 'j', 't', 's' FROM x`,
		`BEGIN IMMEDIATE`,
		`SELECT load_extension('libevil')`,
		`   `,
	} {
		rows, err := r.Query(context.Background(), q)
		if err == nil {
			for rows.Next() {
			}
			err = r.Explain(context.Background(), rows.Err())
			rows.Close()
		}
		if err == nil {
			t.Errorf("%s: not refused", q)
			continue
		}
		if !errors.Is(err, storage.ErrReadOnly) && !strings.Contains(err.Error(), "not authorized") {
			t.Errorf("%s: refused with %v; want a read-only error", q, err)
		}
	}
	r.Close()
	if fileSum(t, path) != sum {
		t.Error("the database file changed")
	}
	if got := listDir(t, dir); got != files {
		t.Errorf("files changed: before %q, after %q", files, got)
	}
}

func TestReader_AllowsReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s := open(t, path, castTable)
	w := writer(t, s, 1)
	must(t, w.Put(context.Background(), okPage("http://x/a", row("tt1", "nm1", 1), row("tt1", "nm2", 2))))
	must(t, w.Close())
	r, err := storage.OpenReader(context.Background(), path)
	must(t, err)
	defer r.Close()
	for q, want := range map[string]int{
		`SELECT * FROM "cast"`: 2,
		`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5) SELECT x FROM c`: 5,
		`SELECT name FROM pragma_table_info('cast')`:                                              7,
		`PRAGMA table_info('cast')`:                                                               7,
		`SELECT count(*), max(length(person_id)) FROM "cast" -- a comment; with a semicolon`:      1,
		`SELECT ';' AS semicolon;`:                                                                1,
		`SELECT * FROM gather_failures`:                                                           0,
	} {
		rows, err := r.Query(context.Background(), q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if n != want {
			t.Errorf("%s: %d rows, want %d", q, n, want)
		}
	}
	_, err = r.Query(context.Background(), "SELECT * FROM casts")
	if err == nil || !strings.Contains(err.Error(), "no such table: casts (tables: cast, gather_archive, gather_changes, gather_crashes, gather_failures, gather_item_versions, gather_locks, gather_outcomes, gather_pages, gather_progress, gather_runs)") {
		t.Errorf("unknown table: %v", err)
	}
	_, err = r.Query(context.Background(), "SELEC 1")
	if err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("syntax error: %v", err)
	}
}

func TestOpenReader_MissingFileIsNotCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.db")
	_, err := storage.OpenReader(context.Background(), path)
	if !errors.Is(err, storage.ErrNoDatabase) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("the file was created")
	}
}
