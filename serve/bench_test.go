package serve_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gather-crawler/gather/serve"
	"github.com/gather-crawler/gather/storage"
)

// millionDB is a gather database (schema made by storage.Open) whose item
// table holds n rows, inserted in one statement.
func millionDB(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "million.db")
	ctx := context.Background()
	st, err := storage.Open(ctx, path, []storage.Table{{Name: "big", Key: []string{"k"}, Columns: []storage.Column{
		{Name: "k", Type: "TEXT"}, {Name: "grp", Type: "INTEGER"}, {Name: "note", Type: "TEXT"}, {Name: "score", Type: "REAL"}}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		fmt.Sprintf(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d)
			INSERT INTO big SELECT printf('k%%08d', x), x %% 97, CASE WHEN x %% 10 = 0 THEN NULL ELSE 'note ' || (x %% 1000) END,
			(x * 7919 %% 10007) / 100.0, 'http://127.0.0.1/item/' || x, 1, '2026-11-24T15:04:05.000Z' FROM c`, n),
		`INSERT INTO gather_runs (job, started_at, finished_at, status, pages_ok, items) VALUES ('bench', '2026-11-24T15:00:00.000Z', '2026-11-24T16:00:00.000Z', 'finished', 1, 1000000)`,
		`INSERT INTO gather_pages (job, url, status, fetched_at, run) VALUES ('bench', 'http://127.0.0.1/a', 'ok', '2026-11-24T15:04:05.000Z', 1),
			('bench', 'http://127.0.0.1/b', 'failed', '2026-11-24T15:04:06.000Z', 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	return path
}

// Every page over a table of 1,000,000 rows (the issue asks for each in
// under 200 ms on the project's 2-core machine), and an export of all of
// it, whose peak heap is reported: it must not grow with the rows.
func BenchmarkPages_MillionRows(b *testing.B) {
	path := millionDB(b, 1_000_000)
	srv, _ := startServer(b, path, serve.Options{})
	deep := url.QueryEscape(`["k00900000"]`)
	for _, p := range []string{
		"/", "/runs/1", "/failures", "/data",
		"/data/big",
		"/data/big?after=" + deep,
		"/data/big?sort=grp&desc=1",
		"/data/big?sort=note",
		"/data/big?f.grp=42",
		"/data/big?f.note=" + url.QueryEscape("~note 99"),
		"/data/big?facet=grp",
		"/data/big?f.grp=42&facet=note",
		"/sql?q=" + url.QueryEscape("SELECT * FROM big WHERE k > 'k00500000' LIMIT 1000"),
	} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				resp, err := http.Get(srv.URL + p)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("%d", resp.StatusCode)
				}
				// A facet over filtered rows must finish in its time.
				if strings.Contains(p, "f.grp=42&facet") && strings.Contains(string(body), "stopped after") {
					b.Fatalf("the facet over filtered rows ran out of time")
				}
			}
		})
	}
	for _, f := range []string{"csv", "json"} {
		b.Run("/export/big?format="+f, func(b *testing.B) {
			for b.Loop() {
				peak := heapWhile(b, func() int64 {
					resp, err := http.Get(srv.URL + "/export/big?format=" + f)
					if err != nil {
						b.Fatal(err)
					}
					defer resp.Body.Close()
					n, _ := io.Copy(io.Discard, resp.Body)
					return n
				})
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			}
		})
	}
}

// heapWhile runs f and returns the peak live heap sampled while it ran.
func heapWhile(b *testing.B, f func() int64) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	n := f()
	close(done)
	wg.Wait()
	b.ReportMetric(float64(n)/(1<<20), "MB-exported")
	return peak.Load()
}
