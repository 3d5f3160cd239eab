package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	gather "github.com/gather-crawler/gather"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/redistest"
)

// ScaleOutJob is the scale-out benchmark: the same pages, spread over
// Hosts demo sites (one port each) at Latency, crawled by one local
// `gather crawl` and by 1, 2, 4, 8… `gather worker` processes sharing a
// Redis frontier with a `gather sink`, side by side in one run.
type ScaleOutJob struct {
	Pages, Hosts, Parallelism int
	// Concurrency is crawl.concurrency of the local crawl and of each
	// worker: what one machine takes on at once (0: no cap).
	Concurrency int
	Latency     time.Duration
	Workers     []int
	Dir         string
	// Gather makes a command running gather with args (the caller's own
	// binary).
	Gather func(ctx context.Context, args ...string) *exec.Cmd
	// Progress, if set, is told of each measurement as it ends.
	Progress func(ScaleOutRow)
}

// ScaleOutRow is one measurement. Workers 0 is the local crawl.
type ScaleOutRow struct {
	Workers     int
	Pages       int
	Seconds     float64
	PagesPerSec float64
	// Bound is the host limit's ceiling: hosts × parallelism / latency.
	Bound float64
	// Capacity is what the processes' crawl.concurrency allows: workers
	// (one for the local crawl) × concurrency / latency; 0 without one.
	Capacity float64
}

// Mode names the row's crawl.
func (r ScaleOutRow) Mode() string {
	if r.Workers == 0 {
		return "gather crawl (local)"
	}
	return fmt.Sprintf("%d worker%s + sink", r.Workers, map[bool]string{true: "", false: "s"}[r.Workers == 1])
}

// ScaleOut runs the job: a redis-server of its own (Debian's
// redis-server), the demo sites, then each measurement in turn.
func ScaleOut(ctx context.Context, j ScaleOutJob) ([]ScaleOutRow, error) {
	exe, err := redistest.Exe()
	if err != nil {
		return nil, err
	}
	rs, err := redistest.Launch(exe, filepath.Join(j.Dir, "redis"))
	if err != nil {
		return nil, err
	}
	defer rs.Stop()
	var urls []string
	for i := 0; i < j.Hosts; i++ {
		s, err := demo.New(demo.Options{Latency: j.Latency, Cache: true}).Start("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer s.Close()
		urls = append(urls, s.URL)
	}
	start := make([]string, j.Pages)
	for i, id := range demo.IDs(j.Pages) {
		start[i] = demo.PageURL(urls[i%len(urls)], id)
	}
	bound := float64(j.Hosts*j.Parallelism) / j.Latency.Seconds()
	var rows []ScaleOutRow
	for _, workers := range append([]int{0}, j.Workers...) {
		name := fmt.Sprintf("scaleout-%d", workers)
		cfg, err := j.writeConfig(name, rs.URL(), start)
		if err != nil {
			return rows, err
		}
		var secs float64
		if workers == 0 {
			secs, err = j.timed(ctx, [][]string{{"crawl", "-c", cfg}})
		} else {
			if _, err = j.timed(ctx, [][]string{{"seed", "-c", cfg}}); err != nil {
				return rows, err
			}
			cmds := [][]string{{"sink", "-c", cfg}}
			for i := 0; i < workers; i++ {
				cmds = append(cmds, []string{"worker", "-c", cfg, "--name", fmt.Sprintf("w%d", i)})
			}
			secs, err = j.timed(ctx, cmds)
		}
		if err != nil {
			return rows, err
		}
		row := ScaleOutRow{Workers: workers, Pages: j.Pages, Seconds: secs, PagesPerSec: float64(j.Pages) / secs, Bound: bound}
		if j.Concurrency > 0 {
			row.Capacity = float64(max(workers, 1)*j.Concurrency) / j.Latency.Seconds()
		}
		rows = append(rows, row)
		if j.Progress != nil {
			j.Progress(row)
		}
	}
	return rows, nil
}

// writeConfig writes the shipped config.yaml with this measurement's
// database, frontier, job name, limits and start URLs.
func (j ScaleOutJob) writeConfig(name, frontier string, start []string) (string, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(gather.DefaultConfig, &doc); err != nil {
		return "", err
	}
	doc["database"] = name + ".db"
	doc["frontier"] = frontier
	crawl, _ := doc["crawl"].(map[string]any)
	if crawl == nil {
		crawl = map[string]any{}
	}
	crawl["name"] = name
	crawl["parallelism"] = j.Parallelism
	if j.Concurrency > 0 {
		crawl["concurrency"] = j.Concurrency
	}
	crawl["fetch"] = "http" // the demo never challenges: no Chromium beside what is measured
	crawl["start"] = map[string]any{"urls": start}
	delete(crawl, "allowed_domains")
	doc["crawl"] = crawl
	delete(doc, "schedule")
	b, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(j.Dir, name+".yaml")
	return path, os.WriteFile(path, b, 0o644)
}

// timed runs the commands at once and returns the seconds until the last
// has exited, or the first failure.
func (j ScaleOutJob) timed(ctx context.Context, args [][]string) (float64, error) {
	start := time.Now()
	cmds := make([]*exec.Cmd, len(args))
	outs := make([]*bytes.Buffer, len(args))
	for i, a := range args {
		cmds[i] = j.Gather(ctx, append(a, "--log-level", "warn")...)
		outs[i] = &bytes.Buffer{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
		if err := cmds[i].Start(); err != nil {
			return 0, err
		}
	}
	var first error
	for i, c := range cmds {
		if err := c.Wait(); err != nil && first == nil {
			first = fmt.Errorf("gather %s: %v:\n%s", strings.Join(args[i], " "), err, outs[i])
		}
	}
	return time.Since(start).Seconds(), first
}
