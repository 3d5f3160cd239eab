package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/storage"
)

// slowExtractionJob serves four pages, one of which takes a minute to
// extract (an XPath quadratic in its 10,000 links), and writes a job for
// them, without an extraction deadline.
func slowExtractionJob(t *testing.T) (cfg, db, slowURL string) {
	t.Helper()
	slow := "<html><body>" + strings.Repeat("<a>x</a>", 10000) + "</body></html>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/slow" {
			fmt.Fprint(w, slow)
			return
		}
		fmt.Fprintf(w, "<html><head><title>%s</title></head><body><a>1</a><a>2</a></body></html>", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg = writeFile(t, dir, "job.yaml", fmt.Sprintf(`database: out.db
crawl:
  name: poison
  start:
    urls: ["%[1]s/ok1", "%[1]s/ok2", "%[1]s/slow", "%[1]s/ok3"]
  parallelism: 1
  robots_txt: false
  extract_timeout: 1h
items:
  page:
    fields:
      title: {css: title}
      pairs: {xpath: "count(//a/following::a)", type: integer}
`, srv.URL))
	return cfg, filepath.Join(dir, "out.db"), srv.URL + "/slow"
}

// SIGTERM reaches a page's extraction: the run stops within seconds, not
// once the page is done, and the page stays pending for the next run.
func TestProcess_SigtermStopsExtraction(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	cfg, db, slowURL := slowExtractionJob(t)
	cmd, out := gatherProcess(t, "crawl", "-c", cfg)
	if !waitExtracting(t, db, 1, slowURL, 60*time.Second) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("%s never extracted\n%s", slowURL, out)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	timer := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	code := exitCodeOf(cmd.Wait())
	if took := time.Since(start); code != 1 || took > 5*time.Second {
		t.Fatalf("exit %d %s after SIGTERM; want 1 within seconds\n%s", code, took, out)
	}
	conn := gathertest.OpenDB(t, db)
	var status, run string
	conn.QueryRow("SELECT status FROM gather_pages WHERE url = ?", slowURL).Scan(&status)
	conn.QueryRow("SELECT status FROM gather_runs").Scan(&run)
	if status != storage.PagePending || run != storage.RunInterrupted {
		t.Errorf("page %s, run %s; want pending, interrupted", status, run)
	}
}

// A page whose extraction was under way when the process died twice in a
// row is quarantined by the third run, which records it failed with that
// reason, does not extract it, and finishes. The process is killed (-9)
// while that page is extracted, which its XPath makes take seconds.
func TestProcess_PoisonPageQuarantined(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	cfg, db, slowURL := slowExtractionJob(t)
	for round := 1; round <= 2; round++ {
		cmd, out := gatherProcess(t, "crawl", "-c", cfg)
		if !waitExtracting(t, db, round, slowURL, 60*time.Second) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("run %d: %s never extracted\n%s", round, slowURL, out)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		if code := exitCodeOf(cmd.Wait()); code != -int(syscall.SIGKILL) {
			t.Fatalf("run %d ended before the kill (exit %d)\n%s", round, code, out)
		}
		integrity(t, db)
	}
	cmd, out := gatherProcess(t, "crawl", "-c", cfg)
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() }) // it extracted the page after all
	defer timer.Stop()
	if code := exitCodeOf(cmd.Wait()); code != 0 {
		t.Fatalf("third run: exit %d, want 0\n%s", code, out)
	}
	conn := gathertest.OpenDB(t, db)
	defer conn.Close()
	var status, reason string
	if err := conn.QueryRow("SELECT status, coalesce(error, '') FROM gather_pages WHERE url = ?", slowURL).Scan(&status, &reason); err != nil {
		t.Fatal(err)
	}
	if status != storage.PageFailed || reason != storage.QuarantineReason {
		t.Errorf("%s: %s %q, want failed for crashing the crawler twice", slowURL, status, reason)
	}
	var ok, crashes int
	var last string
	conn.QueryRow("SELECT count(*) FROM gather_pages WHERE status = 'ok'").Scan(&ok)
	conn.QueryRow("SELECT count(*) FROM gather_crashes WHERE url = ?", slowURL).Scan(&crashes)
	conn.QueryRow("SELECT status || ' ' || pages_failed FROM gather_runs ORDER BY id DESC LIMIT 1").Scan(&last)
	if ok != 3 || crashes != 2 || last != "finished 1" {
		t.Errorf("%d pages ok, %d crashes recorded, last run %q; want 3, 2, finished with 1 page failed\n%s", ok, crashes, last, out)
	}
	if !strings.Contains(out.String(), "crashed the crawler twice") {
		t.Errorf("the run's log does not say why the page failed:\n%s", out)
	}
}

// waitExtracting reports whether run has started and url appears, within
// d, in the file where the run records the pages it is extracting (the run
// before it left one, which the run reads and removes before it starts).
func waitExtracting(t *testing.T, db string, run int, url string, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		var runs int
		if _, err := os.Stat(db); err != nil {
			continue
		}
		conn := gathertest.OpenDB(t, db)
		err := conn.QueryRow("SELECT count(*) FROM gather_runs").Scan(&runs)
		conn.Close()
		if err != nil || runs < run {
			continue
		}
		files, _ := filepath.Glob(db + "-extracting-*")
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(url)) {
				return true
			}
		}
	}
	return false
}
