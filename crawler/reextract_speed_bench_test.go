//go:build unix

package crawler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
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
			url, items := demo.PageURL(site.URL, "{id}"), gathertest.ShippedItems(b)
			if layout == "classic" {
				url, items = demo.ClassicURL(site.URL, "{id}"), gathertest.ClassicItems(b)
			}
			ids := gathertest.WriteIDs(b, 1, pages)
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

// BenchmarkArchivePythonDocs is the archive's cost on real pages nobody
// here wrote: the Python documentation (Debian's python3-doc, about 530
// pages, 1.7 MB the largest) served from 127.0.0.1 as a static server
// serves it, crawled by following links, without and with the archive
// (alternating, same run), then re-extracted from the archive.
//
//	go test -run XXX -bench ArchivePythonDocs -benchtime 3x ./crawler/
func BenchmarkArchivePythonDocs(b *testing.B) {
	if _, err := os.Stat(filepath.Join(pyDocs, "index.html")); err != nil {
		b.Skip("python3-doc is not installed (apt-get install python3-doc)")
	}
	srv := gathertest.ServeDir(b, pyDocs)
	job := func(archive bool) string {
		return fmt.Sprintf(`archive: {enabled: %v}
crawl:
  name: pydocs
  start: {urls: [%q]}
  max_depth: 50
  follow: [{css: "a[href]"}]
  parallelism: 16
  retries: 0
  extract_timeout: 2m
items:
  pages:
    fields:
      title: {css: h1}
  sections:
    each: "h2"
    fields:
      heading: {}
      anchor: {css: a.headerlink, attr: href, type: url}
`, archive, srv.URL+"/index.html")
	}
	secs, cpu := map[string]float64{}, map[string]float64{}
	var pages, archived, archBytes int64
	var last *crawler.Crawler
	for range b.N {
		for _, archive := range []bool{false, true} {
			name := "crawl"
			if archive {
				name = "crawl+archive"
			}
			cfg := testConfigWithItems(b, job(archive), "")
			store, err := storage.Open(context.Background(), cfg.Database, crawler.Tables(cfg))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { store.Close() })
			c, err := crawler.New(cfg, store, crawler.Options{})
			if err != nil {
				b.Fatal(err)
			}
			cpu0, t0 := cpuNow(), time.Now()
			sum, err := c.Run(context.Background())
			secs[name] += time.Since(t0).Seconds()
			cpu[name] += (cpuNow() - cpu0).Seconds()
			if err != nil {
				b.Fatal(err)
			}
			pages = sum.Counts.PagesOK
			if archive {
				archived, archBytes = sum.Archived, sum.ArchiveBytes
				last, err = crawler.New(cfg, store, crawler.Options{})
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		cpu0, t0 := cpuNow(), time.Now()
		sum, err := last.Reextract(context.Background(), crawler.ReextractOptions{})
		secs["reextract"] += time.Since(t0).Seconds()
		cpu["reextract"] += (cpuNow() - cpu0).Seconds()
		if err != nil || sum.Counts.PagesOK != pages {
			b.Fatalf("reextract: %+v %v (crawl: %d pages)", sum.Counts, err, pages)
		}
	}
	n := float64(pages) * float64(b.N)
	for _, name := range []string{"crawl", "crawl+archive", "reextract"} {
		b.ReportMetric(n/secs[name], name+"-pages/s")
		b.ReportMetric(1000*cpu[name]/n, name+"-cpu-ms/page")
	}
	b.ReportMetric(100*(1-secs["crawl"]/secs["crawl+archive"]), "archive-cost-%")
	b.ReportMetric(float64(archBytes)/float64(archived), "archive-B/exchange")
	b.ReportMetric(float64(archBytes)/float64(pages), "archive-B/page")
}
