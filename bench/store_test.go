package bench_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gather-crawler/gather/bench"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/storage"
)

// BenchmarkStore compares gather's writer with the plain program's way of
// storing (a transaction per page, INSERT OR REPLACE row by row) on the
// same rows: those of 1,000 demo pages, handed over page by page as the
// crawls do, into a fresh database each round.
func BenchmarkStore(b *testing.B) {
	const pages = 1000
	type page struct {
		url         string
		movie       []any
		cast, crew  [][]any
		gatherItems []storage.ItemRows
	}
	ps := make([]page, pages)
	rows := 0
	for i := range ps {
		m := demo.MovieFor(demo.ID(i+1), 0)
		movie, cast, crew := demo.Rows(m)
		p := page{url: demo.PageURL("http://127.0.0.1:1", m.ID), movie: movie, cast: cast, crew: crew}
		p.gatherItems = []storage.ItemRows{{Table: "movies", Rows: []storage.Row{{Values: movie}}}, {Table: "cast"}, {Table: "crew"}}
		for j, v := range cast {
			p.gatherItems[1].Rows = append(p.gatherItems[1].Rows, storage.Row{Values: v, Index: j + 1})
		}
		for j, v := range crew {
			p.gatherItems[2].Rows = append(p.gatherItems[2].Rows, storage.Row{Values: v, Index: j + 1})
		}
		ps[i] = p
		rows += 1 + len(cast) + len(crew)
	}
	dir := scratchDir(b)
	report := func(b *testing.B, elapsed time.Duration) {
		b.ReportMetric(float64(pages*b.N)/elapsed.Seconds(), "pages/s")
		b.ReportMetric(float64(rows*b.N)/elapsed.Seconds(), "rows/s")
	}
	b.Run(bench.ModePlain, func(b *testing.B) {
		b.ReportAllocs()
		var elapsed time.Duration
		for i := 0; i < b.N; i++ {
			db, err := bench.OpenPlain(filepath.Join(dir, "plain-"+time.Now().Format("150405.000000000")+".db"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := db.Exec(bench.PlainSchema); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			for _, p := range ps {
				if err := bench.WritePlain(db, p.url, p.movie, p.cast, p.crew); err != nil {
					b.Fatal(err)
				}
			}
			elapsed += time.Since(start)
			db.Close()
		}
		report(b, elapsed)
	})
	b.Run(bench.ModeGather, func(b *testing.B) {
		b.ReportAllocs()
		cfg, err := bench.ShippedConfig()
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		var elapsed time.Duration
		for i := 0; i < b.N; i++ {
			s, err := storage.Open(ctx, filepath.Join(dir, "gather-"+time.Now().Format("150405.000000000")+".db"), crawler.Tables(cfg))
			if err != nil {
				b.Fatal(err)
			}
			w, err := s.NewWriter(storage.WriterOptions{Run: 1, Job: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			for _, p := range ps {
				if err := w.Pending(ctx, p.url, 0); err != nil {
					b.Fatal(err)
				}
				page := storage.Page{URL: p.url, Status: storage.PageOK, HTTPStatus: 200, Attempts: 1, FetchedAt: start, Items: p.gatherItems}
				if err := w.Put(ctx, page); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
			s.Close()
		}
		report(b, elapsed)
	})
}
