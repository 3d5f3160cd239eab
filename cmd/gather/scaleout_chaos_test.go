package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/storage"
)

// waitExitWithin is waitExit with a bound of its own.
func waitExitWithin(t *testing.T, name string, cmd *exec.Cmd, out *gathertest.Buffer, d time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if code := exitCodeOf(err); code != 0 {
			t.Fatalf("%s exited %d:\n%s", name, code, out)
		}
	case <-time.After(d):
		dumpAndKill(cmd, done)
		t.Fatalf("%s did not finish within %s:\n%s", name, d, out)
	}
}

// Chaos: a worker frozen (SIGSTOP) mid-crawl and resumed only after the
// others and the sink ended the run. Its leases went to the others; what
// it hands over late waits apart from the run (which stays over), it
// exits by itself, and the crawl's next sink (here the next run's, as
// gather schedule begins it) stores its outcomes first, as the pages'
// records where newer, in the run that had them, counted by no run. Then
// a sink of another database is refused, saying whose crawl it is, and
// gather status names the crawl's database.
func TestScaleOut_WorkerFrozenPastTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and freezes processes")
	}
	s := newScaleOut(t, 150, 2, 40*time.Millisecond)
	s.seed()
	sink, sinkOut := s.start("sink")
	var workers []*exec.Cmd
	var outs []*gathertest.Buffer
	for _, name := range []string{"w0", "w1", "frozen"} {
		w, out := s.start("worker", "--name", name)
		workers, outs = append(workers, w), append(outs, out)
	}
	s.waitStored(30, time.Now().Add(60*time.Second))
	frozen := workers[2]
	frozen.Process.Signal(syscall.SIGSTOP)
	for i := range 2 {
		waitExitWithin(t, "worker", workers[i], outs[i], 60*time.Second)
	}
	waitExitWithin(t, "sink", sink, sinkOut, 30*time.Second)
	resumed := time.Now()
	frozen.Process.Signal(syscall.SIGCONT)
	waitExitWithin(t, "the worker frozen past the run", frozen, outs[2], 30*time.Second)
	st, out := s.start("status")
	waitExit(t, "status", st, out)
	if !strings.Contains(out.String(), "\nlate      ") {
		t.Errorf("status says no late outcome waits:\n%s", out)
	}
	if got := lateSince(t, s.db, resumed); got != 0 {
		t.Errorf("%d pages stored from the frozen worker before a sink ran", got)
	}
	next, nextOut := s.start("sink", "--new-run")
	waitExitWithin(t, "the next run's sink", next, nextOut, 60*time.Second)
	landed := lateSince(t, s.db, resumed)
	if landed == 0 || !strings.Contains(nextOut.String(), fmt.Sprintf("(%d stored as newer than their page's record)", landed)) {
		t.Errorf("%d pages stored from the frozen worker after the run; the next sink said:\n%s", landed, nextOut)
	}
	t.Logf("the frozen worker's late outcomes: %d stored by the next run's sink", landed)
	for path, k := range s.check() {
		// The frozen worker's page, and its taking over: twice. Under
		// -race on two busy cores a 2 s lease can also lapse once before
		// its renewal (CI saw a third fetch): three at most.
		if k > 3 {
			t.Errorf("%s fetched %d times", path, k)
		}
	}
	db := gathertest.OpenDB(t, s.db)
	// The late outcomes are pages of the first run, counted once.
	if got := gathertest.QueryString(t, db, "SELECT group_concat(status || ' ' || pages_ok, ', ') FROM gather_runs"); got != "finished 150, finished 0" {
		t.Errorf("runs: %s", got)
	}
	if got := gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_pages WHERE run <> 1"); got != 0 {
		t.Errorf("%d pages moved to the next run", got)
	}
	st, out = s.start("status")
	waitExit(t, "status", st, out)
	for _, want := range []string{"to store  0", "leased    0", "database  " + s.db} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status says:\n%s\nwant %q", out, want)
		}
	}
	other := filepath.Join(t.TempDir(), "other.db")
	o, oOut := s.start("sink", "--db", other)
	done := make(chan error, 1)
	go func() { done <- o.Wait() }()
	select {
	case err := <-done:
		if exitCodeOf(err) == 0 || !strings.Contains(oOut.String(), "belongs to another database") || !strings.Contains(oOut.String(), s.db) {
			t.Errorf("a sink of another database exited %d:\n%s", exitCodeOf(err), oOut)
		}
	case <-time.After(30 * time.Second):
		o.Process.Kill()
		<-done
		t.Errorf("a sink of another database was not refused:\n%s", oOut)
	}
}

// lateSince counts the pages stored ok from a fetch after t.
func lateSince(t *testing.T, path string, at time.Time) int64 {
	t.Helper()
	return gathertest.QueryInt(t, gathertest.OpenDB(t, path), "SELECT count(*) FROM gather_pages WHERE status = 'ok' AND fetched_at > ?", storage.FormatTime(at))
}
