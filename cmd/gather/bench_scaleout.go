package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
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
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d pages over %d hosts at %s, parallelism %d per host (ceiling %.0f pages/s)\n",
		pages, hosts, f.latency, par, float64(hosts*par)/f.latency.Seconds())
	// Row by row as they end (a run takes minutes), so fixed widths.
	fmt.Fprintf(out, "%-22s %6s %8s %8s\n", "mode", "pages", "seconds", "pages/s")
	_, err = bench.ScaleOut(ctx, bench.ScaleOutJob{Pages: pages, Hosts: hosts, Parallelism: par, Latency: f.latency,
		Workers: workers, Dir: dir,
		Gather: func(ctx context.Context, args ...string) *exec.Cmd {
			cmd := exec.CommandContext(ctx, exe, args...)
			cmd.Env = append(os.Environ(), "GATHER_TEST_EXEC=1") // lets a test binary act as gather
			return cmd
		},
		Progress: func(r bench.ScaleOutRow) {
			fmt.Fprintf(out, "%-22s %6d %8.2f %8.1f\n", r.Mode(), r.Pages, r.Seconds, r.PagesPerSec)
		}})
	return err
}
