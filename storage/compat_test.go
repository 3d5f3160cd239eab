package storage_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/storage"
)

func makeDB(t *testing.T, path, schema string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	must(t, err)
	defer db.Close()
	_, err = db.Exec(schema)
	must(t, err)
}

// A database gather cannot use is refused before anything in it changes:
// no table created, no column added, the journal mode kept, and no -wal or
// -shm file left beside it.
func TestOpen_RefusesForeignDatabasesUnchanged(t *testing.T) {
	for _, c := range []struct{ name, schema, want string }{
		{"someone else's gather_pages", `CREATE TABLE gather_pages (url TEXT PRIMARY KEY, body BLOB)`,
			"not a gather database, or one gather cannot read: its table gather_pages has no column"},
		{"an item table gather did not make", `CREATE TABLE "cast" (movie_id TEXT, person_id TEXT, PRIMARY KEY (movie_id, person_id))`,
			`table cast exists but gather did not make it (it has no _url column)`},
		{"an item table with another key", `CREATE TABLE "cast" (movie_id TEXT, person_id TEXT, name TEXT, _url TEXT, _run INTEGER, _fetched_at TEXT, PRIMARY KEY (person_id))`,
			"exists with key (person_id) but the config says (movie_id, person_id)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "theirs.db")
			makeDB(t, path, "PRAGMA journal_mode=DELETE; "+c.schema)
			before := fileSum(t, path)
			_, err := storage.Open(context.Background(), path, []storage.Table{castTable})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if fileSum(t, path) != before {
				t.Error("the refused database was changed")
			}
			for _, ext := range []string{"-wal", "-shm", "-journal"} {
				if _, err := os.Stat(path + ext); err == nil {
					t.Errorf("%s left behind", ext)
				}
			}
		})
	}
}

// A database gather did not make, in another journal mode, is switched to
// WAL with a note saying so; gather's own databases open without one.
func TestOpen_JournalModeNote(t *testing.T) {
	path := filepath.Join(t.TempDir(), "theirs.db")
	makeDB(t, path, `PRAGMA journal_mode=DELETE; CREATE TABLE notes (x TEXT)`)
	s := open(t, path, castTable)
	notes := s.Notes()
	s.Close()
	if len(notes) != 1 || !strings.Contains(notes[0], "was in journal mode delete; gather switched it to WAL") {
		t.Errorf("notes %q", notes)
	}
	s = open(t, path, castTable)
	if n := s.Notes(); len(n) != 0 {
		t.Errorf("a second open noted %q", n)
	}
	s.Close()
	fresh := open(t, filepath.Join(t.TempDir(), "new.db"), castTable)
	if n := fresh.Notes(); len(n) != 0 {
		t.Errorf("a new database noted %q", n)
	}
	fresh.Close()
}

// Paths that cannot be a crawl's database are refused with a reason, and
// a failed open leaves no file behind.
func TestOpen_PathsRefused(t *testing.T) {
	dir := t.TempDir()
	for path, want := range map[string]string{
		"":                            "the path is empty",
		":memory:":                    "is not a file",
		"file:x.db?mode=memory":       "is not a file",
		filepath.Join(dir, "no", "x"): "directory",
		dir:                           "it is a directory",
	} {
		if _, err := storage.Open(context.Background(), path, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", path, err, want)
		}
	}
	// Not a database: refused, and the file is as it was.
	junk := filepath.Join(dir, "junk.db")
	must(t, os.WriteFile(junk, []byte(strings.Repeat("not sqlite at all ", 100)), 0o644))
	if _, err := storage.Open(context.Background(), junk, nil); err == nil || !strings.Contains(err.Error(), "is not a SQLite database") {
		t.Errorf("junk: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "junk.db" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
