package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/bench"
	"github.com/gather-crawler/gather/demo"
)

type benchFlags struct {
	pages       string
	latency     time.Duration
	parallelism string
	seqMax      int
	baseline    int
	out         string
	dir         string
	memory      string
	soak        int
	hosts       int
	readers     string
	repeat      int
	parSet      bool // --parallelism given: the soak's default differs
	scaleout    string
	concurrency int    // --scaleout: crawl.concurrency of each process
	gather      string // --scaleout: the gather binary its processes run
	// --browser: the browser's cost (see runBrowserBench).
	browser      bool
	tabs         string
	browserPages int
	flatPages    int
	recycleAfter int
	spaLatency   time.Duration
}

func newBenchCmd() *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench [--pages 50,100,...,450] [--latency 300ms] [--parallelism 1,8,64,128] [--out bench.png]",
		Short: "Reproduce the asyncio tutorial's experiment on the demo site, beside plain colly",
		Long: `bench crawls the demo site (in this process) with gather at each parallelism
and page count — parallelism 1 is the sequential crawl — and with a plain
hand-written colly program, each measurement in a fresh child process so
that its peak RSS is its own. It prints a table (pages, mode, seconds,
pages/s, the latency bound, peak RSS) and draws time against pages as a PNG.

--memory 10000,1000000 instead crawls that many tiny pages at latency 0 from
an id list, with gather and with plain colly, and reports peak RSS.

--soak 150000 instead crawls that many tiny pages at latency 0 spread over
--hosts demo sites (127.0.0.1, 127.0.0.2, …), once per --readers entry:
alone (none), beside a loop of SELECT count(*) FROM cast on the read-only
connection gather query uses (count), or beside statements that each hold
their snapshot for 5 s (long). It samples the -wal and database files and
reports the peak WAL, the database's size and pages/s.

--browser instead measures what the browser costs. First fetch: auto over the
last --pages count of challenge-gated pages at --latency (parallelism 64, or
the last --parallelism), beside gather and plain colly on the same site
without the challenge. Then fetch: browser over --browser-pages spa pages
at each --tabs, and one run of --flat-pages at the most tabs, recycling
Chromium every --recycle-after pages; memory is gather's and its
Chromium's together, sampled every 250 ms, and --out draws it against
pages loaded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.parSet = cmd.Flags().Changed("parallelism")
			return runBench(cmd.Context(), f, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.pages, "pages", "50,100,150,200,250,300,350,400,450", "page counts to measure")
	fl.DurationVar(&f.latency, "latency", 300*time.Millisecond, "latency of every page")
	fl.StringVar(&f.parallelism, "parallelism", "1,8,64,128", "parallelisms to measure (1: sequential)")
	fl.IntVar(&f.seqMax, "seq-max", 100, "measure the sequential crawl only up to this many pages (450 pages at 300ms take 135 s)")
	fl.IntVar(&f.baseline, "baseline", 64, "parallelism of the plain colly series (0: none)")
	fl.StringVar(&f.out, "out", "bench.png", "chart to write (empty: none)")
	fl.StringVar(&f.dir, "dir", "", "directory for the databases (default: a temporary one)")
	fl.StringVar(&f.memory, "memory", "", "memory mode: id counts to crawl as tiny pages at latency 0, e.g. 10000,1000000")
	fl.IntVar(&f.soak, "soak", 0, "soak mode: pages to crawl over --hosts sites while watching the WAL, e.g. 150000")
	fl.IntVar(&f.hosts, "hosts", 50, "soak mode: demo sites, each on an address of its own")
	fl.StringVar(&f.readers, "readers", "none,count", "soak mode: readers beside the crawl, in turn: none, count, long")
	fl.IntVar(&f.repeat, "repeat", 1, "soak and browser modes: rounds, alternating, so that the machine's drift hits each alike")
	fl.StringVar(&f.scaleout, "scaleout", "", "scale-out mode: worker counts to measure beside a local crawl, e.g. 1,2,4,8 (see docs/scaleout.md)")
	fl.StringVar(&f.gather, "gather", "", "scale-out mode: the gather binary the seed, sink and workers run (default: built from this checkout)")
	fl.IntVar(&f.concurrency, "concurrency", 0, "scale-out mode: crawl.concurrency of the local crawl and of each worker, one machine's capacity (0: none)")
	fl.BoolVar(&f.browser, "browser", false, "browser mode: fetch: auto on a challenge-gated site, fetch: browser at each --tabs")
	fl.StringVar(&f.tabs, "tabs", "1,4,8", "browser mode: crawl.browser.tabs to measure")
	fl.IntVar(&f.browserPages, "browser-pages", 200, "browser mode: spa pages per --tabs run")
	fl.IntVar(&f.flatPages, "flat-pages", 2000, "browser mode: spa pages of the long run at the most tabs, whose memory is drawn (0: none)")
	fl.IntVar(&f.recycleAfter, "recycle-after", 500, "browser mode: crawl.browser.recycle_after")
	fl.DurationVar(&f.spaLatency, "spa-latency", 100*time.Millisecond, "browser mode: latency of each request of a spa page (shell, script, JSON)")
	return cmd
}

// newBenchChildCmd is the measured process: one crawl, its result as JSON.
func newBenchChildCmd() *cobra.Command {
	var job bench.Job
	cmd := &cobra.Command{
		Use:    "bench-child",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := bench.Run(cmd.Context(), job)
			if err != nil {
				return err
			}
			res.PeakRSSMB = peakRSSMB()
			return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&job.Mode, "mode", bench.ModeGather, "")
	fl.StringVar(&job.Base, "base", "", "")
	fl.IntVar(&job.Pages, "pages", 0, "")
	fl.IntVar(&job.Parallelism, "parallelism", 1, "")
	fl.StringVar(&job.Dir, "dir", "", "")
	fl.BoolVar(&job.Tiny, "tiny", false, "")
	fl.StringVar(&job.Layout, "layout", "", "")
	fl.StringVar(&job.Fetch, "fetch", "", "")
	fl.IntVar(&job.Tabs, "tabs", 0, "")
	fl.IntVar(&job.RecycleAfter, "recycle-after", 0, "")
	return cmd
}

func parseInts(flag, s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return nil, usagef("%s: %q is not a list of positive numbers", flag, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// measure runs one job in a child process and adds its peak RSS.
func measure(ctx context.Context, job bench.Job) (bench.Result, error) {
	return measureSampled(ctx, job, nil)
}

// measureSampled is measure that, while the child runs, calls sample
// with its pid every sampleEvery.
func measureSampled(ctx context.Context, job bench.Job, sample func(pid int)) (bench.Result, error) {
	exe, err := os.Executable()
	if err != nil {
		return bench.Result{}, err
	}
	args := []string{"bench-child", "--mode", job.Mode, "--base", job.Base, "--pages", strconv.Itoa(job.Pages),
		"--parallelism", strconv.Itoa(job.Parallelism), "--dir", job.Dir}
	if job.Tiny {
		args = append(args, "--tiny")
	}
	if job.Layout != "" {
		args = append(args, "--layout", job.Layout)
	}
	if job.Fetch != "" {
		args = append(args, "--fetch", job.Fetch, "--tabs", strconv.Itoa(job.Tabs), "--recycle-after", strconv.Itoa(job.RecycleAfter))
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), "GATHER_TEST_EXEC=1") // lets a test binary act as gather
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		return bench.Result{}, err
	}
	if sample != nil {
		done := make(chan struct{})
		var werr error
		go func() {
			defer close(done)
			werr = cmd.Wait()
		}()
		t := time.NewTicker(sampleEvery)
	loop:
		for {
			select {
			case <-done:
				break loop
			case <-t.C:
				sample(cmd.Process.Pid)
			}
		}
		t.Stop()
		err = werr
	} else {
		err = cmd.Wait()
	}
	if err != nil {
		return bench.Result{}, fmt.Errorf("%s %d pages at parallelism %d: %v: %s", job.Mode, job.Pages, job.Parallelism, err, errOut.String())
	}
	var res bench.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return res, fmt.Errorf("bench child said %q: %w", out.String(), err)
	}
	if res.PeakRSSMB == 0 {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			res.PeakRSSMB = float64(ru.Maxrss) / 1024 // kilobytes on Linux
		}
	}
	return res, nil
}

// sampleEvery is how often measureSampled samples.
const sampleEvery = 250 * time.Millisecond

// peakRSSMB is this process's peak resident memory (VmHWM). Unlike the
// rusage a parent gets from wait, it is not floored by the parent's size at
// fork: exec starts a fresh address space, and VmHWM belongs to it.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}

func runBench(ctx context.Context, f *benchFlags, out io.Writer) error {
	dir := f.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "gather-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	if f.memory != "" {
		return runMemoryBench(ctx, f, dir, out)
	}
	if f.soak > 0 {
		return runSoakBench(ctx, f, dir, out)
	}
	if f.browser {
		return runBrowserBench(ctx, f, dir, out)
	}
	if f.scaleout != "" {
		return runScaleOutBench(ctx, f, dir, out)
	}
	pages, err := parseInts("--pages", f.pages)
	if err != nil {
		return err
	}
	pars, err := parseInts("--parallelism", f.parallelism)
	if err != nil {
		return err
	}
	site, err := demo.New(demo.Options{Latency: f.latency, Cache: true}).Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer site.Close()
	fmt.Fprintf(out, "demo site %s, latency %s; each run is a fresh process; machine: %d CPUs\n\n", site.URL, f.latency, runtime.NumCPU())

	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pages\tmode\tparallelism\tseconds\tpages/s\tbound s\tpeak RSS MB\t")
	series := map[string]*bench.Series{}
	var order []string
	add := func(name string, r bench.Result, dashed bool) {
		s, ok := series[name]
		if !ok {
			s = &bench.Series{Name: name, Dashed: dashed}
			series[name] = s
			order = append(order, name)
		}
		s.Points = append(s.Points, r)
	}
	for _, n := range pages {
		jobs := []bench.Job{}
		for _, p := range pars {
			if p == 1 && n > f.seqMax {
				continue
			}
			jobs = append(jobs, bench.Job{Mode: bench.ModeGather, Base: site.URL, Pages: n, Parallelism: p, Dir: dir})
		}
		if f.baseline > 0 {
			jobs = append(jobs, bench.Job{Mode: bench.ModePlain, Base: site.URL, Pages: n, Parallelism: f.baseline, Dir: dir})
		}
		for _, j := range jobs {
			if err := ctx.Err(); err != nil {
				return err
			}
			res, err := measure(ctx, j)
			if err != nil {
				return err
			}
			bound := math.Ceil(float64(n)/float64(j.Parallelism)) * f.latency.Seconds()
			mode := j.Mode
			if j.Mode == bench.ModeGather && j.Parallelism == 1 {
				mode = "gather sequential"
			}
			fmt.Fprintf(tw, "%d\t%s\t%d\t%.2f\t%.1f\t%.2f\t%.0f\t\n", n, mode, j.Parallelism, res.Seconds, res.PagesPerSec, bound, res.PeakRSSMB)
			fmt.Fprintf(os.Stderr, "measured %s: %d pages at parallelism %d in %.2f s\n", mode, n, j.Parallelism, res.Seconds)
			name := fmt.Sprintf("gather, parallelism %d", j.Parallelism)
			switch {
			case j.Mode == bench.ModePlain:
				name = fmt.Sprintf("plain colly, parallelism %d", j.Parallelism)
			case j.Parallelism == 1:
				name = "gather sequential (parallelism 1)"
			}
			add(name, res, false)
		}
	}
	top := pars[len(pars)-1]
	for _, n := range pages {
		add(fmt.Sprintf("bound ceil(pages/%d)·latency", top), bench.Result{Pages: n, Seconds: math.Ceil(float64(n)/float64(top)) * f.latency.Seconds()}, true)
	}
	tw.Flush()
	if f.out != "" {
		var all []bench.Series
		for _, name := range order {
			all = append(all, *series[name])
		}
		title := fmt.Sprintf("demo credit pages at %s latency", f.latency)
		if err := bench.Chart(f.out, title, all); err != nil {
			return err
		}
		fmt.Fprintf(out, "\nchart written to %s\n", f.out)
	}
	return nil
}

func runMemoryBench(ctx context.Context, f *benchFlags, dir string, out io.Writer) error {
	counts, err := parseInts("--memory", f.memory)
	if err != nil {
		return err
	}
	pars, err := parseInts("--parallelism", f.parallelism)
	if err != nil {
		return err
	}
	par := pars[len(pars)-1]
	site, err := demo.New(demo.Options{}).Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer site.Close()
	fmt.Fprintf(out, "memory: tiny pages at latency 0, parallelism %d, each run a fresh process\n\n", par)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ids\tmode\tseconds\tpages/s\tpeak RSS MB\t")
	modes := []string{bench.ModeGather}
	if f.baseline > 0 {
		modes = append(modes, bench.ModePlain)
	}
	for _, n := range counts {
		for _, mode := range modes {
			res, err := measure(ctx, bench.Job{Mode: mode, Base: site.URL, Pages: n, Parallelism: par, Dir: dir, Tiny: true})
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%d\t%s\t%.1f\t%.0f\t%.0f\t\n", n, mode, res.Seconds, res.PagesPerSec, res.PeakRSSMB)
			fmt.Fprintf(os.Stderr, "measured %s: %d ids in %.1f s, peak RSS %.0f MB\n", mode, n, res.Seconds, res.PeakRSSMB)
		}
	}
	return tw.Flush()
}

func runSoakBench(ctx context.Context, f *benchFlags, dir string, out io.Writer) error {
	if f.hosts < 1 || f.hosts > 254 {
		return usagef("--hosts must be from 1 to 254")
	}
	pars, err := parseInts("--parallelism", f.parallelism)
	if err != nil {
		return err
	}
	par := pars[len(pars)-1]
	if !f.parSet {
		// 4 per host is 200 pages in flight over 50 hosts: enough to keep
		// two cores busy, where the default's 128 would be 6,400.
		par = 4
	}
	readers := strings.Split(f.readers, ",")
	for _, r := range readers {
		if r != bench.SoakNoReader && r != bench.SoakCount && r != bench.SoakLong {
			return usagef("--readers: %q is not none, count or long", r)
		}
	}
	fmt.Fprintf(out, "soak: %d tiny pages over %d hosts at latency 0, parallelism %d per host, databases in %s; machine: %d CPUs\n\n",
		f.soak, f.hosts, par, dir, runtime.NumCPU())
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "reader\tseconds\tpages/s\tCPU ms/page\tpeak WAL MB\tdatabase MB\tWAL after MB\treads\tslowest read s\temptied\tbusy\tcheckpoint s\t")
	mb := func(n int64) float64 { return float64(n) / (1 << 20) }
	for round := 0; round < max(1, f.repeat); round++ {
		for _, r := range readers {
			res, err := bench.Soak(ctx, bench.SoakJob{Pages: f.soak, Hosts: f.hosts, Parallelism: par, Dir: dir, Reader: r, Log: os.Stderr})
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%.1f\t%.0f\t%.2f\t%.1f\t%.1f\t%.1f\t%d\t%.2f\t%d\t%d\t%.1f\t\n", r, res.Seconds, res.PagesPerSec, res.CPUMsPerPage,
				mb(res.PeakWAL), mb(res.DB), mb(res.WALAfter), res.Reads, res.SlowestRead, res.Truncated, res.Busy, res.CheckpointWait)
			fmt.Fprintf(os.Stderr, "measured soak with reader %s: %.0f pages/s, peak WAL %.1f MB, database %.1f MB\n", r, res.PagesPerSec, mb(res.PeakWAL), mb(res.DB))
		}
	}
	return tw.Flush()
}
