package storage_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gather-crawler/gather/storage"
)

// walSize is the size of path's -wal file, 0 when there is none.
func walSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path + "-wal")
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// putBatches writes n batches of pages, each committed by a Flush, and
// returns the most a single batch grew the WAL by.
func putBatches(t *testing.T, w *storage.Writer, path string, n, pagesPer, rowsPer int) int64 {
	t.Helper()
	ctx := context.Background()
	var maxBatch int64
	prev := walSize(t, path)
	for b := 0; b < n; b++ {
		for p := 0; p < pagesPer; p++ {
			movie := fmt.Sprintf("tt%07d", b*pagesPer+p)
			rs := make([]storage.Row, rowsPer)
			for i := range rs {
				rs[i] = row(movie, fmt.Sprintf("nm%07d", i), i+1)
			}
			if err := w.Put(ctx, okPage("http://x/"+movie, rs...)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		size := walSize(t, path)
		if size > prev {
			maxBatch = max(maxBatch, size-prev)
		}
		prev = size
	}
	return maxBatch
}

// shortReads runs read transactions of a few milliseconds each, back to
// back, until stop is closed: the frontier lookups of a crawl, or a
// `gather query` that counts rows. It returns how many it ran.
func shortReads(t *testing.T, path string, stop <-chan struct{}) func() int64 {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			tx, err := db.Begin()
			if err != nil {
				t.Error(err)
				return
			}
			var c int
			if err := tx.QueryRow(`SELECT count(*) FROM "cast"`).Scan(&c); err != nil {
				t.Error(err)
			}
			time.Sleep(2 * time.Millisecond) // the snapshot is held meanwhile
			tx.Rollback()
			n.Add(1)
		}
	}()
	return func() int64 {
		wg.Wait()
		db.Close()
		return n.Load()
	}
}

// frontierReads runs the store's own lookups, as a crawl does between the
// writer's batches, until stop is closed. They must hold no snapshot once
// they return, or the writer could not empty the WAL.
func frontierReads(t *testing.T, s *storage.Store, stop <-chan struct{}) func() int64 {
	t.Helper()
	var n atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx := context.Background()
		urls := []string{"http://x/tt0000001", "http://x/tt0000002", "http://x/none"}
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.PageStates(ctx, "test", urls); err != nil {
				t.Error(err)
				return
			}
			// Two of the five followed links: a lookup that stops early
			// must end its snapshot all the same.
			if links, _, err := s.UnfinishedDiscovered(ctx, "test", 0, 2, storage.Refetch{}); err != nil || len(links) != 2 {
				t.Errorf("the frontier lookup found %d links (%v)", len(links), err)
				return
			}
			if _, _, err := s.FrontierCounts(ctx, "test", 1); err != nil {
				t.Error(err)
				return
			}
			n.Add(1)
			time.Sleep(time.Millisecond)
		}
	}()
	return func() int64 {
		wg.Wait()
		return n.Load()
	}
}

// The writer keeps the WAL under its limit, give or take the batch that
// crossed it, whether or not someone reads meanwhile: a passive
// checkpoint alone never lets the log start over while the writer keeps
// appending. The store's own lookups never make it wait for them.
func TestWriter_WALStaysBounded(t *testing.T) {
	const limit = 1 << 20
	for _, reader := range []string{"none", "short transactions", "frontier lookups"} {
		t.Run(reader, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "wal.db")
			s := open(t, path, castTable)
			w, err := s.NewWriter(storage.WriterOptions{Run: 1, Job: "test", BatchDelay: time.Millisecond, WALLimit: limit})
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			var peak atomic.Int64
			var sampler sync.WaitGroup
			sampler.Add(1)
			go func() {
				defer sampler.Done()
				for {
					if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > peak.Load() {
						peak.Store(st.Size())
					}
					select {
					case <-stop:
						return
					case <-time.After(200 * time.Microsecond):
					}
				}
			}()
			reads := func() int64 { return 0 }
			switch reader {
			case "short transactions":
				reads = shortReads(t, path, stop)
			case "frontier lookups":
				// Followed links in the frontier, for UnfinishedDiscovered.
				for i := range 5 {
					if err := w.Pending(context.Background(), fmt.Sprintf("http://x/link%d", i), 1); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
				reads = frontierReads(t, s, stop)
			}
			// About 12 MB of WAL: twelve times the limit.
			maxBatch := putBatches(t, w, path, 300, 8, 40)
			close(stop)
			sampler.Wait()
			n := reads()
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			t.Logf("peak WAL %d bytes, limit %d, largest batch %d, %d reads, %+v", peak.Load(), limit, maxBatch, n, w.WALStats())
			if reader != "none" && n == 0 {
				t.Fatal("the reader read nothing")
			}
			if peak.Load() > limit+maxBatch {
				t.Errorf("the WAL reached %d bytes: more than the limit %d and a batch (%d)", peak.Load(), limit, maxBatch)
			}
			if st := w.WALStats(); st.Truncated == 0 || (reader != "short transactions" && st.Busy > 0) {
				t.Errorf("checkpoints: %+v", st)
			}
			var count int
			if res, err := s.IntegrityCheck(context.Background()); err != nil || res != "ok" {
				t.Fatalf("integrity_check: %q %v", res, err)
			}
			for _, r := range rows(t, path, `SELECT count(*) FROM "cast"`) {
				fmt.Sscan(r, &count)
			}
			if count != 300*8*40 {
				t.Errorf("%d rows stored, want %d", count, 300*8*40)
			}
		})
	}
}

// After a run the WAL is empty: it holds nothing the database file lacks,
// and the disk it took is given back, even while another process keeps
// the database open (then SQLite's own clean-up at the last close does not
// happen).
func TestWriter_WALTruncatedOnClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wal.db")
	s, err := storage.Open(ctx, path, []storage.Table{castTable})
	if err != nil {
		t.Fatal(err)
	}
	// Another process's idle connection, as `gather query` between
	// statements.
	other, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Ping(); err != nil {
		t.Fatal(err)
	}
	w, err := s.NewWriter(storage.WriterOptions{Run: 1, Job: "test", BatchDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	putBatches(t, w, path, 50, 8, 40)
	if n := walSize(t, path); n < 1<<20 {
		t.Fatalf("the test wrote only %d bytes of WAL", n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := walSize(t, path); n != 0 {
		t.Errorf("after the writer closed the WAL holds %d bytes", n)
	}
	// What a run writes after its writer closes (its record, the lease)
	// is truncated when the store closes.
	id, err := s.StartRun(ctx, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, id, storage.RunFinished, storage.RunCounts{}, time.Now(), ""); err != nil {
		t.Fatal(err)
	}
	if walSize(t, path) == 0 {
		t.Fatal("the run's record did not reach the WAL")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := walSize(t, path); n != 0 {
		t.Errorf("after the store closed the WAL holds %d bytes", n)
	}
	var c int
	if err := other.QueryRow(`SELECT count(*) FROM "cast"`).Scan(&c); err != nil || c != 50*8*40 {
		t.Errorf("the other connection reads %d rows (%v)", c, err)
	}
}
