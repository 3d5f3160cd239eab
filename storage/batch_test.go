package storage_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/gather-crawler/gather/storage"
)

// A writer with nothing to do commits at once rather than holding the
// write lock for its whole batch delay: another process can write to the
// file between the pages of a slow crawl.
func TestWriter_IdleWriterLetsOthersWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	s := open(t, path, castTable)
	w, err := s.NewWriter(storage.WriterOptions{Run: 1, Job: "test", BatchDelay: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := w.Put(ctx, okPage("http://x/1", row("tt1", "nm1", 1))); err != nil {
		t.Fatal(err)
	}
	// The page commits once the writer has idled, long before the delay.
	deadline := time.Now().Add(2 * time.Second)
	for len(rows(t, path, `SELECT person_id FROM "cast"`)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the page was not committed 2s after the writer ran out of work")
		}
		time.Sleep(5 * time.Millisecond)
	}
	other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=2000&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	start := time.Now()
	if _, err := other.Exec("CREATE TABLE notes (x)"); err != nil {
		t.Fatalf("another connection could not write while the writer idled: %v", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Errorf("another connection waited %s for the write lock", waited)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
