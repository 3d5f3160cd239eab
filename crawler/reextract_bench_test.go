package crawler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/storage"
)

// The archive's cost and what it buys, side by side on the same pages of
// the demo site at latency 0 (the crawl bound by the CPU, as a
// re-extraction is): a crawl without the archive, a crawl with it, and a
// re-extraction of the archived pages. Each reports pages/s.
//
//	go test -run XXX -bench 'Archive' -benchtime 3x ./crawler/
func BenchmarkArchive(b *testing.B) {
	const pages = 2000
	for _, layout := range []string{"nextdata", "classic"} {
		site := startSite(b, "", demo.Options{})
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
		crawlOnce := func(b *testing.B, archive bool) *crawler.Crawler {
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
			if sum, err := c.Run(context.Background()); err != nil || sum.Counts.PagesOK != pages {
				b.Fatalf("%v: %v", sum, err)
			}
			return c
		}
		for _, archive := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/crawl/archive=%v", layout, archive), func(b *testing.B) {
				start := time.Now()
				for range b.N {
					crawlOnce(b, archive)
				}
				b.ReportMetric(float64(pages*b.N)/time.Since(start).Seconds(), "pages/s")
			})
		}
		b.Run(layout+"/reextract", func(b *testing.B) {
			cfg := testConfigWithItems(b, job(true), "")
			store, err := storage.Open(context.Background(), cfg.Database, crawler.Tables(cfg))
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			c, _ := crawler.New(cfg, store, crawler.Options{})
			if _, err := c.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				c, _ := crawler.New(cfg, store, crawler.Options{})
				sum, err := c.Reextract(context.Background(), crawler.ReextractOptions{})
				if err != nil || sum.Counts.PagesOK != pages {
					b.Fatalf("%v: %v", sum, err)
				}
			}
			b.ReportMetric(float64(pages*b.N)/time.Since(start).Seconds(), "pages/s")
		})
	}
}
