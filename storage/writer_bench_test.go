package storage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gather-crawler/gather/storage"
)

var benchTable = storage.Table{
	Name: "cast",
	Columns: []storage.Column{{Name: "movie_id", Type: "TEXT"}, {Name: "person_id", Type: "TEXT"}, {Name: "name", Type: "TEXT"},
		{Name: "character", Type: "TEXT"}, {Name: "characters", Type: "TEXT"}},
	Key:     []string{"movie_id", "person_id"},
	Indexed: true,
}

// BenchmarkWriter measures the single writer's sustained insert rate, in
// pages of 200 rows like a credits page, while another connection reads
// the same file the whole time.
func BenchmarkWriter(b *testing.B) {
	for _, reading := range []bool{false, true} {
		b.Run(fmt.Sprintf("reader=%v", reading), func(b *testing.B) {
			path := filepath.Join(scratchDir(b), "w.db")
			s, err := storage.Open(context.Background(), path, []storage.Table{benchTable})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			const rowsPerPage = 200
			pages := make([]storage.Page, 64)
			for i := range pages {
				rows := make([]storage.Row, rowsPerPage)
				for j := range rows {
					rows[j] = storage.Row{Values: []any{"", fmt.Sprintf("nm%07d", j), "Some Actor Name", "Captain Smith", `["Captain Smith"]`}, Index: j + 1}
				}
				pages[i] = storage.Page{Status: storage.PageOK, HTTPStatus: 200, Attempts: 1, FetchedAt: time.Now(), Items: []storage.ItemRows{{Table: "cast", Rows: rows}}}
			}
			var reads atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if reading {
				r, err := storage.OpenReader(context.Background(), path)
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						rows, err := r.Query(context.Background(), `SELECT count(*), max(person_id) FROM "cast"`)
						if err != nil {
							b.Error(err)
							return
						}
						for rows.Next() {
						}
						rows.Close()
						reads.Add(1)
					}
				}()
			}
			w, err := s.NewWriter(storage.WriterOptions{Run: 1, Job: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				p := pages[i%len(pages)]
				p.URL = fmt.Sprintf("http://x/title/tt%07d/fullcredits", i)
				movie := fmt.Sprintf("tt%07d", i)
				rows := make([]storage.Row, len(p.Items[0].Rows))
				for j, r := range p.Items[0].Rows {
					v := append([]any(nil), r.Values...)
					v[0] = movie
					rows[j] = storage.Row{Values: v, Index: r.Index}
				}
				p.Items = []storage.ItemRows{{Table: "cast", Rows: rows}}
				if err := w.Put(context.Background(), p); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			close(stop)
			wg.Wait()
			b.ReportMetric(float64(b.N*rowsPerPage)/elapsed.Seconds(), "rows/s")
			if reading {
				b.ReportMetric(float64(reads.Load())/elapsed.Seconds(), "reads/s")
			}
		})
	}
}

// scratchDir is a temporary directory on tmpfs when there is one, so that
// the benchmark measures the writer rather than a shared disk's stalls.
func scratchDir(tb testing.TB) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "gather-bench-"); err == nil {
			tb.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return tb.TempDir()
}
