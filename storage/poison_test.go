package storage_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gather-crawler/gather/storage"
)

// poisonRun is one run of job "job" in its own Store, as one process: it
// starts, extracts pages (ending those in done), and dies, or finishes when
// finish is set. quarantined says what it found quarantined as it started.
func poisonRun(t *testing.T, path string, extracting, done []string, finish bool) (run int64, quarantined func(string) bool) {
	t.Helper()
	ctx := context.Background()
	s, err := storage.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close() // without FinishRun: the process died
	if _, err := s.MarkAbandonedRuns(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	q := map[string]bool{}
	for _, u := range []string{pageP, pageQ, pageR} {
		q[u] = s.Quarantined("job", u)
	}
	run, err = s.StartRun(ctx, "job", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range extracting {
		s.BeginExtract("job", run, u)
	}
	for _, u := range done {
		s.BeginExtract("job", run, u)()
	}
	if finish {
		if err := s.FinishRun(ctx, run, storage.RunFinished, storage.RunCounts{}, time.Now(), ""); err != nil {
			t.Fatal(err)
		}
	}
	return run, func(u string) bool { return q[u] }
}

const pageP, pageQ, pageR = "http://127.0.0.1/poison", "http://127.0.0.1/once", "http://127.0.0.1/done"

// A page being extracted when two runs in a row died is quarantined; one
// that was being extracted at one death only, or at two deaths with a run
// between them, or whose extraction had returned, is not.
func TestPoison_TwoCrashesInARowQuarantine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	p, q, r := pageP, pageQ, pageR
	poisonRun(t, path, []string{p, q}, []string{r}, false)
	if matches, _ := filepath.Glob(path + "-extracting-*"); len(matches) != 1 {
		t.Fatalf("extraction files %v, want the dead run's", matches)
	}
	_, seen := poisonRun(t, path, []string{p}, []string{q, r}, false)
	if seen(p) || seen(q) {
		t.Error("quarantined after one crash")
	}
	_, seen = poisonRun(t, path, nil, []string{p, q, r}, true)
	if !seen(p) || seen(q) || seen(r) {
		t.Errorf("after two crashes: quarantined %v %v %v, want only %s", seen(p), seen(q), seen(r), p)
	}
	got := rows(t, path, "SELECT url || ' ' || run FROM gather_crashes ORDER BY run, url")
	if want := []string{q + " 1", p + " 1", p + " 2"}; !slices.Equal(got, want) {
		t.Errorf("gather_crashes %q, want %q", got, want)
	}
	if matches, _ := filepath.Glob(path + "-extracting-*"); len(matches) != 0 {
		t.Errorf("a finished run left %v", matches)
	}
	// The quarantine stays, whatever the runs after do, until the rows go.
	_, seen = poisonRun(t, path, nil, nil, true)
	if !seen(p) {
		t.Error("quarantine lifted by a run")
	}
	db := openRW(t, path)
	if _, err := db.Exec("DELETE FROM gather_crashes WHERE url = ?", p); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, seen = poisonRun(t, path, nil, []string{p}, true)
	if seen(p) {
		t.Error("quarantined after its rows were deleted")
	}
}

// Two deaths with a run between them that finished are not in a row.
func TestPoison_CrashesApartDoNotQuarantine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	p := pageP
	poisonRun(t, path, []string{p}, nil, false)
	poisonRun(t, path, nil, []string{p}, true)
	poisonRun(t, path, []string{p}, nil, false)
	if _, seen := poisonRun(t, path, nil, []string{p}, true); seen(p) {
		t.Error("quarantined for two crashes a run apart")
	}
}

// The jobs of one database keep apart: a crash of one quarantines nothing
// for the other, and reading one job's file leaves the other's alone.
func TestPoison_JobsApart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	ctx := context.Background()
	s := open(t, path)
	other, err := s.StartRun(ctx, "other job", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s.BeginExtract("other job", other, pageP)
	poisonRun(t, path, []string{pageP}, nil, false)
	poisonRun(t, path, []string{pageP}, nil, false)
	if _, seen := poisonRun(t, path, []string{pageP}, nil, true); !seen(pageP) {
		t.Error("job: not quarantined")
	}
	if s.Quarantined("other job", pageP) {
		t.Error("other job: quarantined by job's crashes")
	}
	if matches, _ := filepath.Glob(path + "-extracting-*"); len(matches) != 1 {
		t.Errorf("extraction files %v, want the other job's", matches)
	}
}

// A garbled or cut extraction file records what it can and no more.
func TestPoison_GarbledFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	poisonRun(t, path, []string{pageP, pageQ}, nil, false)
	matches, _ := filepath.Glob(path + "-extracting-*")
	if len(matches) != 1 {
		t.Fatal(matches)
	}
	b, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	// The first slot's URL garbled, the second cut short.
	b[20] ^= 1
	if err := os.WriteFile(matches[0], b[:8<<10+20], 0o644); err != nil {
		t.Fatal(err)
	}
	poisonRun(t, path, nil, nil, true)
	if got := rows(t, path, "SELECT count(*) FROM gather_crashes"); !slices.Equal(got, []string{"0"}) {
		t.Errorf("gather_crashes holds %v rows, want none from a garbled or cut slot", got)
	}
}

func openRW(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=2000")
	if err != nil {
		t.Fatal(err)
	}
	return db
}
