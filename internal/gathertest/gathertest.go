// Package gathertest holds the helpers that tests of several packages
// share: the shipped configs' items, id files and read-only connections to
// the database a test wrote. Only tests import it.
package gathertest

import (
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/demo"
)

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// ShippedItems is the items section of the shipped config.yaml, so that
// tests crawl with exactly what users get.
func ShippedItems(tb testing.TB) string {
	tb.Helper()
	return itemsOf(tb, "config.yaml")
}

// ClassicItems is the items section of examples/imdb-classic.yaml.
func ClassicItems(tb testing.TB) string {
	tb.Helper()
	return itemsOf(tb, filepath.Join("examples", "imdb-classic.yaml"))
}

// itemsOf cuts the items section out of a config of the repository: from
// "items:" to the next top-level key, or the end.
func itemsOf(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(RepoRoot(), name))
	if err != nil {
		tb.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\nitems:")
	if i < 0 {
		tb.Fatalf("%s has no items section", name)
	}
	s = s[i+1:]
	for _, next := range []string{"\nschedule:", "\ncrawl:", "\ndatabase:"} {
		if j := strings.Index(s, next); j >= 0 {
			s = s[:j+1]
		}
	}
	return s
}

// WriteIDs writes the demo ids first..last to a file in a temporary
// directory and returns its path.
func WriteIDs(tb testing.TB, first, last int) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "ids.txt")
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	if err := demo.WriteIDs(f, first, last); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return p
}

// OpenDB opens the database at path read-only, closed when the test ends.
// It waits for a writer's lock as gather's own readers do.
func OpenDB(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// LoadConfig writes doc as job.yaml in dir and loads it as gather does,
// so that relative paths in it are relative to dir.
func LoadConfig(tb testing.TB, dir, doc string) *config.Config {
	tb.Helper()
	path := filepath.Join(dir, "job.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		tb.Fatalf("config:\n%s\n%v", doc, err)
	}
	return cfg
}
