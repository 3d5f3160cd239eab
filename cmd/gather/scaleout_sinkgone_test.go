package main

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/internal/redistest"
)

// Chaos: the sink killed (SIGKILL) mid-crawl, then Redis losing its data
// (no persistence, killed) while no sink runs, twice. gather runs shows
// the dead sink's run interrupted at once, not running; gather status
// says no sink runs and that the workers saw Redis restart with nobody to
// reconcile it, and records the run interrupted; the workers wait rather
// than fail. Then, with the workers killed too and Redis emptied again (so
// that nobody saw that restart), a new sink finds the server is not the
// one the database last knew, reconciles the frontier with the database
// by itself (no gather seed --resume), and the crawl ends exact.
func TestScaleOut_SinkGoneAndRedisLostWhileNoSinkRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	rs := redistest.StartWith(t, redistest.None)
	s := newScaleOutOn(t, rs, 150, 2, 40*time.Millisecond)
	s.slotsLost = true // Redis is emptied under requests in flight
	s.seed()
	deadline := time.Now().Add(60 * time.Second)
	sink, _ := s.start("sink")
	var workers []*exec.Cmd
	for i := range 2 {
		w, _ := s.start("worker", "--name", fmt.Sprintf("w%d", i))
		workers = append(workers, w)
	}
	kill := func(cmd *exec.Cmd) {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	s.waitStored(40, deadline)
	kill(sink)

	// Its process is gone: gather runs shows the run interrupted at once.
	code, out, errOut := runGather(t, "runs", "--db", s.db, "--format", "csv")
	if code != 0 || !strings.Contains(out, ",interrupted,") || strings.Contains(out, ",running,") {
		t.Errorf("gather runs (exit %d) after the sink was killed:\n%s%s", code, out, errOut)
	}

	rs.Kill()
	rs.StartAgain(t)
	var status string
	for {
		st, out := s.start("status")
		waitExit(t, "status", st, out)
		status = out.String()
		if strings.Contains(status, "\nrestarted ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gather status does not say the frontier waits for a sink:\n%s", status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, want := range []string{"sink      none runs", "saw Redis restart", "pages wait until a sink starts"} {
		if !strings.Contains(status, want) {
			t.Errorf("gather status says:\n%s\nwant %q", status, want)
		}
	}
	db := gathertest.OpenDB(t, s.db)
	if got := gathertest.QueryString(t, db, "SELECT group_concat(status, ',') FROM gather_runs"); got != "interrupted" {
		t.Errorf("after gather status, gather_runs: %s", got)
	}
	for i, w := range workers {
		if w.ProcessState != nil {
			t.Fatalf("worker %d ended while it waited for a sink: %v", i, w.ProcessState)
		}
		kill(w)
	}

	// Nobody sees this one.
	rs.Kill()
	rs.StartAgain(t)
	sink, sinkOut := s.start("sink")
	w, wOut := s.start("worker", "--name", "w2")
	waitExit(t, "worker", w, wOut)
	waitExit(t, "sink", sink, sinkOut)
	if !strings.Contains(sinkOut.String(), "Redis restarted since the frontier was last reconciled with this database") {
		t.Errorf("the sink said:\n%s", sinkOut)
	}
	s.check()
	if got := gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_pages WHERE status <> 'ok'"); got != 0 {
		t.Errorf("%d pages not ok", got)
	}
	first := gathertest.QueryInt(t, db, "SELECT pages_ok FROM gather_runs WHERE id = 1")
	if got, want := gathertest.QueryString(t, db, "SELECT group_concat(status || ' ' || pages_ok, ', ') FROM gather_runs"), fmt.Sprintf("interrupted %d, finished %d", first, 150-first); got != want {
		t.Errorf("runs: %s, want %s", got, want)
	}
}
