package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// requirePrometheusEnv turns a missing prometheus binary from a skip into
// a failure; CI sets it.
const requirePrometheusEnv = "GATHER_REQUIRE_PROMETHEUS"

// promResult is one series of a Prometheus instant query.
type promResult struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func promQuery(t *testing.T, base, q string) []promResult {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil // not up yet
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Data   struct {
			Result []promResult `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Status != "success" {
		return nil
	}
	return out.Data.Result
}

// freePort picks a port free on 127.0.0.1 now, for a program that takes
// its port as a flag.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// A real Prometheus scrapes gather schedule --listen: the series arrive
// with the crawl's name as "crawl" and Prometheus's own "job" beside it,
// no exported_job, and the pages beside /metrics answer too.
func TestProcess_PrometheusScrapesSchedule(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv(requirePrometheusEnv) != "" {
			t.Fatalf("no prometheus binary on PATH (%s is set)", requirePrometheusEnv)
		}
		t.Skip("no prometheus binary on PATH; apt-get install prometheus, or set " + requirePrometheusEnv + "=1 to make this a failure")
	}
	site, err := demo.New(demo.Options{}).Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	dir := t.TempDir()
	cfg := scheduleConfig(t, dir, site, "1s", "1h", 4, 8)
	cmd, out := gatherProcess(t, "schedule", "-c", cfg, "--listen", "127.0.0.1:0")
	defer cmd.Process.Kill()
	var addr string
	waitFor(t, "the listen address", 10*time.Second, func() bool {
		m := listenRe.FindStringSubmatch(out.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})

	promAddr := freePort(t)
	conf := writeFile(t, dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 500ms
scrape_configs:
  - job_name: gather-scrape
    static_configs:
      - targets: [%q]
`, addr))
	p := exec.Command(prom, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--web.console.templates="+dir, "--web.console.libraries="+dir)
	var plog gathertest.Buffer
	p.Stdout, p.Stderr = &plog, &plog
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		p.Process.Signal(syscall.SIGTERM)
		p.Wait()
	}()
	base := "http://" + promAddr

	var got []promResult
	waitFor(t, "Prometheus to scrape a finished run", 20*time.Second, func() bool {
		got = promQuery(t, base, `gather_pages_total{status="ok"} > 0`)
		return len(got) > 0
	})
	m := got[0].Metric
	if m["crawl"] != "scheduled" || m["job"] != "gather-scrape" || m["instance"] != addr {
		t.Errorf("labels %v, want crawl=scheduled beside Prometheus's job and instance", m)
	}
	for _, q := range []string{`{exported_job!=""}`, `{__name__=~"gather_.+", crawl=""}`} {
		if r := promQuery(t, base, q); len(r) > 0 {
			t.Errorf("%s: %d series, e.g. %v", q, len(r), r[0].Metric)
		}
	}
	if r := promQuery(t, base, `up{job="gather-scrape"}`); len(r) != 1 || r[0].Value[1] != "1" {
		t.Errorf("up: %v\n%s", r, plog.String())
	}

	// The pages beside /metrics: the runs, and the live progress.
	for _, path := range []string{"/", "/data", "/api/progress"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", path, resp.StatusCode, b)
		}
		if path == "/api/progress" && !strings.Contains(string(b), `"job":"scheduled"`) {
			t.Errorf("progress names no scheduled job: %s", b)
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCodeOf(cmd.Wait()); code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, out)
	}
}
