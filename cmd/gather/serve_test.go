package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/schedule"
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
	out := &gathertest.Buffer{}
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

// schedule --listen with jobs writing to two databases: each database's
// pages under /db/N/, with links that stay there, and / leading to the
// first.
func TestScheduleMux_TwoDatabases(t *testing.T) {
	site, err := demo.New(demo.Options{}).Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	var cfgs []*config.Config
	for _, name := range []string{"first", "second"} {
		dir := t.TempDir()
		path := scheduleConfig(t, dir, site, "1h", "1h", 2, 2)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, "job.yaml", strings.Replace(string(b), "name: scheduled", "name: "+name, 1))
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		cfgs = append(cfgs, cfg)
	}
	m := schedule.NewMetrics()
	s, err := schedule.New(cfgs, schedule.Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	h, closeReaders, err := scheduleMux(context.Background(), cfgs, s, m, true, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeReaders()
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, c := range []struct{ path, want string }{
		{"/db/1/", `href="/db/1/data"`},
		{"/db/2/data", `href="/db/2/data/movies"`},
		{"/db/2/api/progress", `"job":"second"`},
		{"/", `href="/db/1/failures"`}, // after the redirect
		{"/metrics", `gather_runs_total{crawl="second",status="finished"} 0`},
	} {
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %d, want %s in\n%.600s", c.path, resp.StatusCode, c.want, b)
		}
	}
}
