//go:build unix

package crawler_test

import (
	"context"
	"fmt"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/testingutil"
	"github.com/gather-crawler/gather/storage"
)

// BenchmarkReextractSideBySide measures, on the same 10,000 demo pages of
// one layout and in the same run, three ways to get their rows: a fresh
// crawl at latency 0 without the archive, the same crawl with it, and a
// re-extraction of the archived pages (one worker per core). Each
// iteration runs the three one after the other, so that drift in the
// machine's load hits them alike. The demo site keeps its rendered pages
// (demo.Options.Cache) and is warmed first, so the crawls are not timed
// rendering pages; it runs in this process, and its serving is part of a
// crawl's CPU as a server's would be part of the machine's.
//
// It reports each one's pages/s and process CPU per page, the archive's
// cost (1 - with/without), re-extraction over the crawl without the
// archive, and the archive's bytes per page.
//
//	go test -run XXX -bench ReextractSideBySide -benchtime 3x -count 3 ./crawler/
func BenchmarkReextractSideBySide(b *testing.B) {
	const pages = 10000
	for _, layout := range []string{"nextdata", "classic"} {
		b.Run(layout, func(b *testing.B) {
			site := startSite(b, "", demo.Options{Cache: true})
			url, items := demo.PageURL(site.URL, "{id}"), testingutil.ShippedItems(b)
			if layout == "classic" {
				url, items = demo.ClassicURL(site.URL, "{id}"), testingutil.ClassicItems(b)
			}
			ids := testingutil.WriteIDs(b, 1, pages)
			job := func(archive bool) string {
				return fmt.Sprintf(`archive: {enabled: %v}
crawl:
  name: bench
  parallelism: 64
  start:
    url_template: %q
    ids_file: %s
%s`, archive, url, ids, items)
			}
			open := func(b *testing.B, archive bool) (*storage.Store, func() *crawler.Crawler) {
				cfg := testConfigWithItems(b, job(archive), "")
				store, err := storage.Open(context.Background(), cfg.Database, crawler.Tables(cfg))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { store.Close() })
				return store, func() *crawler.Crawler {
					c, err := crawler.New(cfg, store, crawler.Options{})
					if err != nil {
						b.Fatal(err)
					}
					return c
				}
			}
			// The archive to re-extract, written by a crawl that also warms
			// the site's cache.
			_, newReextract := open(b, true)
			sum, err := newReextract().Run(context.Background())
			if err != nil || sum.Counts.PagesOK != pages {
				b.Fatalf("%v: %v", sum, err)
			}
			archBytes := float64(sum.ArchiveBytes) / float64(sum.Archived)

			secs, cpu := map[string]float64{}, map[string]float64{}
			measure := func(name string, f func() crawler.Summary) {
				cpu0, t0 := cpuNow(), time.Now()
				var sum crawler.Summary
				// Labelled, and so are the goroutines it starts: a CPU
				// profile of the benchmark tells the three apart
				// (go tool pprof -tagfocus phase=reextract).
				pprof.Do(context.Background(), pprof.Labels("phase", name), func(context.Context) { sum = f() })
				secs[name] += time.Since(t0).Seconds()
				cpu[name] += (cpuNow() - cpu0).Seconds()
				if sum.Err != nil || sum.Counts.PagesOK != pages {
					b.Fatalf("%s: %+v", name, sum)
				}
			}
			crawl := func(archive bool) func() crawler.Summary {
				return func() crawler.Summary {
					_, c := open(b, archive)
					sum, err := c().Run(context.Background())
					if err != nil {
						sum.Err = err
					}
					return sum
				}
			}
			b.ResetTimer()
			for range b.N {
				measure("crawl", crawl(false))
				measure("crawl+archive", crawl(true))
				measure("reextract", func() crawler.Summary {
					sum, err := newReextract().Reextract(context.Background(), crawler.ReextractOptions{})
					if err != nil {
						sum.Err = err
					}
					return sum
				})
			}
			n := float64(pages * b.N)
			rate := func(name string) float64 { return n / secs[name] }
			for _, name := range []string{"crawl", "crawl+archive", "reextract"} {
				b.ReportMetric(rate(name), name+"-pages/s")
				b.ReportMetric(1000*cpu[name]/n, name+"-cpu-ms/page")
			}
			b.ReportMetric(100*(1-rate("crawl+archive")/rate("crawl")), "archive-cost-%")
			b.ReportMetric(rate("reextract")/rate("crawl"), "reextract/crawl")
			b.ReportMetric(archBytes, "archive-B/page")
		})
	}
}

// cpuNow is the process's CPU time so far: on a machine shared with other
// work, CPU per page measures the code where wall time also measures the
// load.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
