package archive

import (
	"github.com/klauspost/compress/gzip"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/gather-crawler/gather/demo"
)

// cpuTime reports the process's CPU time per operation: on a machine
// shared with other work, wall time per operation measures the machine's
// load as much as the code.
func cpuTime(b *testing.B) func() {
	before := rusage()
	return func() {
		b.ReportMetric(float64((rusage()-before).Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

func rusage() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// demoExchanges fetches n of the demo site's movie pages (both layouts:
// classic HTML and the Next.js page with its JSON) from the demo served on
// 127.0.0.1, as real exchanges to archive.
func demoExchanges(b *testing.B, n int) (exs []*Exchange, bodyBytes int64) {
	b.Helper()
	srv := httptest.NewServer(demo.New(demo.Options{}))
	defer srv.Close()
	client := &http.Client{}
	for i := 0; i < n; i++ {
		id := demo.ID(i + 1)
		u := demo.PageURL(srv.URL, id)
		if i%2 == 1 {
			u = demo.ClassicURL(srv.URL, id)
		}
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("User-Agent", "gather/bench")
		ex := fetch(b, client, req)
		if ex.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", u, ex.StatusCode)
		}
		exs = append(exs, ex)
		bodyBytes += int64(len(ex.Body))
	}
	return exs, bodyBytes
}

// Write throughput and the archive's bytes per page on demo pages: one
// goroutine, then all cores (the compression runs in the callers).
func BenchmarkWriter_DemoPages(b *testing.B) {
	exs, bodies := demoExchanges(b, 200)
	avg := bodies / int64(len(exs))
	report := func(b *testing.B, w *Writer) {
		st := w.Stats()
		b.ReportMetric(float64(st.Bytes)/float64(st.Exchanges), "disk-B/page")
		b.ReportMetric(float64(avg), "body-B/page")
	}
	b.Run("serial", func(b *testing.B) {
		w := newTestWriter(b, Options{Dir: b.TempDir()})
		b.SetBytes(avg)
		defer cpuTime(b)()
		i := 0
		for b.Loop() {
			if _, err := w.Write(exs[i%len(exs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		report(b, w)
	})
	for _, o := range []struct {
		name string
		opts Options
	}{
		{"serial-gzip-5", Options{GzipLevel: gzip.DefaultCompression}},
		{"serial-gzip-huffman", Options{GzipLevel: gzip.HuffmanOnly}},
		{"serial-uncompressed", Options{Uncompressed: true}},
	} {
		b.Run(o.name, func(b *testing.B) {
			o.opts.Dir = b.TempDir()
			w := newTestWriter(b, o.opts)
			b.SetBytes(avg)
			defer cpuTime(b)()
			i := 0
			for b.Loop() {
				if _, err := w.Write(exs[i%len(exs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			report(b, w)
		})
	}
	b.Run("parallel", func(b *testing.B) {
		w := newTestWriter(b, Options{Dir: b.TempDir()})
		b.SetBytes(avg)
		defer cpuTime(b)()
		b.RunParallel(func(pb *testing.PB) {
			i := rand.Intn(len(exs))
			for pb.Next() {
				if _, err := w.Write(exs[i%len(exs)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
		report(b, w)
	})
	b.Run("sync-each-write", func(b *testing.B) {
		w := newTestWriter(b, Options{Dir: b.TempDir(), SyncEachWrite: true})
		b.SetBytes(avg)
		defer cpuTime(b)()
		i := 0
		for b.Loop() {
			if _, err := w.Write(exs[i%len(exs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		report(b, w)
	})
}

// Reading one response at its location (what re-extraction does per
// page), in random order over 2,000 archived demo pages.
func BenchmarkReader_ReadAt(b *testing.B) {
	exs, _ := demoExchanges(b, 200)
	w := newTestWriter(b, Options{Dir: b.TempDir(), MaxFileSize: 4 << 20})
	var locs []Location
	var bodies int64
	for i := 0; i < 2000; i++ {
		ex := exs[i%len(exs)]
		wr, err := w.Write(ex)
		if err != nil {
			b.Fatal(err)
		}
		locs = append(locs, wr.Response)
		bodies += int64(len(ex.Body))
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	r := NewReader(w.Dir())
	defer r.Close()
	b.SetBytes(bodies / int64(len(locs)))
	b.Run("serial", func(b *testing.B) {
		defer cpuTime(b)()
		rng := rand.New(rand.NewSource(1))
		for b.Loop() {
			if _, err := r.Read(locs[rng.Intn(len(locs))]); err != nil {
				b.Fatal(err)
			}
		}
	})
	// ReadResponse, what gather reextract calls: the same records without
	// the digests computed again (the CRC checked instead).
	b.Run("serial-response", func(b *testing.B) {
		defer cpuTime(b)()
		rng := rand.New(rand.NewSource(1))
		for b.Loop() {
			if _, err := r.ReadResponse(locs[rng.Intn(len(locs))]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		defer cpuTime(b)()
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewSource(rand.Int63()))
			for pb.Next() {
				if _, err := r.Read(locs[rng.Intn(len(locs))]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("scan", func(b *testing.B) {
		defer cpuTime(b)()
		for b.Loop() {
			n := 0
			for _, err := range Scan(w.Dir()) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != len(locs) {
				b.Fatalf("scan found %d", n)
			}
		}
		b.ReportMetric(float64(len(locs))*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	})
}
