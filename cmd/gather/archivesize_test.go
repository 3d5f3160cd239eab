package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/crawler/archive"
	"github.com/gather-crawler/gather/demo"
)

// runsJSON is gather runs' JSON for db, newest run first.
func runsJSON(t *testing.T, db string) []map[string]any {
	t.Helper()
	code, out, errOut := runGather(t, "runs", "--db", db, "--format", "json")
	if code != exitOK {
		t.Fatalf("runs: exit %d\n%s", code, errOut)
	}
	var runs []map[string]any
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		t.Fatalf("runs --format json: %v\n%s", err, out)
	}
	return runs
}

// The archive's size is in the run's record and in gather runs: what a
// crawl wrote (every byte of its files), nothing for a re-extraction,
// which writes none. A database made before the columns still lists.
func TestRuns_ArchiveSize(t *testing.T) {
	site, err := demo.New(demo.Options{}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	dir := t.TempDir()
	cfg := demoJob(t, dir, site, 8, "title: {css: title}")
	code, out, errOut := runGather(t, "crawl", "-c", cfg)
	if code != 0 {
		t.Fatalf("crawl: exit %d\n%s\n%s", code, out, errOut)
	}
	files, err := archive.Files(filepath.Join(dir, "out.warc"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no archive files: %v", err)
	}
	var onDisk int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		onDisk += st.Size()
	}
	var exchanges int64
	for e, err := range archive.ScanAll(filepath.Join(dir, "out.warc")) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Record.Type == "response" {
			exchanges++
		}
	}
	if code, out, errOut := runGather(t, "reextract", "-c", cfg); code != 0 {
		t.Fatalf("reextract: exit %d\n%s\n%s", code, out, errOut)
	}

	db := filepath.Join(dir, "out.db")
	runs := runsJSON(t, db)
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2", len(runs))
	}
	crawl, re := runs[1], runs[0]
	if crawl["archived"] != float64(exchanges) || crawl["archive_bytes"] != float64(onDisk) {
		t.Errorf("the crawl's run says %v exchanges, %v bytes archived; the files hold %d responses, %d bytes",
			crawl["archived"], crawl["archive_bytes"], exchanges, onDisk)
	}
	if re["archived"] != float64(0) || re["archive_bytes"] != float64(0) {
		t.Errorf("the re-extraction's run says %v exchanges, %v bytes archived; it wrote none", re["archived"], re["archive_bytes"])
	}
	if !strings.Contains(out, "responses archived") {
		t.Errorf("the crawl's summary does not say what it archived:\n%s", out)
	}
	code, table, _ := runGather(t, "runs", "--db", db, "--format", "table")
	if code != exitOK || !strings.Contains(strings.Split(table, "\n")[0], "archive_bytes") {
		t.Errorf("runs table:\n%s", table)
	}

	// A database from before the columns (dropped here) still lists.
	sqldb, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`ALTER TABLE gather_runs DROP COLUMN archived`, `ALTER TABLE gather_runs DROP COLUMN archive_bytes`} {
		if _, err := sqldb.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	sqldb.Close()
	if runs := runsJSON(t, db); len(runs) != 2 || runs[1]["archive_bytes"] != float64(0) {
		t.Errorf("runs of an older database: %v", runs)
	}
}
