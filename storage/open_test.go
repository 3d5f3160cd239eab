package storage_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/storage"
)

// A lock another process holds for a moment, which SQLite may report at
// once rather than through the busy timeout, does not fail Open.
func TestOpen_OutlastsAnotherConnectionsLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	s, err := storage.Open(ctx, path, []storage.Table{benchTable})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	holder, err := sql.Open("sqlite3", "file:"+path+"?_locking_mode=EXCLUSIVE")
	if err != nil {
		t.Fatal(err)
	}
	holder.SetMaxOpenConns(1)
	if _, err := holder.Exec("BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		defer close(released)
		time.Sleep(300 * time.Millisecond)
		holder.Exec("COMMIT")
		holder.Close()
	}()
	start := time.Now()
	s, err = storage.Open(ctx, path, []storage.Table{benchTable})
	<-released
	if err != nil {
		t.Fatalf("open while another connection held the file for 300ms: %v", err)
	}
	defer s.Close()
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("opened after %s, while the file was held", waited)
	}
}

// No field can take the name of a column every item table has: config
// reserves exactly these names.
func TestColumnsAreReservedByConfig(t *testing.T) {
	for _, c := range []string{storage.ColURL, storage.ColRun, storage.ColFetchedAt, storage.ColIndex} {
		if !config.Reserved(c) {
			t.Errorf("column %s is not reserved by config: a field could take its name", c)
		}
	}
}
