package output_test

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/gather-crawler/gather/output"
	"github.com/gather-crawler/gather/storage"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// typesDB makes a database holding every SQLite storage class, NULLs, and
// text that needs quoting in each format.
func typesDB(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "types.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(`CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n);
		INSERT INTO t VALUES (1, 1.5, 'plain', x'00ff10', NULL);
		INSERT INTO t VALUES (-9007199254740993, 1e-7, 'comma, "quote"' || char(10) || 'second line', x'', 42);
		INSERT INTO t VALUES (NULL, NULL, NULL, NULL, 'text in an untyped column');
		INSERT INTO t VALUES (0, -0.25, 'ünïcödé ✓ and a very long value that goes on and on past the sixty character cap', NULL, 2.5);`)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWrite_Golden(t *testing.T) {
	path := typesDB(t)
	r, err := storage.OpenReader(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, format := range []string{output.Table, output.CSV, output.JSON, output.JSONL} {
		t.Run(format, func(t *testing.T) {
			rows, err := r.Query(context.Background(), "SELECT i, r, s, b, n FROM t ORDER BY rowid")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var buf bytes.Buffer
			n, err := output.Write(&buf, format, rows)
			if err != nil || n != 4 {
				t.Fatalf("n=%d err=%v", n, err)
			}
			golden := filepath.Join("testdata", "types."+format)
			if *update {
				os.WriteFile(golden, buf.Bytes(), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s output differs from %s:\n%s", format, golden, buf.String())
			}
		})
	}
}

func TestWrite_EmptyResult(t *testing.T) {
	r, err := storage.OpenReader(context.Background(), typesDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := map[string]string{output.JSON: "[]\n", output.JSONL: "", output.CSV: "i,s\r\n", output.Table: "i  s\n-  -\n"}
	for format, w := range want {
		rows, err := r.Query(context.Background(), "SELECT i, s FROM t WHERE 0")
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := output.Write(&buf, format, rows); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if buf.String() != w {
			t.Errorf("%s: got %q want %q", format, buf.String(), w)
		}
	}
	if err := output.Check("xml"); err == nil {
		t.Error("xml accepted")
	}
}

const millionRows = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000000)
	SELECT x AS id, 'row number ' || x AS name, x * 0.5 AS half, NULL AS empty FROM c`

// streamMillion writes a 1,000,000-row result and returns the peak heap in
// use while it did, sampled every millisecond.
func streamMillion(tb testing.TB, format string) (int64, uint64) {
	r, err := storage.OpenReader(context.Background(), typesDB(tb))
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak.Load() {
					peak.Store(ms.HeapAlloc)
				}
			}
		}
	}()
	rows, err := r.Query(context.Background(), millionRows)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := output.Write(io.Discard, format, rows)
	rows.Close()
	close(stop)
	wg.Wait()
	if err != nil {
		tb.Fatal(err)
	}
	p := peak.Load()
	if p < base.HeapAlloc {
		p = base.HeapAlloc
	}
	return n, p - base.HeapAlloc
}

// A million-row result streams in bounded memory: the heap grows by a few
// megabytes, not by the result's hundreds.
func TestWrite_MillionRowsBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams a million rows")
	}
	for _, format := range []string{output.Table, output.JSONL} {
		n, grew := streamMillion(t, format)
		if n != 1_000_000 {
			t.Fatalf("%s: %d rows", format, n)
		}
		t.Logf("%s: 1,000,000 rows, heap grew by at most %.1f MB", format, float64(grew)/(1<<20))
		if grew > 32<<20 {
			t.Errorf("%s: heap grew by %d MB while streaming; the result is being held", format, grew>>20)
		}
	}
}

func BenchmarkWrite_MillionRows(b *testing.B) {
	for _, format := range []string{output.CSV, output.JSON, output.Table} {
		b.Run(format, func(b *testing.B) {
			var peak uint64
			for i := 0; i < b.N; i++ {
				_, grew := streamMillion(b, format)
				peak = max(peak, grew)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(1e6*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
