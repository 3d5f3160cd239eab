package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/browsertest"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// chromiumOf lists the live processes whose command line holds the
// profile directory of a Chromium that gather (pid) started, and those
// directories.
func chromiumOf(pid int) (pids []int, dirs []string) {
	entries, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	parent := map[int]int{}
	cmdlines := map[int][]byte{}
	for _, e := range entries {
		p, _ := strconv.Atoi(strings.Split(e, "/")[2])
		cmd, err := os.ReadFile(e)
		stat, serr := os.ReadFile(filepath.Dir(e) + "/stat")
		if err != nil || serr != nil {
			continue
		}
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if f[0] == "Z" {
			continue
		}
		parent[p], _ = strconv.Atoi(f[1])
		cmdlines[p] = cmd
	}
	for p, cmd := range cmdlines {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				pids = append(pids, p)
				if i := bytes.Index(cmd, []byte("--user-data-dir=")); i >= 0 {
					dir, _, _ := bytes.Cut(cmd[i+len("--user-data-dir="):], []byte{0})
					dirs = append(dirs, string(dir))
				}
				break
			}
		}
	}
	return pids, dirs
}

// left lists the processes still running with one of dirs on their
// command line.
func left(dirs []string) []string {
	var out []string
	entries, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, e := range entries {
		cmd, err := os.ReadFile(e)
		stat, _ := os.ReadFile(filepath.Dir(e) + "/stat")
		if err != nil || bytes.Contains(stat, []byte(") Z ")) {
			continue
		}
		for _, d := range dirs {
			if bytes.Contains(cmd, []byte(d)) {
				out = append(out, e)
			}
		}
	}
	return out
}

// kill -9 of gather while Chromium's tabs are open leaves no Chromium
// process (the parent-death signal), and the next run resumes and ends
// with the ground truth.
func TestProcess_KillNineLeavesNoChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium and kills processes")
	}
	if _, err := browsertest.Chromium(); err != nil {
		browsertest.SkipWithout(t, "no Chromium: %v", err)
	}
	site, err := demo.New(demo.Options{Latency: 100 * time.Millisecond}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	const n = 8
	dir := t.TempDir()
	var ids strings.Builder
	for _, id := range demo.IDs(n) {
		ids.WriteString(id + "\n")
	}
	writeFile(t, dir, "ids.txt", ids.String())
	cfg := writeFile(t, dir, "job.yaml", fmt.Sprintf(`database: out.db
crawl:
  name: browser-kill
  start:
    url_template: %q
    ids_file: ids.txt
  parallelism: 2
  fetch: browser
  browser:
    tabs: 2
    wait_for: "script#__NEXT_DATA__"
%s`, demo.SpaURL(site.URL, "{id}"), gathertest.ShippedItems(t)))

	// Chromium's profiles go in a temp dir of the test's: one is left by
	// the kill, and the next run removes it.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	profiles := func() []string {
		m, _ := filepath.Glob(filepath.Join(tmp, "gather-chromium-*"))
		return m
	}
	cmd, out := gatherProcess(t, "crawl", "-c", cfg)
	var dirs []string
	deadline := time.Now().Add(20 * time.Second)
	for len(dirs) == 0 || site.InFlight() == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no Chromium with a page in flight after 20s:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
		_, dirs = chromiumOf(cmd.Process.Pid)
	}
	pids, dirs := chromiumOf(cmd.Process.Pid)
	t.Logf("killing gather %d with %d Chromium processes", cmd.Process.Pid, len(pids))
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	deadline = time.Now().Add(10 * time.Second)
	for l := left(dirs); len(l) > 0; l = left(dirs) {
		if time.Now().After(deadline) {
			t.Fatalf("Chromium processes left 10s after kill -9 of gather: %v", l)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if len(profiles()) == 0 {
		t.Fatal("no Chromium profile left by the kill: the test does not test the sweep")
	}

	cmd, out = gatherProcess(t, "crawl", "-c", cfg)
	if code := exitCodeOf(cmd.Wait()); code != 0 {
		t.Fatalf("the next run: exit %d\n%s", code, out)
	}
	if p := profiles(); len(p) > 0 {
		t.Errorf("Chromium profiles left after the next run: %v", p)
	}
	if _, err := demo.Verify(context.Background(), gathertest.OpenDB(t, filepath.Join(dir, "out.db")), n, false); err != nil {
		t.Fatal(err)
	}
}
