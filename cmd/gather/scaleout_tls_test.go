package main

import (
	"strings"
	"testing"

	"github.com/gather-crawler/gather/internal/redistest"
)

// A shared crawl through a redis-server that speaks TLS only (rediss://),
// its certificate signed by a private CA: a process that does not trust
// the CA refuses the server (validate --connect exits 2), one that trusts
// it (SSL_CERT_FILE, as for any private CA) crawls the pages exactly.
func TestScaleOut_TLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	rs := redistest.StartTLS(t)
	s := newScaleOutOn(t, rs, 30, 2, 0)
	if !strings.HasPrefix(rs.URL(), "rediss://") {
		t.Fatalf("a TLS server's URL is %s", rs.URL())
	}
	cmd, out := gatherProcess(t, "validate", "-c", s.cfg, "--connect")
	err := cmd.Wait()
	if code := exitCodeOf(err); code != 2 || !strings.Contains(out.String(), "certificate") {
		t.Fatalf("validate --connect without trusting the CA: exit %d\n%s", code, out)
	}
	// The children inherit the environment.
	t.Setenv("SSL_CERT_FILE", rs.CAFile)
	cmd, out = gatherProcess(t, "validate", "-c", s.cfg, "--connect")
	waitExit(t, "validate --connect", cmd, out)
	s.seed()
	sink, sinkOut := s.start("sink")
	worker, workerOut := s.start("worker")
	waitExit(t, "worker", worker, workerOut)
	waitExit(t, "sink", sink, sinkOut)
	for path, k := range s.check() {
		if k != 1 {
			t.Errorf("%s fetched %d times, want once", path, k)
		}
	}
}
