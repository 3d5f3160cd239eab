package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/gather-crawler/gather/bench"
)

// runScaleOutBench is gather bench --scaleout: a local crawl and 1, 2, 4…
// workers over the same pages on --hosts demo sites (default 16 here),
// each a set of gather processes.
func runScaleOutBench(ctx context.Context, f *benchFlags, dir string, out io.Writer) error {
	workers, err := parseInts("--scaleout", f.scaleout)
	if err != nil {
		return err
	}
	pages, err := strconv.Atoi(f.pages)
	if err != nil || pages < 1 {
		pages = 2400
	}
	par := 4
	if f.parSet {
		if par, err = strconv.Atoi(f.parallelism); err != nil || par < 1 {
			return usagef("--parallelism: one number per host in scale-out mode, got %q", f.parallelism)
		}
	}
	hosts := 16
	if f.hosts != 50 { // 50 is the soak's default
		hosts = f.hosts
	}
	exe, err := gatherBinary(ctx, dir, f.gather)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d pages over %d hosts at %s, parallelism %d per host (ceiling %.0f pages/s)",
		pages, hosts, f.latency, par, float64(hosts*par)/f.latency.Seconds())
	if f.concurrency > 0 {
		fmt.Fprintf(out, "; each process takes %d pages at once (%.0f pages/s a process)", f.concurrency, float64(f.concurrency)/f.latency.Seconds())
	}
	fmt.Fprintln(out)
	// Row by row as they end (a run takes minutes), so fixed widths.
	fmt.Fprintf(out, "%-22s %6s %8s %8s\n", "mode", "pages", "seconds", "pages/s")
	if f.concurrency < 0 {
		return usagef("--concurrency: 0 or more, got %d", f.concurrency)
	}
	rows, err := bench.ScaleOut(ctx, bench.ScaleOutJob{Pages: pages, Hosts: hosts, Parallelism: par, Concurrency: f.concurrency, Latency: f.latency,
		Workers: workers, Dir: dir,
		Gather: func(ctx context.Context, args ...string) *exec.Cmd {
			cmd := exec.CommandContext(ctx, exe, args...)
			cmd.Env = append(os.Environ(), "GATHER_TEST_EXEC=1") // lets a test binary act as gather
			return cmd
		},
		Progress: func(r bench.ScaleOutRow) {
			fmt.Fprintf(out, "%-22s %6d %8.2f %8.1f\n", r.Mode(), r.Pages, r.Seconds, r.PagesPerSec)
		}})
	if err != nil || f.out == "" {
		return err
	}
	return scaleOutChart(f.out, rows, workers, hosts, par, f.concurrency, f.latency.String())
}

// scaleOutChart draws pages/s against the number of workers, beside the
// local crawl and the ceiling the per-host limits set.
func scaleOutChart(path string, rows []bench.ScaleOutRow, workers []int, hosts, par, concurrency int, latency string) error {
	shared := bench.Line{Name: "workers + sink (Redis frontier)"}
	local, ceiling := bench.Line{Name: "gather crawl (local, one process)"}, bench.Line{Name: "ceiling: hosts × parallelism / latency"}
	capacity := bench.Line{Name: "capacity: workers × concurrency / latency"}
	first, last := float64(workers[0]), float64(workers[len(workers)-1])
	for _, r := range rows {
		if r.Workers == 0 {
			local.Points = []bench.XY{{X: first, Y: r.PagesPerSec}, {X: last, Y: r.PagesPerSec}}
			ceiling.Points = []bench.XY{{X: first, Y: r.Bound}, {X: last, Y: r.Bound}}
			continue
		}
		shared.Points = append(shared.Points, bench.XY{X: float64(r.Workers), Y: r.PagesPerSec})
		if r.Capacity > 0 {
			capacity.Points = append(capacity.Points, bench.XY{X: float64(r.Workers), Y: min(r.Capacity, r.Bound)})
		}
	}
	title := fmt.Sprintf("scale-out: %d demo hosts at %s, parallelism %d per host", hosts, latency, par)
	lines := []bench.Line{shared, local, ceiling}
	if concurrency > 0 {
		title += fmt.Sprintf(", %d at once per process", concurrency)
		lines = append(lines, capacity)
	}
	if err := bench.LineChart(path, title, "worker processes", "pages/s", lines); err != nil {
		return err
	}
	fmt.Printf("chart written to %s\n", path)
	return nil
}

// gatherBinary is the gather command the scale-out processes run: path if
// given, else one built from this checkout into dir.
func gatherBinary(ctx context.Context, dir, path string) (string, error) {
	if path != "" {
		return path, nil
	}
	exe := filepath.Join(dir, "gather")
	build := exec.CommandContext(ctx, "go", "build", "-o", exe, "github.com/gather-crawler/gather/cmd/gather")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building gather for the scale-out processes (or give --gather PATH): %v\n%s", err, out)
	}
	return exe, nil
}
