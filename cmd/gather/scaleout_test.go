package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/internal/redistest"
)

// scaleOut is a shared crawl of n demo movies spread over three demo
// hosts, through a real redis-server, by gather processes.
type scaleOut struct {
	t           *testing.T
	redis       *redistest.Server
	sites       []*demo.Server
	cfg, db     string
	n           int
	parallelism int
	// started are the processes' outputs, shown when the test fails:
	// a process that hangs is told by what the others said.
	started []startedProcess
	// lease is --lease for every command (default 2s: a killed worker's
	// pages go to others quickly).
	lease string
	// slotsLost: Redis loses its data mid-crawl, the host slots of the
	// requests in flight with it, so a host may briefly see more than
	// crawl.parallelism (docs/scaleout.md): check logs it, not fails.
	slotsLost bool
}

type startedProcess struct {
	args string
	out  *gathertest.Buffer
}

func newScaleOut(t *testing.T, n, parallelism int, latency time.Duration) *scaleOut {
	t.Helper()
	return newScaleOutOn(t, redistest.Start(t), n, parallelism, latency)
}

// newScaleOutOn is newScaleOut through the redis-server rs.
func newScaleOutOn(t *testing.T, rs *redistest.Server, n, parallelism int, latency time.Duration) *scaleOut {
	t.Helper()
	s := &scaleOut{t: t, redis: rs, n: n, parallelism: parallelism}
	for range 3 {
		site, err := demo.New(demo.Options{Latency: latency, Track: true}).Start("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { site.Close() })
		s.sites = append(s.sites, site)
	}
	dir := t.TempDir()
	var urls strings.Builder
	for i, id := range demo.IDs(n) {
		fmt.Fprintf(&urls, "      - %q\n", demo.PageURL(s.sites[i%3].URL, id))
	}
	s.cfg = writeFile(t, dir, "job.yaml", fmt.Sprintf(`database: out.db
frontier: %s
crawl:
  name: scaleout
  timeout: 5s
  start:
    urls:
%s  parallelism: %d
%s`, s.redis.URL(), urls.String(), parallelism, gathertest.ShippedItems(t)))
	s.db = filepath.Join(dir, "out.db")
	return s
}

// start starts a gather command of the shared crawl.
func (s *scaleOut) start(args ...string) (*exec.Cmd, *gathertest.Buffer) {
	lease := s.lease
	if lease == "" {
		lease = "2s"
	}
	cmd, out := gatherProcess(s.t, append(args, "-c", s.cfg, "--lease", lease)...)
	if len(s.started) == 0 {
		s.t.Cleanup(func() {
			if !s.t.Failed() {
				return
			}
			for _, p := range s.started {
				s.t.Logf("gather %s said:\n%s", p.args, p.out)
			}
		})
	}
	s.started = append(s.started, startedProcess{args: strings.Join(args, " "), out: out})
	return cmd, out
}

// stored is how many pages the database holds as ok (0 before it exists).
func (s *scaleOut) stored() int {
	if _, err := os.Stat(s.db); err != nil {
		return 0
	}
	return len(okURLs(s.t, s.db))
}

// waitStored waits until at least k pages are stored.
func (s *scaleOut) waitStored(k int, deadline time.Time) {
	s.t.Helper()
	for s.stored() < k {
		if time.Now().After(deadline) {
			s.t.Fatalf("%d pages stored, waited for %d", s.stored(), k)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// check holds the database to the ground truth and each host to the
// parallelism limit, and returns how often the site served each page.
func (s *scaleOut) check() map[string]int {
	s.t.Helper()
	integrity(s.t, s.db)
	db := gathertest.OpenDB(s.t, s.db)
	if msg, err := demo.Verify(context.Background(), db, s.n, false); err != nil {
		s.t.Fatal(err)
	} else {
		s.t.Log(msg)
	}
	var pages, dups int
	if err := db.QueryRow("SELECT count(*), count(*) - count(DISTINCT url) FROM gather_pages WHERE status = 'ok'").Scan(&pages, &dups); err != nil {
		s.t.Fatal(err)
	}
	if pages != s.n || dups != 0 {
		s.t.Fatalf("gather_pages holds %d ok pages (%d duplicates), want %d", pages, dups, s.n)
	}
	fetched := map[string]int{}
	for i, site := range s.sites {
		if m := site.MaxInFlight(); m > int64(s.parallelism) && s.slotsLost {
			s.t.Logf("host %d saw %d requests at once (parallelism %d): Redis lost the slots of requests in flight", i, m, s.parallelism)
		} else if m > int64(s.parallelism) {
			s.t.Errorf("host %d saw %d requests at once, want at most %d across all workers", i, m, s.parallelism)
		}
		for path, k := range site.Counts() {
			if strings.Contains(path, "/title/") {
				fetched[path] += k
			}
		}
	}
	return fetched
}

func waitExit(t *testing.T, name string, cmd *exec.Cmd, out *gathertest.Buffer) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if code := exitCodeOf(err); code != 0 {
			t.Fatalf("%s exited %d:\n%s", name, code, out)
		}
	case <-time.After(90 * time.Second):
		dumpAndKill(cmd, done)
		t.Fatalf("%s did not finish:\n%s", name, out)
	}
}

// dumpAndKill ends a process that hung: SIGQUIT first, so that its output
// ends with every goroutine's stack (the Go runtime's dump), which tells
// where it waits; SIGKILL if it has not gone after that. done is cmd.Wait's.
func dumpAndKill(cmd *exec.Cmd, done <-chan error) {
	cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-done:
		return
	case <-time.After(5 * time.Second):
	}
	cmd.Process.Kill()
	<-done
}

func (s *scaleOut) seed() {
	s.t.Helper()
	cmd, out := s.start("seed")
	waitExit(s.t, "seed", cmd, out)
	if want := fmt.Sprintf("%d start URLs read, %d queued", s.n, s.n); !strings.Contains(out.String(), want) {
		s.t.Fatalf("seed said:\n%s\nwant %q", out, want)
	}
}

// Three worker processes and a sink: the database equals the ground
// truth, the server saw each page once, and no host had more requests in
// flight than crawl.parallelism across the workers.
func TestScaleOut_ThreeWorkersAndASink(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	s := newScaleOut(t, 240, 2, 20*time.Millisecond)
	// No worker dies here, so none may be taken for dead: a 2 s lease
	// lapsed under -race on two cores shared with other work (renewals
	// every 667 ms missed their deadline on every worker at once), and a
	// page was fetched twice.
	s.lease = "10s"
	s.seed()
	sink, sinkOut := s.start("sink")
	var workers []*exec.Cmd
	var outs []*gathertest.Buffer
	for i := range 3 {
		w, out := s.start("worker", "--name", fmt.Sprintf("w%d", i))
		workers, outs = append(workers, w), append(outs, out)
	}
	for i, w := range workers {
		waitExit(t, fmt.Sprintf("worker %d", i), w, outs[i])
	}
	waitExit(t, "sink", sink, sinkOut)
	for path, k := range s.check() {
		if k != 1 {
			t.Errorf("%s fetched %d times, want once: no worker died", path, k)
		}
	}
	st, out := s.start("status")
	waitExit(t, "status", st, out)
	for _, want := range []string{"(seeded)", "queued    0", "leased    0", fmt.Sprintf("stored    %d", s.n)} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status says:\n%s\nwant %q", out, want)
		}
	}
}

// gather sink --new-run begins the shared crawl's next run without gather
// schedule: what refresh_after made due is seeded from the database and
// fetched again by a worker, the rows stay the ground truth, and the
// database records two runs.
func TestScaleOut_SinkBeginsANewRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	s := newScaleOut(t, 30, 2, 5*time.Millisecond)
	doc, err := os.ReadFile(s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.cfg, []byte(strings.Replace(string(doc), "  parallelism: 2\n", "  parallelism: 2\n  refresh_after: 1ms\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(sinkArgs ...string) {
		sink, sinkOut := s.start(append([]string{"sink"}, sinkArgs...)...)
		// The worker comes once the run is seeded: one that found the
		// last run over would end at once (--wait is for that).
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(sinkOut.String(), "seeded") && len(sinkArgs) > 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the sink did not seed:\n%s", sinkOut)
			}
		}
		w, wOut := s.start("worker")
		waitExit(t, "worker", w, wOut)
		waitExit(t, "sink", sink, sinkOut)
	}
	s.seed()
	run()
	time.Sleep(5 * time.Millisecond) // every page is stale under refresh_after
	run("--new-run")
	for path, k := range s.check() {
		if k != 2 {
			t.Errorf("%s fetched %d times, want twice: once per run", path, k)
		}
	}
	db := gathertest.OpenDB(t, s.db)
	if got := gathertest.QueryString(t, db, "SELECT group_concat(status || ' ' || pages_ok, ', ') FROM gather_runs"); got != "finished 30, finished 30" {
		t.Errorf("runs: %s", got)
	}
}

// Chaos: kill -9 a worker twice, the sink once, and restart Redis, in the
// middle of a shared crawl. The database ends equal to the ground truth,
// with no duplicate and integrity_check ok; only pages in flight in a
// killed worker are fetched again.
func TestScaleOut_KillsAndRedisRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	s := newScaleOut(t, 300, 2, 60*time.Millisecond)
	s.seed()
	deadline := time.Now().Add(60 * time.Second)
	sink, _ := s.start("sink")
	workers := make([]*exec.Cmd, 3)
	outs := make([]*gathertest.Buffer, 3)
	for i := range workers {
		workers[i], outs[i] = s.start("worker", "--name", fmt.Sprintf("w%d", i))
	}
	kill := func(cmd *exec.Cmd) {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	s.waitStored(40, deadline)
	kill(workers[0])
	workers[0], outs[0] = s.start("worker", "--name", "w0-again")

	s.waitStored(100, deadline)
	kill(sink)
	integrity(t, s.db)
	sink, sinkOut := s.start("sink")

	s.waitStored(150, deadline)
	kill(workers[1])
	s.redis.Restart(t)
	workers[1], outs[1] = s.start("worker", "--name", "w1-again")

	for i, w := range workers {
		waitExit(t, fmt.Sprintf("worker %d", i), w, outs[i])
	}
	waitExit(t, "sink", sink, sinkOut)
	again := 0
	for _, k := range s.check() {
		again += k - 1
	}
	// A killed worker had at most 6 requests in flight (2 per host) and a
	// few outcomes the sink had not stored yet.
	if again > 30 {
		t.Errorf("%d pages fetched again, more than two killed workers had in flight", again)
	}
	t.Logf("%d pages fetched again after the kills", again)
	if !strings.Contains(sinkOut.String(), "read again") {
		t.Errorf("sink said:\n%s", sinkOut)
	}
}

// validate --connect reaches the frontier: a Redis that answers passes, one
// that does not is a config error (exit 2) that never shows the password,
// which came from GATHER_FRONTIER. Without --connect nothing is sent.
func TestValidate_ConnectToFrontier(t *testing.T) {
	rs := redistest.Start(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "job.yaml", crawlYAML("http://127.0.0.1:1"))
	t.Setenv("GATHER_FRONTIER", rs.URL())
	if code, out, errOut := runGather(t, "validate", "-c", cfg, "--connect"); code != 0 || !strings.Contains(out, "frontier  "+rs.URL()) {
		t.Fatalf("validate --connect with Redis up: %d\n%s%s", code, out, errOut)
	}
	dead := freeAddr(t)
	t.Setenv("GATHER_FRONTIER", "redis://:s3cret@"+dead+"/0")
	code, out, errOut := runGather(t, "validate", "-c", cfg, "--connect")
	if code != 2 || !strings.Contains(errOut, "frontier redis://:xxxxx@"+dead+"/0") {
		t.Fatalf("validate --connect with nothing listening: %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "s3cret") {
		t.Fatalf("the password shows:\n%s%s", out, errOut)
	}
	if code, out, errOut := runGather(t, "validate", "-c", cfg); code != 0 || strings.Contains(out, "s3cret") {
		t.Fatalf("validate without --connect: %d\n%s%s", code, out, errOut)
	}
	// A worker without a frontier is told what to set, before any request.
	t.Setenv("GATHER_FRONTIER", "")
	if code, _, errOut := runGather(t, "worker", "-c", cfg); code != 2 || !strings.Contains(errOut, "GATHER_FRONTIER or --frontier") {
		t.Fatalf("worker without a frontier: %d\n%s", code, errOut)
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
