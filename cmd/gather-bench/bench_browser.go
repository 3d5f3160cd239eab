package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gather-crawler/gather/bench"
	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/demo"
)

// runBrowserBench measures what the browser costs: fetch: auto against a
// challenge-gated site beside the same crawl of an open site (and plain
// colly), then fetch: browser on the spa layout at each --tabs, and one
// long run at the most tabs whose memory is drawn against pages done.
func runBrowserBench(ctx context.Context, f *benchFlags, dir string, out io.Writer) error {
	if _, err := config.FindChromium(""); err != nil {
		return usagef("--browser needs Chromium: %v; %s", err, config.ChromiumInstall)
	}
	pages, err := parseInts("--pages", f.pages)
	if err != nil {
		return err
	}
	tabs, err := parseInts("--tabs", f.tabs)
	if err != nil {
		return err
	}
	n, par := pages[len(pages)-1], 64
	if f.parSet {
		pars, err := parseInts("--parallelism", f.parallelism)
		if err != nil {
			return err
		}
		par = pars[len(pars)-1]
	}
	fmt.Fprintf(out, "browser: each run is a fresh process; memory is gather's and its Chromium's together; machine: %d CPUs\n\n", runtime.NumCPU())
	if err := benchAuto(ctx, f, dir, out, n, par); err != nil {
		return err
	}
	return benchTabs(ctx, f, dir, out, tabs)
}

// benchAuto crawls n pages at parallelism par of a site without a
// challenge (plain colly, gather) and of the same site behind one
// (gather, fetch: auto), f.repeat times in turn.
func benchAuto(ctx context.Context, f *benchFlags, dir string, out io.Writer, n, par int) error {
	open, err := demo.New(demo.Options{Latency: f.latency, Cache: true}).Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer open.Close()
	gated, err := demo.New(demo.Options{Latency: f.latency, Cache: true, Challenge: &demo.Challenge{TokenTTL: time.Hour}}).Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer gated.Close()
	fmt.Fprintf(out, "fetch: auto — %d credit pages at %s latency, parallelism %d; the latency bound is %.2f s\n", n, f.latency, par,
		math.Ceil(float64(n)/float64(par))*f.latency.Seconds())
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tsite\tseconds\tpages/s\tsolves\t× gather on the open site\tpeak PSS MB\t")
	for round := 0; round < max(1, f.repeat); round++ {
		var openSecs float64
		for _, run := range []struct {
			mode, fetch, name string
			site              *demo.Server
		}{
			{bench.ModePlain, "", "open", open},
			{bench.ModeGather, config.FetchHTTP, "open", open},
			// What auto costs where no challenge comes: its Chromium.
			{bench.ModeGather, config.FetchAuto, "open", open},
			{bench.ModeGather, config.FetchAuto, "challenge", gated},
		} {
			solves := run.site.Solves()
			peak := &treePeak{served: func() int64 { return 0 }}
			res, err := measureSampled(ctx, bench.Job{Mode: run.mode, Base: run.site.URL, Pages: n, Parallelism: par, Dir: dir, Fetch: run.fetch}, peak.sample)
			if err != nil {
				return err
			}
			mode, ratio := run.mode, ""
			if run.fetch != "" {
				mode += " " + run.fetch
			}
			switch {
			case run.mode == bench.ModeGather && run.fetch == config.FetchHTTP:
				openSecs = res.Seconds
			case run.fetch == config.FetchAuto:
				ratio = fmt.Sprintf("%.2f", res.Seconds/openSecs)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.1f\t%d\t%s\t%.0f\t\n", mode, run.name, res.Seconds, res.PagesPerSec, run.site.Solves()-solves, ratio, peak.pss)
			fmt.Fprintf(os.Stderr, "measured %s on the %s site: %d pages in %.2f s\n", mode, run.name, n, res.Seconds)
		}
	}
	fmt.Fprintln(tw)
	return tw.Flush()
}

// treePeak samples the memory of a measured process and its children.
type treePeak struct {
	mu       sync.Mutex
	rss, pss float64
	line     bench.Line
	served   func() int64
}

func (p *treePeak) sample(pid int) {
	rss, pss := bench.TreeMemory(pid)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rss, p.pss = math.Max(p.rss, rss), math.Max(p.pss, pss)
	if pss > 0 {
		p.line.Points = append(p.line.Points, bench.XY{X: float64(p.served()), Y: pss})
	}
}

// benchTabs loads --browser-pages spa pages in fetch: browser at each
// number of tabs, then --flat-pages at the most tabs, recycling the
// browser every --recycle-after pages, and draws memory against pages.
func benchTabs(ctx context.Context, f *benchFlags, dir string, out io.Writer, tabs []int) error {
	fmt.Fprintf(out, "fetch: browser — spa pages (shell, script and JSON, each at %s latency), parallelism = tabs\n", f.spaLatency)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tabs\tpages\tseconds\tpages/s\tpeak PSS MB\tpeak RSS MB\tmost pages at the site at once\t")
	var lines []bench.Line
	runs := make([][2]int, 0, len(tabs)+1)
	for _, t := range tabs {
		runs = append(runs, [2]int{t, f.browserPages})
	}
	most := tabs[len(tabs)-1]
	if f.flatPages > 0 {
		runs = append(runs, [2]int{most, f.flatPages})
	}
	var flat *treePeak
	for _, r := range runs {
		t, n := r[0], r[1]
		// A site per run: its peak of pages at once is the run's own.
		site, err := demo.New(demo.Options{Latency: f.spaLatency}).Start("127.0.0.1:0")
		if err != nil {
			return err
		}
		peak := &treePeak{served: site.SpaServed, line: bench.Line{Name: fmt.Sprintf("%s, %d pages", tabsLabel(t), n)}}
		res, err := measureSampled(ctx, bench.Job{Mode: bench.ModeGather, Layout: bench.LayoutSpa, Base: site.URL, Pages: n,
			Parallelism: t, Dir: dir, Fetch: config.FetchBrowser, Tabs: t, RecycleAfter: f.recycleAfter}, peak.sample)
		site.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%d\t%d\t%.1f\t%.1f\t%.0f\t%.0f\t%d\t\n", t, n, res.Seconds, res.PagesPerSec, peak.pss, peak.rss, site.SpaPeak())
		fmt.Fprintf(os.Stderr, "measured fetch: browser with %d tabs: %d pages in %.1f s, peak PSS %.0f MB\n", t, n, res.Seconds, peak.pss)
		lines = append(lines, peak.line)
		if n == f.flatPages {
			flat = peak
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if flat != nil {
		fmt.Fprintf(out, "\nmemory over the %d pages at %d tabs (browser recycled every %d pages), PSS MB by fifth:", f.flatPages, most, f.recycleAfter)
		for i := 0; i < 5; i++ {
			m := 0.0
			for _, pt := range flat.line.Points {
				if int(pt.X)*5/f.flatPages == i {
					m = math.Max(m, pt.Y)
				}
			}
			fmt.Fprintf(out, " %.0f", m)
		}
		fmt.Fprintln(out)
	}
	if f.out != "" && len(lines) > 0 {
		title := "fetch: browser on the spa layout — memory of gather and its Chromium (PSS)"
		if err := bench.LineChart(f.out, title, "pages loaded", "MB", lines); err != nil {
			return err
		}
		fmt.Fprintf(out, "\nchart written to %s\n", f.out)
	}
	return nil
}

func tabsLabel(t int) string {
	if t == 1 {
		return "1 tab"
	}
	return fmt.Sprintf("%d tabs", t)
}
