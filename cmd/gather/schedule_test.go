package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

func scheduleConfig(t *testing.T, dir string, site *demo.Server, every string, refresh string, parallelism int, ids int) string {
	t.Helper()
	var b strings.Builder
	for _, id := range demo.IDs(ids) {
		b.WriteString(id + "\n")
	}
	writeFile(t, dir, "ids.txt", b.String())
	s := gathertest.ShippedItems(t)
	return writeFile(t, dir, "job.yaml", fmt.Sprintf(`database: out.db
crawl:
  name: scheduled
  start:
    url_template: %q
    ids_file: ids.txt
  parallelism: %d
  refresh_after: %s
%s
schedule:
  cron: "@every %s"
`, demo.PageURL(site.URL, "{id}"), parallelism, refresh, s, every))
}

type runRow struct {
	id                int64
	started, finished string
	status            string
}

func runRows(t *testing.T, db string) []runRow {
	t.Helper()
	d := gathertest.OpenDB(t, db)
	defer d.Close()
	rows, err := d.Query("SELECT id, started_at, coalesce(finished_at, ''), status FROM gather_runs ORDER BY started_at")
	if err != nil {
		return nil // not created yet
	}
	defer rows.Close()
	var out []runRow
	for rows.Next() {
		var r runRow
		rows.Scan(&r.id, &r.started, &r.finished, &r.status)
		out = append(out, r)
	}
	return out
}

// noOverlap fails if one run of the job started before another ended.
func noOverlap(t *testing.T, runs []runRow) {
	t.Helper()
	for i := 1; i < len(runs); i++ {
		prev := runs[i-1]
		if prev.finished != "" && runs[i].started < prev.finished {
			t.Errorf("run %d started %s, before run %d finished at %s", runs[i].id, runs[i].started, prev.id, prev.finished)
		}
	}
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var listenRe = regexp.MustCompile(`serving /healthz and /metrics.*address=(\S+)`)

// scrapeMetrics GETs /metrics at addr and parses the exposition.
func scrapeMetrics(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return families
}

// gather schedule as a process, a smoke test (schedule/ tests timing,
// skips, jitter, refreshes and metrics on a clock of its own): it runs the
// job, serves /healthz and /metrics, and exits 0 on SIGTERM with the file
// sound.
func TestProcess_Schedule(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	site, err := demo.New(demo.Options{}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	dir := t.TempDir()
	cfg := scheduleConfig(t, dir, site, "1s", "1h", 4, 8)
	db := filepath.Join(dir, "out.db")
	cmd, out := gatherProcess(t, "schedule", "-c", cfg, "--listen", "127.0.0.1:0")
	defer cmd.Process.Kill()

	waitFor(t, "the first run", 10*time.Second, func() bool {
		_, err := os.Stat(db)
		runs := runRows(t, db)
		return err == nil && len(runs) > 0 && runs[0].status == "finished"
	})
	m := listenRe.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no listen address in the log:\n%s", out)
	}
	resp, err := http.Get("http://" + m[1] + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	// The run is finished in the database a moment before the scheduler,
	// to which the crawl then returns, counts it: wait for that.
	var families map[string]*dto.MetricFamily
	waitFor(t, "the run in the metrics", 10*time.Second, func() bool {
		families = scrapeMetrics(t, m[1])
		return families["gather_last_success_timestamp_seconds"] != nil
	})
	for _, name := range []string{"gather_runs_total", "gather_pages_total", "gather_items_total", "gather_pages_changed_total",
		"gather_last_success_timestamp_seconds", "gather_requests_in_flight", "gather_runs_skipped_total",
		"gather_browser_pages_total", "gather_challenges_solved_total"} {
		if families[name] == nil {
			t.Errorf("metric %s missing", name)
		}
	}
	if got := counter(families["gather_pages_total"], "status", "ok"); got != 8 {
		t.Errorf("gather_pages_total{status=ok} = %v, want the 8 pages of the first run", got)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	stopped := time.Now()
	if code := exitCodeOf(cmd.Wait()); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0\n%s", code, out)
	}
	if d := time.Since(stopped); d > 5*time.Second {
		t.Errorf("took %s to stop", d)
	}
	noOverlap(t, runRows(t, db))
	integrity(t, db)
}

// counter is the value of the metric of family f whose label is value.
func counter(f *dto.MetricFamily, label, value string) float64 {
	for _, mt := range f.GetMetric() {
		for _, l := range mt.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				return mt.GetCounter().GetValue()
			}
		}
	}
	return -1
}

// Two schedule processes on one database: no two runs of the job overlap,
// the loser of each race logs a skip, and when the lease holder is killed
// the other takes the job over.
func TestProcess_TwoSchedulersOneJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	site, err := demo.New(demo.Options{Latency: 150 * time.Millisecond}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	dir := t.TempDir()
	cfg := scheduleConfig(t, dir, site, "1s", "100ms", 2, 16)
	db := filepath.Join(dir, "out.db")
	a, outA := gatherProcess(t, "schedule", "-c", cfg, "--lease", "2s")
	defer a.Process.Kill()
	b, outB := gatherProcess(t, "schedule", "-c", cfg, "--lease", "2s")
	defer b.Process.Kill()
	waitFor(t, "two runs", 30*time.Second, func() bool {
		_, err := os.Stat(db)
		return err == nil && len(runRows(t, db)) >= 2
	})
	skips := strings.Count(outA.String()+outB.String(), "run skipped")
	if skips == 0 {
		t.Errorf("no skipped run logged by either process:\nA:\n%s\nB:\n%s", outA, outB)
	}
	// Kill whichever holds the lease now (wait for a run to be going).
	var holder string
	waitFor(t, "a run holding the lease", 10*time.Second, func() bool {
		d := gathertest.OpenDB(t, db)
		defer d.Close()
		return d.QueryRow("SELECT owner FROM gather_locks WHERE job = 'scheduled'").Scan(&holder) == nil
	})
	victim, survivor, survivorOut := a, b, outB
	if !strings.HasSuffix(holder, fmt.Sprintf(":%d", a.Process.Pid)) {
		victim, survivor, survivorOut = b, a, outA
	}
	victim.Process.Signal(syscall.SIGKILL)
	victim.Wait()
	killedAt := time.Now()
	before := len(runRows(t, db))
	waitFor(t, "the other process to take the job over", 15*time.Second, func() bool {
		for _, r := range runRows(t, db)[before:] {
			if r.status == "finished" {
				return true
			}
		}
		return false
	})
	t.Logf("taken over %s after the kill", time.Since(killedAt).Round(100*time.Millisecond))
	survivor.Process.Signal(syscall.SIGTERM)
	if code := exitCodeOf(survivor.Wait()); code != 0 {
		t.Errorf("survivor exit %d\n%s", code, survivorOut)
	}
	runs := runRows(t, db)
	noOverlap(t, runs)
	integrity(t, db)
	running := 0
	for _, r := range runs {
		if r.status == "running" {
			running++
		}
	}
	if running != 0 {
		t.Errorf("%d runs left 'running'", running)
	}
	sc := bufio.NewScanner(strings.NewReader(survivorOut.String()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "level=ERROR") {
			t.Errorf("survivor logged an error: %s", sc.Text())
		}
	}
}
