package bench_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/gather-crawler/gather/bench"
	"github.com/gather-crawler/gather/demo"
)

// BenchmarkCrawl compares gather with a plain colly program on the same
// in-process site at latency 0 (CPU-bound): pages/s, side by side.
func BenchmarkCrawl(b *testing.B) {
	const pages = 1000
	site := warmSite(b, pages, demo.PageURL)
	crawlEach(b, bench.Job{Base: site.URL, Pages: pages})
}

// BenchmarkCrawlClassic is BenchmarkCrawl on the classic layout, one
// program at a time, for profiles and allocation counts of either.
func BenchmarkCrawlClassic(b *testing.B) {
	const pages = 1000
	site := warmSite(b, pages, demo.ClassicURL)
	crawlEach(b, bench.Job{Layout: bench.LayoutClassic, Base: site.URL, Pages: pages})
}

// crawlEach runs the job with each program in a sub-benchmark of its own,
// at parallelism 16.
func crawlEach(b *testing.B, job bench.Job) {
	for _, mode := range []string{bench.ModePlain, bench.ModeGather} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			job := job
			job.Mode, job.Parallelism, job.Dir = mode, 16, scratchDir(b)
			var total float64
			for i := 0; i < b.N; i++ {
				res, err := bench.Run(context.Background(), job)
				if err != nil {
					b.Fatal(err)
				}
				total += res.Seconds
			}
			b.ReportMetric(float64(job.Pages*b.N)/total, "pages/s")
		})
	}
}

// scratchDir is a temporary directory on tmpfs when there is one: the
// comparison is of CPU work, and a shared disk's stalls would drown it.
func scratchDir(tb testing.TB) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "gather-bench-")
		if err == nil {
			tb.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return tb.TempDir()
}

// BenchmarkCrawlSideBySide alternates the two programs run by run, so that
// drift in the machine's load hits both alike, and reports their ratio.
func BenchmarkCrawlSideBySide(b *testing.B) {
	const pages = 1000
	site := warmSite(b, pages, demo.PageURL)
	sideBySide(b, bench.Job{Base: site.URL, Pages: pages})
}

// BenchmarkCrawlClassicSideBySide is BenchmarkCrawlSideBySide on the
// demo's classic layout: gather with examples/imdb-classic.yaml (a DOM,
// CSS and XPath) beside PlainClassic (colly's OnHTML and goquery), over
// 3,000 pages as the issue that asked for it measured.
func BenchmarkCrawlClassicSideBySide(b *testing.B) {
	const pages = 3000
	site := warmSite(b, pages, demo.ClassicURL)
	sideBySide(b, bench.Job{Layout: bench.LayoutClassic, Base: site.URL, Pages: pages})
}

// warmSite starts the demo site with its page cache, for the benchmark's
// length, and fetches each of its first pages once (pageURL says in which
// layout), so that neither program is timed paying for their rendering.
func warmSite(b *testing.B, pages int, pageURL func(base, id string) string) *demo.Server {
	site, err := demo.New(demo.Options{Cache: true}).Start("")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { site.Close() })
	for _, id := range demo.IDs(pages) {
		resp, err := http.Get(pageURL(site.URL, id))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return site
}

// sideBySide alternates the two programs over the job's pages (its Base,
// Pages and Layout) at parallelism 16, run by run, and reports their
// pages/s and ratio, and the process's CPU time per page during each.
func sideBySide(b *testing.B, job bench.Job) {
	job.Dir, job.Parallelism = scratchDir(b), 16
	secs, cpu := map[string]float64{}, map[string]float64{}
	for i := 0; i < b.N; i++ {
		for _, mode := range []string{bench.ModePlain, bench.ModeGather} {
			job.Mode = mode
			res, err := bench.Run(context.Background(), job)
			if err != nil {
				b.Fatal(err)
			}
			secs[mode] += res.Seconds
			cpu[mode] += res.CPUSeconds
		}
	}
	pages := float64(job.Pages * b.N)
	plain := pages / secs[bench.ModePlain]
	gather := pages / secs[bench.ModeGather]
	b.ReportMetric(plain, "plain-pages/s")
	b.ReportMetric(gather, "gather-pages/s")
	b.ReportMetric(gather/plain, "gather/plain")
	if cpu[bench.ModePlain] > 0 {
		b.ReportMetric(1000*cpu[bench.ModePlain]/pages, "plain-cpu-ms/page")
		b.ReportMetric(1000*cpu[bench.ModeGather]/pages, "gather-cpu-ms/page")
	}
}

// The baseline does the same work as gather: the same pages, the same rows.
func TestRun_BothModesStoreTheSameRows(t *testing.T) {
	site, err := demo.New(demo.Options{}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	rows := map[string]int64{}
	for _, mode := range []string{bench.ModeGather, bench.ModePlain} {
		res, err := bench.Run(context.Background(), bench.Job{Mode: mode, Base: site.URL, Pages: 20, Parallelism: 4, Dir: t.TempDir()})
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if res.Pages != 20 || res.Seconds <= 0 {
			t.Errorf("%s: %+v", mode, res)
		}
		rows[mode] = res.Rows
	}
	var want int64
	for _, id := range demo.IDs(20) {
		m := demo.MovieFor(id, 0)
		want += 1 + int64(len(m.Cast)+len(m.Crew))
	}
	if rows[bench.ModeGather] != want || rows[bench.ModePlain] != want {
		t.Errorf("rows: gather %d, plain colly %d; want %d each", rows[bench.ModeGather], rows[bench.ModePlain], want)
	}
}
