package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gather-crawler/gather/demo"
)

func scheduleConfig(t *testing.T, dir string, site *demo.Server, every string, refresh string, parallelism int, ids int) string {
	t.Helper()
	var b strings.Builder
	for _, id := range demo.IDs(ids) {
		b.WriteString(id + "\n")
	}
	writeFile(t, dir, "ids.txt", b.String())
	s := shippedItems(t)
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
	d := readDB(t, db)
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

// gather schedule as a process: runs every 2s against a site whose content
// changes, refetching only pages older than refresh_after, picking up new
// ids, recording exactly the site's changes, serving metrics, and exiting
// 0 on SIGTERM.
func TestProcess_Schedule(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	changing := map[string]bool{demo.ID(1): true, demo.ID(2): true, demo.ID(3): true}
	var site *demo.Server
	site, err := demo.New(demo.Options{Track: true, Version: func(id string) int {
		if !changing[id] {
			return 0
		}
		return site.Count("/title/"+id+"/fullcredits") - 1 // each fetch serves a new version
	}}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	dir := t.TempDir()
	cfg := scheduleConfig(t, dir, site, "2s", "3s", 4, 8)
	db := filepath.Join(dir, "out.db")
	start := time.Now()
	cmd, out := gatherProcess(t, "schedule", "-c", cfg, "--listen", "127.0.0.1:0")
	defer cmd.Process.Kill()

	waitFor(t, "the first run", 10*time.Second, func() bool {
		_, err := os.Stat(db)
		runs := runRows(t, db)
		return err == nil && len(runs) > 0 && runs[0].status == "finished"
	})
	// New ids appear in the list between runs.
	f, _ := os.OpenFile(filepath.Join(dir, "ids.txt"), os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "%s\n%s\n", demo.ID(9), demo.ID(10))
	f.Close()
	waitFor(t, "five runs", 20*time.Second, func() bool { return len(runRows(t, db)) >= 5 })

	m := listenRe.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no listen address in the log:\n%s", out)
	}
	resp, err := http.Get("http://" + m[1] + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	for _, name := range []string{"gather_runs_total", "gather_pages_total", "gather_items_total", "gather_pages_changed_total",
		"gather_last_success_timestamp_seconds", "gather_requests_in_flight", "gather_runs_skipped_total"} {
		if families[name] == nil {
			t.Errorf("metric %s missing", name)
		}
	}
	finished := 0.0
	for _, mt := range families["gather_runs_total"].GetMetric() {
		for _, l := range mt.GetLabel() {
			if l.GetName() == "status" && l.GetValue() == "finished" {
				finished = mt.GetCounter().GetValue()
			}
		}
	}
	if finished < 4 {
		t.Errorf("gather_runs_total{status=finished} = %v, want ≥ 4", finished)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	stopped := time.Now()
	if code := exitCodeOf(cmd.Wait()); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0\n%s", code, out)
	}
	if d := time.Since(stopped); d > 5*time.Second {
		t.Errorf("took %s to stop", d)
	}
	t.Logf("%d runs in %s", len(runRows(t, db)), time.Since(start).Round(time.Second))
	noOverlap(t, runRows(t, db))
	integrity(t, db)

	// Only stale pages were re-fetched: fetches of a page are at least
	// refresh_after (3s) apart, less the time a run takes to get to it.
	times := map[string][]time.Time{}
	for _, r := range site.Log() {
		if strings.HasPrefix(r.Path, "/title/") {
			times[r.Path] = append(times[r.Path], r.At)
		}
	}
	for path, ts := range times {
		for i := 1; i < len(ts); i++ {
			if gap := ts[i].Sub(ts[i-1]); gap < 2500*time.Millisecond {
				t.Errorf("%s fetched again after %s, before it went stale (refresh_after 3s)", path, gap)
			}
		}
		if len(ts) < 2 && !strings.Contains(path, demo.ID(9)) && !strings.Contains(path, demo.ID(10)) {
			t.Errorf("%s fetched only %d times in several runs", path, len(ts))
		}
	}
	for _, id := range []string{demo.ID(9), demo.ID(10)} {
		if site.Count("/title/"+id+"/fullcredits") == 0 {
			t.Errorf("%s, added to ids_file, was never fetched", id)
		}
	}

	// gather_changes lists exactly what the site changed.
	d := readDB(t, db)
	for _, id := range demo.IDs(10) {
		url := demo.PageURL(site.URL, id)
		got := changeRows(t, d, url)
		if !changing[id] {
			if len(got) != 0 {
				t.Errorf("%s never changed, yet gather_changes has %v", id, got)
			}
			continue
		}
		fetches := site.Count("/title/" + id + "/fullcredits")
		if len(got) != fetches-1 && len(got) != fetches-2 { // the last fetch may have been cut short by SIGTERM
			t.Errorf("%s: %d change rows after %d fetches", id, len(got), fetches)
		}
		for k, row := range got {
			if want := expectedChange(id, k+1); row != want {
				t.Errorf("%s change %d: got %s, want %s", id, k+1, row, want)
			}
		}
	}
}

func changeRows(t *testing.T, d *sql.DB, url string) []string {
	t.Helper()
	rows, err := d.Query("SELECT item, added, removed, modified, detail FROM gather_changes WHERE url = ? ORDER BY run, item", url)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var item, detail string
		var a, r, m int
		rows.Scan(&item, &a, &r, &m, &detail)
		out = append(out, fmt.Sprintf("%s +%d -%d ~%d %s", item, a, r, m, detail))
	}
	return out
}

// expectedChange diffs the site's ground truth of id between versions v-1
// and v, the way gather_changes reports it (cast is the item that changes).
func expectedChange(id string, v int) string {
	before := demo.Expected([]string{id}, false, func(string) int { return v - 1 })["cast"]
	after := demo.Expected([]string{id}, false, func(string) int { return v })["cast"]
	var added, removed, modified []string
	for k, row := range after {
		if old, ok := before[k]; !ok {
			added = append(added, k)
		} else if old != row {
			modified = append(modified, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			removed = append(removed, k)
		}
	}
	js := func(keys []string) string {
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			mv := strings.SplitN(k, "|", 2)
			parts[i] = fmt.Sprintf(`[%q,%q]`, mv[0], mv[1])
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprintf(`cast +%d -%d ~%d {"added":%s,"modified":%s,"removed":%s}`, len(added), len(removed), len(modified), js(added), js(modified), js(removed))
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
	waitFor(t, "four runs", 30*time.Second, func() bool {
		_, err := os.Stat(db)
		return err == nil && len(runRows(t, db)) >= 4
	})
	skips := strings.Count(outA.String()+outB.String(), "run skipped")
	if skips == 0 {
		t.Errorf("no skipped run logged by either process:\nA:\n%s\nB:\n%s", outA, outB)
	}
	// Kill whichever holds the lease now (wait for a run to be going).
	var holder string
	waitFor(t, "a run holding the lease", 10*time.Second, func() bool {
		d := readDB(t, db)
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
