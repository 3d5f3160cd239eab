package main

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// demoDB crawls 12 demo pages into a fresh database and returns its path.
func demoDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "demo.db")
	if code, out, errOut := runGather(t, "demo", "--n", "12", "--latency", "0", "--db", db, "-c", "../../config.yaml"); code != exitOK {
		t.Fatalf("demo: %d\n%s\n%s", code, out, errOut)
	}
	return db
}

func TestQuery_Formats(t *testing.T) {
	db := demoDB(t)
	q := "SELECT movie_id, year FROM movies ORDER BY movie_id LIMIT 2"
	code, out, errOut := runGather(t, "query", "--db", db, q)
	if code != exitOK || !strings.HasPrefix(out, "movie_id,year\r\ntt0000001,") {
		t.Errorf("default (not a terminal) should be CSV: %d %q %s", code, out, errOut)
	}
	code, out, _ = runGather(t, "query", "--db", db, "--format", "json", q)
	var got []map[string]any
	if code != exitOK || json.Unmarshal([]byte(out), &got) != nil || len(got) != 2 || got[0]["movie_id"] != "tt0000001" {
		t.Errorf("json: %d %s", code, out)
	}
	if _, ok := got[0]["year"].(float64); !ok {
		t.Errorf("year is not a JSON number: %v", got[0])
	}
	code, out, _ = runGather(t, "query", "--db", db, "--format", "jsonl", q)
	if code != exitOK || strings.Count(out, "\n") != 2 {
		t.Errorf("jsonl: %s", out)
	}
	code, out, _ = runGather(t, "query", "--db", db, "--format", "table", "SELECT", "count(*)", "AS", "n", "FROM", "movies")
	if code != exitOK || out != " n\n--\n12\n" {
		t.Errorf("table: %q", out)
	}
	if code, _, _ := runGather(t, "query", "--db", db, "--format", "xml", q); code != exitUsage {
		t.Errorf("--format xml: exit %d", code)
	}
}

func TestQuery_RefusedStatementsLeaveTheFileAlone(t *testing.T) {
	db := demoDB(t)
	before, _ := os.ReadFile(db)
	entries, _ := os.ReadDir(filepath.Dir(db))
	for _, q := range []string{"DELETE FROM movies", "DROP TABLE cast", "ATTACH 'x.db' AS x", "PRAGMA query_only=0",
		"SELECT 1; SELECT 2", "VACUUM INTO 'copy.db'", "CREATE TABLE t(x)", "UPDATE movies SET year = 0"} {
		code, out, errOut := runGather(t, "query", "--db", db, q)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "only one read-only statement") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", q, code, out, errOut)
		}
	}
	after, _ := os.ReadFile(db)
	if sha256.Sum256(before) != sha256.Sum256(after) {
		t.Error("database bytes changed")
	}
	if e2, _ := os.ReadDir(filepath.Dir(db)); len(e2) != len(entries) {
		t.Errorf("files in the directory: %d before, %d after", len(entries), len(e2))
	}
}

func TestQuery_HelpfulErrors(t *testing.T) {
	db := demoDB(t)
	code, _, errOut := runGather(t, "query", "--db", db, "SELECT * FROM casts")
	if code != exitUsage || !strings.Contains(errOut, "no such table: casts (tables: cast, crew, gather_archive, gather_changes, gather_crashes, gather_failures, gather_item_versions, gather_locks, gather_outcomes, gather_pages, gather_progress, gather_runs, movies)") {
		t.Errorf("unknown table: %d %s", code, errOut)
	}
	code, _, errOut = runGather(t, "query", "--db", db, "SELEC 1")
	if code != exitUsage || !strings.Contains(errOut, `near "SELEC": syntax error`) {
		t.Errorf("syntax: %d %s", code, errOut)
	}
	missing := filepath.Join(t.TempDir(), "missing.db")
	code, _, errOut = runGather(t, "query", "--db", missing, "SELECT 1")
	if code != exitRuntime || !strings.Contains(errOut, "no database at "+missing) {
		t.Errorf("missing: %d %s", code, errOut)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Error("query created the missing database")
	}
}

func TestRuns(t *testing.T) {
	db := demoDB(t)
	code, out, errOut := runGather(t, "runs", "--db", db, "--format", "table")
	if code != exitOK {
		t.Fatalf("%d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "id  job ") || !strings.Contains(lines[2], " demo ") || !strings.Contains(lines[2], " finished ") {
		t.Errorf("runs:\n%s", out)
	}
	for _, col := range []string{"started", "finished", "seconds", "status", "ok", "failed", "skipped", "items", "browser", "challenges"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("no column %s: %s", col, lines[0])
		}
	}
}

// slowCount counts to a billion: tens of seconds of work that SQLite does
// inside one step, so only an interrupt stops it early.
const slowCount = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c"

// A statement is stopped at --timeout, with a message that names the flag,
// and query exits 1; rows streaming out when the time is up stop too.
func TestQuery_TimeoutStopsTheStatement(t *testing.T) {
	db := demoDB(t)
	for _, q := range []string{slowCount, strings.Replace(slowCount, "count(*)", "x", 1)} {
		start := time.Now()
		code, _, errOut := runGather(t, "query", "--db", db, "--timeout", "1s", q)
		took := time.Since(start)
		if code != exitRuntime || errOut != "gather: query stopped after --timeout 1s (raise it, or 0 for no limit)\n" {
			t.Errorf("%.40s…: exit %d, stderr %q", q, code, errOut)
		}
		if took < time.Second || took > 10*time.Second {
			t.Errorf("%.40s…: stopped after %s, want about 1s", q, took)
		}
	}
	if code, _, errOut := runGather(t, "query", "--db", db, "--timeout", "-1s", "SELECT 1"); code != exitUsage {
		t.Errorf("--timeout -1s: exit %d %s", code, errOut)
	}
	if code, out, errOut := runGather(t, "query", "--db", db, "--timeout", "0", "SELECT count(*) FROM movies"); code != exitOK || out != "count(*)\r\n12\r\n" {
		t.Errorf("--timeout 0: exit %d %q %s", code, out, errOut)
	}
}

// Ctrl-C stops the statement at once, and says so in the query's words,
// not a crawl's.
func TestQuery_InterruptStopsTheQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	db := demoDB(t)
	cmd, out := gatherProcess(t, "query", "--db", db, slowCount)
	time.Sleep(700 * time.Millisecond)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	code := exitCodeOf(cmd.Wait())
	if code != exitRuntime {
		t.Fatalf("exit %d after SIGINT, want 1\n%s", code, out)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s to stop", took)
	}
	got := out.String()
	if !strings.Contains(got, "gather: interrupt: stopping the query (send again to exit now)") ||
		!strings.Contains(got, "gather: query stopped: received interrupt") || strings.Contains(got, "in-flight") {
		t.Errorf("output:\n%s", got)
	}
}
