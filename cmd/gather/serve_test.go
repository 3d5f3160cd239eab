package main

import (
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An address other machines can reach, with no token: a usage error
// before anything listens.
func TestServe_OpenAddressNeedsAToken(t *testing.T) {
	db := demoDB(t)
	code, out, errOut := runGather(t, "serve", "--db", db, "--listen", "0.0.0.0:0")
	if code != 2 || !strings.Contains(errOut, "needs a token") || strings.Contains(out, "serving") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

var servingRe = regexp.MustCompile(`on http://(\S+)/`)

// gather serve as a process: it serves the pages with the token from the
// environment, and stops on SIGTERM with exit 0.
func TestServe_ProcessWithTokenStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	db := demoDB(t)
	cmd := exec.Command(os.Args[0], "serve", "--db", db, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "GATHER_TEST_EXEC=1", "GATHER_SERVE_TOKEN=t0ken")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var addr string
	waitFor(t, "the address", 10*time.Second, func() bool {
		m := servingRe.FindStringSubmatch(out.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	for _, c := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer t0ken", http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/data/movies", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("auth %q: %d, want %d", c.auth, resp.StatusCode, c.want)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCodeOf(cmd.Wait()); code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, out)
	}
}
