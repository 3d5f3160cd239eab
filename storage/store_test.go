package storage_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gather-crawler/gather/storage"
)

var castTable = storage.Table{
	Name:    "cast",
	Columns: []storage.Column{{Name: "movie_id", Type: "TEXT"}, {Name: "person_id", Type: "TEXT"}, {Name: "order", Type: "INTEGER"}},
	Key:     []string{"movie_id", "person_id"},
	Indexed: true,
}

func open(t *testing.T, path string, tables ...storage.Table) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), path, tables)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func writer(t *testing.T, s *storage.Store, run int64) *storage.Writer {
	t.Helper()
	w, err := s.NewWriter(storage.WriterOptions{Run: run, Job: "test", BatchDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func okPage(url string, rows ...storage.Row) storage.Page {
	return storage.Page{URL: url, Status: storage.PageOK, HTTPStatus: 200, Attempts: 1, FetchedAt: time.Now(),
		Items: []storage.ItemRows{{Table: "cast", Rows: rows}}}
}

func row(movie, person string, order int) storage.Row {
	return storage.Row{Values: []any{movie, person, order}, Index: order}
}

func rows(t *testing.T, path, q string) []string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []string
	for r.Next() {
		var s string
		if err := r.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// A re-fetched page replaces its earlier rows; rows from other pages with
// the same key are upserted, not duplicated; a failed re-fetch keeps the
// page's rows.
func TestWriter_ReplaceAndUpsert(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s := open(t, path, castTable)
	w := writer(t, s, 1)
	ctx := context.Background()
	must(t, w.Put(ctx, okPage("http://x/a", row("tt1", "nm1", 1), row("tt1", "nm2", 2))))
	must(t, w.Put(ctx, okPage("http://x/b", row("tt2", "nm1", 1))))
	must(t, w.Close())

	w = writer(t, s, 2)
	must(t, w.Put(ctx, okPage("http://x/a", row("tt1", "nm2", 1), row("tt1", "nm3", 2)))) // nm1 gone, nm3 new
	must(t, w.Put(ctx, storage.Page{URL: "http://x/b", Status: storage.PageFailed, HTTPStatus: 503, Attempts: 4, Error: "HTTP 503", FetchedAt: time.Now()}))
	must(t, w.Close())
	if c := w.Counts(); c.PagesOK != 1 || c.PagesFailed != 1 || c.Items != 2 || c.PagesChanged != 1 {
		t.Errorf("counts %+v", c)
	}

	got := strings.Join(rows(t, path, `SELECT movie_id || ' ' || person_id || ' ' || "order" || ' ' || _run FROM "cast" ORDER BY 1`), "; ")
	want := "tt1 nm2 1 2; tt1 nm3 2 2; tt2 nm1 1 1"
	if got != want {
		t.Errorf("rows:\n got %s\nwant %s", got, want)
	}
	pages := strings.Join(rows(t, path, `SELECT url || ' ' || status || ' ' || attempts || ' ' || coalesce(error, '-') || ' ' || (content_hash IS NOT NULL) || ' ' || (changed_at IS NOT NULL) FROM gather_pages ORDER BY url`), "; ")
	if want := "http://x/a ok 1 - 1 1; http://x/b failed 4 HTTP 503 1 0"; pages != want {
		t.Errorf("pages:\n got %s\nwant %s", pages, want)
	}
	if f := rows(t, path, "SELECT url || ' ' || error FROM gather_failures"); len(f) != 1 || f[0] != "http://x/b HTTP 503" {
		t.Errorf("gather_failures: %v", f)
	}
}

func TestWriter_PendingDoesNotHideStoredPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s := open(t, path, castTable)
	w := writer(t, s, 1)
	ctx := context.Background()
	must(t, w.Pending(ctx, "http://x/a", 0))
	must(t, w.Pending(ctx, "http://x/b", 1))
	must(t, w.Put(ctx, okPage("http://x/a", row("tt1", "nm1", 1))))
	must(t, w.Flush(ctx))
	must(t, w.Pending(ctx, "http://x/a", 0)) // a refresh must not mark a stored page pending
	must(t, w.Put(ctx, storage.Page{URL: "http://x/d", Status: storage.PageFailed, HTTPStatus: 404, Error: "HTTP 404", Depth: 1}))
	must(t, w.Flush(ctx))
	must(t, w.Pending(ctx, "http://x/d", 1)) // nor a failed one: its failure would vanish
	must(t, w.Close())
	w2 := writer(t, s, 2)
	must(t, w2.Pending(ctx, "http://x/d", 1)) // not in a later run either
	must(t, w2.Close())
	states, err := s.PageStates(ctx, "test", []string{"http://x/a", "http://x/b", "http://x/c", "http://x/d"})
	must(t, err)
	if states["http://x/a"].Status != "ok" || states["http://x/b"].Status != "pending" || len(states) != 3 {
		t.Errorf("states %+v", states)
	}
	if d := states["http://x/d"]; d.Status != "failed" || d.FailRuns != 1 || d.HTTPStatus != 404 {
		t.Errorf("failed page after being found again: %+v", d)
	}
	d, _, err := s.UnfinishedDiscovered(ctx, "test", 0, 10, storage.Refetch{})
	must(t, err)
	if len(d) != 2 || d[0].URL != "http://x/b" || d[0].Depth != 1 || d[1].URL != "http://x/d" {
		t.Errorf("discovered %+v", d)
	}
}

func TestOpen_Migrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s := open(t, path, castTable)
	s.Close()
	// A new field becomes a new column.
	more := castTable
	more.Columns = append(append([]storage.Column{}, castTable.Columns...), storage.Column{Name: "character", Type: "TEXT"})
	s = open(t, path, more)
	s.Close()
	if cols := rows(t, path, "SELECT name FROM pragma_table_info('cast') WHERE name = 'character'"); len(cols) != 1 {
		t.Errorf("column not added")
	}
	// A changed key is refused.
	rekeyed := castTable
	rekeyed.Key = []string{"person_id"}
	if _, err := storage.Open(context.Background(), path, []storage.Table{rekeyed}); err == nil || !strings.Contains(err.Error(), "exists with key (movie_id, person_id)") {
		t.Errorf("err = %v", err)
	}
	// Identifiers are checked.
	bad := castTable
	bad.Name = `x"; DROP TABLE gather_runs; --`
	if _, err := storage.Open(context.Background(), path, []storage.Table{bad}); err == nil {
		t.Error("bad identifier accepted")
	}
	if _, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "no", "such", "dir.db"), nil); err == nil {
		t.Error("missing directory accepted")
	}
}

func TestRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s := open(t, path, castTable)
	ctx := context.Background()
	id, err := s.StartRun(ctx, "job", time.Date(2026, 11, 24, 15, 4, 5, 0, time.UTC))
	must(t, err)
	must(t, s.FinishRun(ctx, id, storage.RunFinished, storage.RunCounts{PagesOK: 3, Items: 9}, time.Now(), ""))
	r, err := s.Run(ctx, id)
	must(t, err)
	if r.Status != "finished" || r.PagesOK != 3 || r.Items != 9 || r.StartedAt != "2026-11-24T15:04:05.000Z" {
		t.Errorf("run %+v", r)
	}
	if res, err := s.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Errorf("integrity %s %v", res, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestWriter_RecordsChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s := open(t, path, castTable)
	ctx := context.Background()
	w := writer(t, s, 1)
	must(t, w.Put(ctx, okPage("http://x/a", row("tt1", "nm1", 1), row("tt1", "nm2", 2))))
	must(t, w.Close())
	w = writer(t, s, 2)
	must(t, w.Put(ctx, okPage("http://x/a", row("tt1", "nm1", 1), row("tt1", "nm2", 2)))) // unchanged
	must(t, w.Close())
	if c := w.Counts(); c.PagesChanged != 0 {
		t.Errorf("an unchanged page counted as changed")
	}
	w = writer(t, s, 3)
	must(t, w.Put(ctx, okPage("http://x/a", row("tt1", "nm2", 5), row("tt1", "nm3", 2)))) // nm1 gone, nm2 modified, nm3 new
	must(t, w.Close())
	if c := w.Counts(); c.PagesChanged != 1 {
		t.Errorf("changed pages %d", c.PagesChanged)
	}
	got := rows(t, path, "SELECT url || ' ' || run || ' ' || item || ' ' || added || ' ' || removed || ' ' || modified || ' ' || detail FROM gather_changes")
	// The modified row says which field changed, old and new.
	want := `http://x/a 3 cast 1 1 1 {"added":[["tt1","nm3"]],"modified":[["tt1","nm2"]],"removed":[["tt1","nm1"]],"diff":[{"key":["tt1","nm2"],"fields":[{"field":"order","old":2,"new":5}]}]}`
	if len(got) != 1 || got[0] != want {
		t.Errorf("gather_changes:\n got %v\nwant %s", got, want)
	}
	if ch := rows(t, path, "SELECT changed_at IS NOT NULL FROM gather_pages"); ch[0] != "1" {
		t.Error("changed_at not set")
	}
}

// A re-fetch removes the rows its page stored before, by their keys, but
// not a row another page has taken over since (same key, other _url).
func TestWriter_RefetchLeavesOtherPagesRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s := open(t, path, castTable)
	ctx := context.Background()
	w := writer(t, s, 1)
	must(t, w.Put(ctx, okPage("http://x/a", row("tt1", "nm1", 1), row("tt1", "nm2", 2))))
	must(t, w.Put(ctx, okPage("http://x/b", row("tt1", "nm2", 7)))) // b takes over nm2
	must(t, w.Close())
	w = writer(t, s, 2)
	must(t, w.Put(ctx, okPage("http://x/a", row("tt1", "nm3", 1)))) // a now lists only nm3
	must(t, w.Close())
	got := strings.Join(rows(t, path, `SELECT person_id || ' ' || _url || ' ' || "order" FROM "cast" ORDER BY 1`), "; ")
	if want := "nm2 http://x/b 7; nm3 http://x/a 1"; got != want {
		t.Errorf("rows:\n got %s\nwant %s", got, want)
	}
}

// A page that stored no rows records no keys; re-fetching it replaces
// nothing and scans nothing, and when it later has rows they are stored.
func TestWriter_PageWithoutRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s := open(t, path, castTable)
	ctx := context.Background()
	w := writer(t, s, 1)
	must(t, w.Put(ctx, okPage("http://x/empty")))
	must(t, w.Put(ctx, okPage("http://x/a", row("tt1", "nm1", 1))))
	must(t, w.Close())
	w = writer(t, s, 2)
	must(t, w.Put(ctx, okPage("http://x/empty", row("tt9", "nm9", 1))))
	must(t, w.Close())
	got := strings.Join(rows(t, path, `SELECT person_id || ' ' || _url FROM "cast" ORDER BY 1`), "; ")
	if want := "nm1 http://x/a; nm9 http://x/empty"; got != want {
		t.Errorf("rows:\n got %s\nwant %s", got, want)
	}
	if ch := rows(t, path, "SELECT item || ' ' || added FROM gather_changes"); len(ch) != 1 || ch[0] != "cast 1" {
		t.Errorf("changes %v", ch)
	}
}

// A database whose gather_pages is keyed by URL alone (before each job had
// its own frontier) is rebuilt keyed by (job, url) on open, every record
// kept, and gather_failures gains the job.
func TestOpen_PagesPerJobMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", path)
	must(t, err)
	_, err = db.Exec(`
CREATE TABLE gather_runs (id INTEGER PRIMARY KEY, job TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL,
  pages_ok INTEGER NOT NULL DEFAULT 0, pages_failed INTEGER NOT NULL DEFAULT 0, pages_skipped INTEGER NOT NULL DEFAULT 0,
  items INTEGER NOT NULL DEFAULT 0, pages_changed INTEGER NOT NULL DEFAULT 0, error TEXT);
CREATE TABLE gather_pages (url TEXT PRIMARY KEY, status TEXT NOT NULL, http_status INTEGER, attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT, fetched_at TEXT, run INTEGER, bytes INTEGER, content_hash TEXT, changed_at TEXT, job TEXT,
  depth INTEGER NOT NULL DEFAULT 0, warnings TEXT, stored_at TEXT, row_keys BLOB);
CREATE INDEX gather_pages_unfinished ON gather_pages (job) WHERE depth > 0 AND status IN ('pending', 'failed');
CREATE VIEW gather_failures AS SELECT url, http_status, attempts, error, fetched_at, run FROM gather_pages WHERE status = 'failed';
INSERT INTO gather_pages (url, status, http_status, attempts, error, run, job, depth) VALUES
  ('http://x/a', 'ok', 200, 1, NULL, 1, 'a', 0),
  ('http://x/b', 'failed', 404, 1, 'HTTP 404', 1, 'a', 1),
  ('http://x/c', 'pending', NULL, 0, NULL, 1, NULL, 1);`)
	must(t, err)
	db.Close()

	s := open(t, path, castTable)
	s.Close()
	got := strings.Join(rows(t, path, `SELECT job || ' ' || url || ' ' || status || ' ' || fail_runs || ' ' || items_hash || '.' FROM gather_pages ORDER BY url`), "; ")
	if want := "a http://x/a ok 0 .; a http://x/b failed 0 .;  http://x/c pending 0 ."; got != want {
		t.Errorf("pages after the rebuild:\n got %s\nwant %s", got, want)
	}
	if pk := strings.Join(rows(t, path, "SELECT name FROM pragma_table_info('gather_pages') WHERE pk > 0 ORDER BY pk"), ","); pk != "job,url" {
		t.Errorf("gather_pages key: %s", pk)
	}
	if f := rows(t, path, "SELECT job || ' ' || url FROM gather_failures"); len(f) != 1 || f[0] != "a http://x/b" {
		t.Errorf("gather_failures: %v", f)
	}
	if idx := rows(t, path, "SELECT name FROM sqlite_master WHERE name = 'gather_pages_unfinished'"); len(idx) != 1 {
		t.Error("the frontier's index is gone")
	}
	// A second open leaves it as it is.
	s = open(t, path, castTable)
	s.Close()
}

// A run whose process died (or could not record its end: a full disk) is
// marked interrupted by the next, with the counts of the pages it did
// commit rather than zeros.
func TestMarkAbandonedRuns_KeepsCommittedCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s := open(t, path, castTable)
	defer s.Close()
	ctx := context.Background()
	id, err := s.StartRun(ctx, "test", time.Now())
	must(t, err)
	w := writer(t, s, id)
	must(t, w.Put(ctx, okPage("http://x/a", row("tt1", "nm1", 1))))
	must(t, w.Put(ctx, okPage("http://x/b", row("tt2", "nm1", 1))))
	must(t, w.Put(ctx, storage.Page{URL: "http://x/c", Status: storage.PageFailed, Error: "HTTP 500"}))
	must(t, w.Close()) // committed; the run's end never recorded
	n, err := s.MarkAbandonedRuns(ctx, "test")
	must(t, err)
	r, err := s.Run(ctx, id)
	must(t, err)
	if n != 1 || r.Status != storage.RunInterrupted || r.PagesOK != 2 || r.PagesFailed != 1 {
		t.Errorf("marked %d: %+v", n, r)
	}
}

// Processes that open an older database at the same moment each add its
// missing columns: the one that finds a column added meanwhile goes on.
func TestOpen_ConcurrentMigrations(t *testing.T) {
	for round := range 5 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("old%d.db", round))
		db, err := sql.Open("sqlite3", path)
		must(t, err)
		_, err = db.Exec(`
CREATE TABLE gather_runs (id INTEGER PRIMARY KEY, job TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL,
  pages_ok INTEGER NOT NULL DEFAULT 0, pages_failed INTEGER NOT NULL DEFAULT 0, pages_skipped INTEGER NOT NULL DEFAULT 0,
  items INTEGER NOT NULL DEFAULT 0, pages_changed INTEGER NOT NULL DEFAULT 0, error TEXT);`)
		must(t, err)
		db.Close()
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := storage.Open(context.Background(), path, []storage.Table{castTable})
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if cols := rows(t, path, "SELECT name FROM pragma_table_info('gather_runs') WHERE name IN ('warnings', 'browser_pages', 'challenges')"); len(cols) != 3 {
			t.Fatalf("round %d: gather_runs gained %v", round, cols)
		}
	}
}

// A page keyed by _url alone records its modified row with an empty key
// ([], not null) and the fields that changed; long values are cut, and
// only the first rows of a page are detailed.
func TestWriter_ChangeDiffBounded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "d.db")
	tables := []storage.Table{{Name: "page", Columns: []storage.Column{{Name: "title", Type: "TEXT"}, {Name: "body", Type: "TEXT"}, {Name: "n", Type: "INTEGER"}}, Key: []string{"_url"}}}
	s, err := storage.Open(ctx, path, tables)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	put := func(run int64, vals ...any) {
		w, err := s.NewWriter(storage.WriterOptions{Run: run, Job: "j"})
		if err != nil {
			t.Fatal(err)
		}
		must(t, w.Put(ctx, storage.Page{URL: "http://x/p", Status: storage.PageOK, FetchedAt: time.Now(),
			Items: []storage.ItemRows{{Table: "page", Rows: []storage.Row{{Values: vals}}}}}))
		must(t, w.Close())
	}
	put(1, "Old title", strings.Repeat("a", 500), int64(1))
	put(2, "New title", strings.Repeat("b", 500), int64(1))
	got := rows(t, path, "SELECT detail FROM gather_changes")
	if len(got) != 1 {
		t.Fatalf("changes %v", got)
	}
	d, ok := storage.ParseChangeDetail(got[0])
	if !ok || len(d.Modified) != 1 || len(d.Modified[0]) != 0 || len(d.Diff) != 1 {
		t.Fatalf("detail %s", got[0])
	}
	if !strings.HasPrefix(got[0], `{"added":[],"modified":[[]],`) {
		t.Errorf("a _url-keyed row's key is not []: %s", got[0])
	}
	f := d.Diff[0].Fields
	if len(f) != 2 || f[0].Field != "title" || f[0].Old != "Old title" || f[0].New != "New title" || f[1].Field != "body" || !f[1].Cut ||
		len([]rune(f[1].Old.(string))) != 201 {
		t.Errorf("fields %+v", f)
	}
}
