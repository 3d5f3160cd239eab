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

	"github.com/gather-crawler/gather/demo"
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

// demoTables are the tables of the shipped config.yaml.
var demoTables = []storage.Table{
	{Name: "movies", Columns: []storage.Column{{Name: "movie_id", Type: "TEXT"}, {Name: "title", Type: "TEXT"}, {Name: "year", Type: "INTEGER"}},
		Key: []string{"movie_id"}},
	{Name: "cast", Columns: []storage.Column{{Name: "movie_id", Type: "TEXT"}, {Name: "person_id", Type: "TEXT"}, {Name: "name", Type: "TEXT"},
		{Name: "character", Type: "TEXT"}, {Name: "characters", Type: "TEXT"}}, Key: []string{"movie_id", "person_id"}, Indexed: true},
	{Name: "crew", Columns: []storage.Column{{Name: "movie_id", Type: "TEXT"}, {Name: "section", Type: "TEXT"}, {Name: "person_id", Type: "TEXT"},
		{Name: "name", Type: "TEXT"}, {Name: "credit", Type: "TEXT"}}, Key: []string{"movie_id", "section", "person_id"}, Indexed: true},
}

// demoPage is what a crawl of the shipped config hands the writer for one
// demo movie.
func demoPage(base string, i int) storage.Page {
	m := demo.MovieFor(demo.ID(i), 0)
	movie, cast, crew := demo.Rows(m)
	items := []storage.ItemRows{{Table: "movies", Rows: []storage.Row{{Values: movie}}}, {Table: "cast"}, {Table: "crew"}}
	for j, v := range cast {
		items[1].Rows = append(items[1].Rows, storage.Row{Values: v, Index: j + 1})
	}
	for j, v := range crew {
		items[2].Rows = append(items[2].Rows, storage.Row{Values: v, Index: j + 1})
	}
	return storage.Page{URL: demo.PageURL(base, m.ID), Status: storage.PageOK, HTTPStatus: 200, Attempts: 1, FetchedAt: time.Now(), Items: items}
}

// BenchmarkWriter_DemoPages measures the writer alone on the rows a crawl
// of the demo site produces, page by page, each page's pending mark first.
func BenchmarkWriter_DemoPages(b *testing.B) {
	// The pages are made up front: the writer, not their making, is timed.
	const distinct = 400
	base := make([]storage.Page, distinct)
	for i := range base {
		base[i] = demoPage("http://127.0.0.1:1", i+1)
	}
	pages := make([]storage.Page, b.N)
	rows := 0
	for i := range pages {
		// Every round stores new pages: the same rows under other movie
		// ids, which ascend as the demo's do.
		p := base[i%distinct]
		id := demo.ID(i + 1)
		p.URL = demo.PageURL("http://127.0.0.1:1", id)
		p.Items = append([]storage.ItemRows(nil), p.Items...)
		for j, it := range p.Items {
			rs := make([]storage.Row, len(it.Rows))
			for k, r := range it.Rows {
				v := append([]any(nil), r.Values...)
				v[0] = id
				rs[k] = storage.Row{Values: v, Index: r.Index}
			}
			p.Items[j].Rows = rs
			rows += len(rs)
		}
		pages[i] = p
	}
	path := filepath.Join(scratchDir(b), "w.db")
	s, err := storage.Open(context.Background(), path, demoTables)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w, err := s.NewWriter(storage.WriterOptions{Run: 1, Job: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for _, p := range pages {
		if err := w.Pending(ctx, p.URL, 0); err != nil {
			b.Fatal(err)
		}
		if err := w.Put(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pages/s")
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
}
