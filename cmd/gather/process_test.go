package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// TestMain lets the test binary act as the gather command, so process
// tests can kill a real gather without building it first.
func TestMain(m *testing.M) {
	switch os.Getenv("GATHER_TEST_EXEC") {
	case "1":
		os.Exit(run())
	case "crash":
		// A crash as gather's run sets crashes up: see
		// TestProcess_CrashIsNotAUsageError. A small stack overflows
		// sooner, and no core file is left behind.
		crashNotUsage()
		debug.SetMaxStack(16 << 20)
		syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
		go crashByOverflow(0)
		select {}
	}
	os.Exit(m.Run())
}

// gatherProcess starts gather as a child process.
func gatherProcess(t *testing.T, args ...string) (*exec.Cmd, *gathertest.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GATHER_TEST_EXEC=1")
	out := &gathertest.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out
}

func exitCodeOf(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return -1000
	}
	return 0
}

func integrity(t *testing.T, path string) {
	t.Helper()
	db := gathertest.OpenDB(t, path)
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q %v", res, err)
	}
	db.Close()
}

func okURLs(t *testing.T, path string) []string {
	t.Helper()
	db := gathertest.OpenDB(t, path)
	defer db.Close()
	rows, err := db.Query("SELECT url FROM gather_pages WHERE status = 'ok'")
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil
		}
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		rows.Scan(&u)
		out = append(out, u)
	}
	return out
}

func processConfig(t *testing.T, site *demo.Server, n int) (cfgPath, dbPath string) {
	t.Helper()
	dir := t.TempDir()
	var ids strings.Builder
	for _, id := range demo.IDs(n) {
		ids.WriteString(id + "\n")
	}
	writeFile(t, dir, "ids.txt", ids.String())
	s := gathertest.ShippedItems(t)
	cfgPath = writeFile(t, dir, "job.yaml", fmt.Sprintf(`database: out.db
crawl:
  name: process
  start:
    url_template: %q
    ids_file: ids.txt
  parallelism: 8
%s`, demo.PageURL(site.URL, "{id}"), s))
	return cfgPath, filepath.Join(dir, "out.db")
}

// SIGKILL at random moments, several times, then a final run: the database
// passes integrity_check after every kill, ends equal to the ground truth
// with no duplicates, and no page already ok was fetched again.
func TestProcess_KillNineAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	site, err := demo.New(demo.Options{Latency: 40 * time.Millisecond, Track: true}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	const n = 400
	cfg, db := processConfig(t, site, n)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d", seed)
	// countsWhenOK remembers, for each page seen ok after a kill, how many
	// times the site had served it then.
	countsWhenOK := map[string]int{}
	killed := 0
	for round := 0; round < 4; round++ {
		cmd, out := gatherProcess(t, "crawl", "-c", cfg)
		time.Sleep(time.Duration(150+rng.IntN(1200)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		if code := exitCodeOf(cmd.Wait()); code == -int(syscall.SIGKILL) {
			killed++
		} else {
			t.Logf("round %d ended before the kill (exit %d): %s", round, code, out)
		}
		if _, err := os.Stat(db); err != nil {
			continue
		}
		integrity(t, db)
		counts := site.Counts()
		ok := okURLs(t, db)
		for _, u := range ok {
			if _, seen := countsWhenOK[u]; !seen {
				countsWhenOK[u] = counts[strings.TrimPrefix(u, site.URL)]
			}
		}
		t.Logf("after kill %d: %d pages ok", round+1, len(ok))
	}
	if killed < 2 {
		t.Fatalf("only %d of 4 runs were killed mid-crawl", killed)
	}
	cmd, out := gatherProcess(t, "crawl", "-c", cfg)
	if code := exitCodeOf(cmd.Wait()); code != 0 {
		t.Fatalf("final run: exit %d\n%s", code, out)
	}
	integrity(t, db)
	report, err := demo.Verify(context.Background(), gathertest.OpenDB(t, db), n, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(report)
	counts := site.Counts()
	for u, c := range countsWhenOK {
		if now := counts[strings.TrimPrefix(u, site.URL)]; now != c {
			t.Errorf("%s was ok after a kill yet fetched again (%d → %d requests)", u, c, now)
		}
	}
	var runs, interrupted int
	gathertest.OpenDB(t, db).QueryRow("SELECT count(*), count(*) FILTER (WHERE status = 'running') FROM gather_runs").Scan(&runs, &interrupted)
	t.Logf("%d runs recorded, %d left 'running' by SIGKILL", runs, interrupted)
}

// SIGINT stops gracefully: exit 1, the run marked interrupted, the file
// sound; the next run completes. A second signal exits at once.
func TestProcess_Interrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	site, err := demo.New(demo.Options{Latency: 100 * time.Millisecond}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	cfg, db := processConfig(t, site, 300)
	cmd, out := gatherProcess(t, "crawl", "-c", cfg)
	// Part-way: once some pages are stored (a fixed sleep was too short
	// on a busy machine, where the process starts late).
	waitForStoredPages(t, db, 5, 30*time.Second)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	code := exitCodeOf(cmd.Wait())
	if code != 1 {
		t.Fatalf("exit %d after SIGINT, want 1\n%s", code, out)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("took %s to stop", waited)
	}
	integrity(t, db)
	var status string
	var ok int
	gathertest.OpenDB(t, db).QueryRow("SELECT status, pages_ok FROM gather_runs ORDER BY id DESC LIMIT 1").Scan(&status, &ok)
	if status != "interrupted" || ok == 0 || ok >= 300 {
		t.Errorf("run %s with %d ok pages; want interrupted part-way\n%s", status, ok, out)
	}
	if !strings.Contains(out.String(), "interrupted") {
		t.Errorf("output does not say interrupted:\n%s", out)
	}

	// Twice: the second signal exits at once.
	cmd, out = gatherProcess(t, "crawl", "-c", cfg)
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(20 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCodeOf(cmd.Wait()); code != 1 {
		t.Errorf("exit %d after two signals\n%s", code, out)
	}
	integrity(t, db)

	cmd, out = gatherProcess(t, "crawl", "-c", cfg)
	if code := exitCodeOf(cmd.Wait()); code != 0 {
		t.Fatalf("final run: exit %d\n%s", code, out)
	}
	if _, err := demo.Verify(context.Background(), gathertest.OpenDB(t, db), 300, false); err != nil {
		t.Fatal(err)
	}
}

// waitForStoredPages waits until the crawl writing db has stored n pages
// ok, or ends the test after limit.
func waitForStoredPages(t *testing.T, db string, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var ok int
		conn, err := sql.Open("sqlite3", "file:"+db+"?mode=ro&_busy_timeout=1000")
		if err == nil {
			err = conn.QueryRow("SELECT count(*) FROM gather_pages WHERE status = 'ok'").Scan(&ok)
			conn.Close()
		}
		if err == nil && ok >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the crawl stored fewer than %d pages in %s", n, limit)
}
