// Package browsertest starts a real Chromium for tests and asks it what a
// page shows: the reference gather's text is held to. It is imported by
// tests only; nothing is downloaded, Chromium is found on PATH.
package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// RequireEnv turns a missing Chromium (or corpus) from a skip into a
// failure; CI sets it.
const RequireEnv = "GATHER_REQUIRE_BROWSER"

// SkipWithout skips the test (or fails it, when RequireEnv is set)
// for want of what it needs.
func SkipWithout(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s (%s is set)", msg, RequireEnv)
	}
	t.Skip(msg + "; install chromium and python3-doc, or set " + RequireEnv + "=1 to make this a failure")
}

// Chromium finds a Chromium or Chrome on PATH.
func Chromium() (string, error) {
	names := []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %s", strings.Join(names, ", "))
}

// Browser is one Chromium with one tab.
type Browser struct {
	ctx context.Context
}

// Start starts Chromium with a fresh profile, allowed to reach 127.0.0.1
// only; the test's cleanup stops it and checks that none of its processes
// is left.
func Start(t testing.TB, exe string) *Browser {
	t.Helper()
	dir := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(dir),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("dns-prefetch-disable", true),
		// No name resolves: nothing but the test's 127.0.0.1 server can
		// be reached.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	var started []proc
	t.Cleanup(func() {
		cancel()
		acancel() // waits for the browser process
		if left := leftProcesses(dir, started, 5*time.Second); len(left) > 0 {
			t.Errorf("chromium processes left after the test: %v", left)
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	if p := chromedp.FromContext(ctx).Browser.Process(); p != nil {
		started = descendants(p.Pid)
	}
	return &Browser{ctx: ctx}
}

// proc is a process, told from a later one with its id by its start time.
type proc struct {
	pid, start string
	ppid       string
	zombie     bool
	cmdline    []byte
}

func processes() []proc {
	var ps []proc
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... with starttime the 22nd field.
		i := bytes.LastIndexByte(stat, ')')
		f := strings.Fields(string(stat[i+1:]))
		if i < 0 || len(f) < 20 {
			continue
		}
		cmd, _ := os.ReadFile(d + "/cmdline")
		ps = append(ps, proc{pid: filepath.Base(d), start: f[19], ppid: f[1], zombie: f[0] == "Z", cmdline: cmd})
	}
	return ps
}

// descendants lists pid and the processes it started, and theirs.
func descendants(pid int) []proc {
	ps := processes()
	in := map[string]bool{fmt.Sprint(pid): true}
	for grew := true; grew; {
		grew = false
		for _, p := range ps {
			if in[p.ppid] && !in[p.pid] {
				in[p.pid], grew = true, true
			}
		}
	}
	var out []proc
	for _, p := range ps {
		if in[p.pid] {
			out = append(out, p)
		}
	}
	return out
}

// leftProcesses lists the live processes of a Chromium: those of started
// that still run, and any whose command line names dir (its profile, which
// every process it starts later is given), waiting up to wait for them to
// go.
func leftProcesses(dir string, started []proc, wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		var left []string
		for _, p := range processes() {
			if p.zombie {
				continue
			}
			known := bytes.Contains(p.cmdline, []byte(dir))
			for _, s := range started {
				known = known || s.pid == p.pid && s.start == p.start
			}
			if known {
				left = append(left, p.pid+" "+string(bytes.ReplaceAll(p.cmdline, []byte{0}, []byte{' '})))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Element is an element's name and text, in document order; IsText is
// false where the browser has no innerText (SVG and MathML elements).
type Element struct {
	Name   string
	Text   string
	IsText bool
}

// browserJS switches off the page's own style (its <style> sheets and
// style attributes; linked sheets were never served) and returns
// [localName, innerText] for each element matching the selector %s.
const browserJS = `(() => {
	for (const s of document.styleSheets) s.disabled = true;
	for (const e of document.querySelectorAll('[style]')) e.removeAttribute('style');
	return Array.from(document.querySelectorAll(%q),
		e => [e.localName, typeof e.innerText === 'string' ? e.innerText : null]);
})()`

// Texts loads url and returns the browser's text of every element
// matching sel.
func (b *Browser) Texts(url, sel string) ([]Element, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return nil, fmt.Errorf("loading %s: %w", url, err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][2]*string](fmt.Sprintf(browserJS, sel)))
	if err != nil {
		return nil, fmt.Errorf("innerText on %s: %w", url, err)
	}
	out := make([]Element, len(rows))
	for i, r := range rows {
		if r[0] != nil {
			out[i].Name = *r[0]
		}
		if r[1] != nil {
			out[i].Text, out[i].IsText = *r[1], true
		}
	}
	return out, nil
}
