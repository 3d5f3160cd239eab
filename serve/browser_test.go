package serve_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/gather-crawler/gather/internal/browsertest"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/output"
	"github.com/gather-crawler/gather/serve"
	"github.com/gather-crawler/gather/storage"
)

// screenshotEnv names a directory that keeps the screenshots the browser
// tests take (they go to a temp dir otherwise).
const screenshotEnv = "GATHER_SCREENSHOTS"

// tab is the one Chromium of this package's browser tests, with what it
// reported: dialogs opened, console errors and exceptions, CSP violations.
type tab struct {
	t    *testing.T
	b    *browsertest.Browser
	shot string

	mu       sync.Mutex
	problems []string
}

// startTab starts Chromium (skipping without one, failing in CI) and
// listens for every sign of script running that should not, or failing.
func startTab(t *testing.T) *tab {
	if testing.Short() {
		t.Skip("starts Chromium: go test without -short runs it")
	}
	exe, err := browsertest.Chromium()
	if err != nil {
		browsertest.SkipWithout(t, "no Chromium: %v", err)
	}
	b := browsertest.Start(t, exe)
	tb := &tab{t: t, b: b, shot: os.Getenv(screenshotEnv)}
	if tb.shot == "" {
		tb.shot = t.TempDir()
	}
	// Wide enough for a table of a dozen columns, as on a laptop.
	if err := b.Run(10*time.Second, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(b.Context())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	dialogs := make(chan string, 16)
	if err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			tb.problem("dialog opened: %s %q", e.Type, e.Message)
			select {
			case dialogs <- e.Message:
			default:
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value))
				}
				tb.problem("console %s: %s", e.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			tb.problem("exception: %s", e.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				tb.problem("log %s (%s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	// A dialog blocks the page; close it (it is already recorded) so the
	// test goes on to report everything.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-dialogs:
				cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
				chromedp.Call(cctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
				ccancel()
			}
		}
	}()
	return tb
}

func (tb *tab) problem(format string, args ...any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.problems = append(tb.problems, fmt.Sprintf(format, args...))
}

// takeProblems returns and forgets what the browser reported.
func (tb *tab) takeProblems() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	p := tb.problems
	tb.problems = nil
	return p
}

// open loads u, waits for main, saves a screenshot named name and fails
// the test on any problem the page reported.
func (tb *tab) open(t *testing.T, u, name string) {
	t.Helper()
	if err := tb.b.Run(30*time.Second, chromedp.Steps(chromedp.Navigate(u), chromedp.WaitVisible("main"))); err != nil {
		t.Fatalf("loading %s: %v", u, err)
	}
	tb.screenshot(t, name)
	tb.clean(t, u)
}

// act runs actions that load a new page (a click on a link, a form sent)
// and waits for that page: the old one is marked, and the wait ends when a
// loaded page lacks the mark.
func (tb *tab) act(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	eval[any](t, tb, `window.oldPage = true, null`)
	if err := tb.b.Run(30*time.Second, actions...); err != nil {
		t.Fatal(err)
	}
	tb.waitFor(t, `window.oldPage === undefined && document.readyState === "complete"`)
}

// waitFor waits until the expression is true in the page, across page
// loads: a poll that started on a page that went away is tried again.
func (tb *tab) waitFor(t *testing.T, js string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := tb.b.Run(5*time.Second, chromedp.Poll[chromedp.Void](js))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", js, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clean fails the test on what the browser reported since the last look.
func (tb *tab) clean(t *testing.T, where string) {
	t.Helper()
	// Reports arrive as events; a moment lets the last ones in.
	time.Sleep(50 * time.Millisecond)
	for _, p := range tb.takeProblems() {
		t.Errorf("%s: %s", where, p)
	}
}

// cleanExcept is clean, letting reports containing allowed pass.
func (tb *tab) cleanExcept(t *testing.T, where, allowed string) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	for _, p := range tb.takeProblems() {
		if !strings.Contains(p, allowed) {
			t.Errorf("%s: %s", where, p)
		}
	}
}

func (tb *tab) screenshot(t *testing.T, name string) {
	t.Helper()
	// The viewport, as a person sees the page first: a full-page PNG of a
	// long table costs a second to encode.
	ctx, cancel := context.WithTimeout(tb.b.Context(), 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(tb.shot, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, tb *tab, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.b.Context(), 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func text(t *testing.T, tb *tab, sel string) string {
	t.Helper()
	return eval[string](t, tb, fmt.Sprintf(`(document.querySelector(%q) || {textContent: "<missing>"}).textContent.trim()`, sel))
}

func count(t *testing.T, tb *tab, sel string) int {
	t.Helper()
	return eval[int](t, tb, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// fetchText fetches u from the page, as a click on a download link would
// get it.
func fetchText(t *testing.T, tb *tab, u string) string {
	t.Helper()
	return eval[string](t, tb, fmt.Sprintf(`fetch(%q).then(r => r.text())`, u))
}

// queryExport is what gather query prints for q in format.
func queryExport(t *testing.T, r interface {
	Query(context.Context, string) (*sql.Rows, error)
}, q, format string) string {
	t.Helper()
	rows, err := r.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b bytes.Buffer
	if _, err := output.Write(&b, format, rows); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Every page of gather serve, loaded in a real Chromium: what it shows
// equals what SQL says, no page reports an error, and hostile values
// run no script.
func TestPages_InChromium(t *testing.T) {
	tb := startTab(t)
	// The listener itself works: a console error is caught.
	dbPath := demoDB(t)
	probe, r := startServer(t, dbPath, serve.Options{})
	tb.open(t, probe.URL+"/", "probe")
	eval[any](t, tb, `console.error("probe"), null`)
	time.Sleep(50 * time.Millisecond)
	if p := tb.takeProblems(); len(p) != 1 || !strings.Contains(p[0], "probe") {
		t.Fatalf("the console listener did not catch the probe: %q", p)
	}
	t.Run("DemoDatabase", func(t *testing.T) { testDemoPages(t, tb, probe.URL, dbPath, r) })
	t.Run("Paging100k", func(t *testing.T) { testPaging(t, tb) })
	t.Run("HostileValues", func(t *testing.T) { testHostile(t, tb) })
	t.Run("LiveProgress", func(t *testing.T) { testLive(t, tb) })
}

func testDemoPages(t *testing.T, tb *tab, base, dbPath string, r *storage.Reader) {
	u, _ := url.Parse(base)
	db := gathertest.OpenDB(t, dbPath)

	tb.open(t, base+"/", "runs")
	if got, want := count(t, tb, "#runs tbody tr"), int(gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_runs")); got != want || want != 2 {
		t.Errorf("runs listed: %d, want %d (2 runs)", got, want)
	}
	if got := text(t, tb, "#runs tbody tr:last-child td:nth-child(6)"); got != fmt.Sprint(gathertest.QueryInt(t, db, "SELECT pages_ok FROM gather_runs WHERE id = 1")) {
		t.Errorf("run 1 ok pages shown as %q", got)
	}
	if n := count(t, tb, "svg.chart rect.ok"); n != 2 {
		t.Errorf("status chart: %d ok bars, want 2", n)
	}
	if n := count(t, tb, "svg.chart rect.bar"); n < 1 {
		t.Errorf("changes chart: no bars")
	}

	tb.open(t, base+"/runs/1", "run")
	if n := count(t, tb, "svg.chart polyline.line"); n != 1 {
		t.Errorf("rate chart: %d lines", n)
	}

	tb.open(t, base+"/failures", "failures")
	if got, want := text(t, tb, "#total"), fmt.Sprint(gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_pages WHERE status = 'failed'")); got != want || want == "0" {
		t.Errorf("failures total %s, want %s (not 0)", got, want)
	}
	if got, want := count(t, tb, "section.group"), int(gathertest.QueryInt(t, db, "SELECT count(DISTINCT coalesce(error, '')) FROM gather_pages WHERE status = 'failed'")); got != want || want < 2 {
		t.Errorf("failure groups %d, want %d (at least 2)", got, want)
	}
	tb.open(t, base+"/failures?run=2&host="+url.QueryEscape(u.Host+"x"), "failures-none")
	if got := text(t, tb, "#total"); got != "0" {
		t.Errorf("failures on another host: %s", got)
	}

	changed := gathertest.QueryString(t, db, "SELECT url FROM gather_changes ORDER BY url LIMIT 1")
	tb.open(t, base+"/page?url="+url.QueryEscape(changed), "page")
	if got, want := count(t, tb, "#changes tbody tr"), int(gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_changes WHERE url = ?", changed)); got != want || want == 0 {
		t.Errorf("changes of %s: %d rows, want %d", changed, got, want)
	}
	// A failed page: its failures in its history, as the database has them.
	failed := gathertest.QueryString(t, db, "SELECT url FROM gather_pages WHERE status = 'failed' ORDER BY url LIMIT 1")
	tb.open(t, base+"/page?url="+url.QueryEscape(failed), "page-failed")
	if got, want := count(t, tb, "#outcomes tbody tr td.status.failed"), int(gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_outcomes WHERE url = ? AND status = 'failed'", failed)); got != want || want == 0 {
		t.Errorf("history of %s: %d failures shown, want %d (not 0)", failed, got, want)
	}

	tb.open(t, base+"/data", "tables")
	for _, table := range []string{"movies", "cast", "crew", "gather_pages"} {
		got := text(t, tb, fmt.Sprintf(`#tables a[href$="/data/%s"]`, table))
		if got != table {
			t.Errorf("table %s not listed", table)
			continue
		}
		n := eval[string](t, tb, fmt.Sprintf(`document.querySelector('#tables a[href$="/data/%s"]').closest("tr").querySelector("td.n").textContent`, table))
		if want := fmt.Sprint(gathertest.QueryInt(t, db, "SELECT count(*) FROM "+table)); n != want {
			t.Errorf("table %s: %s rows shown, want %s", table, n, want)
		}
	}

	// A filtered, faceted view; the facet's counts are SQL's.
	movie := gathertest.QueryString(t, db, "SELECT movie_id FROM cast GROUP BY movie_id ORDER BY count(*) DESC LIMIT 1")
	tb.open(t, base+"/data/cast?facet=movie_id&facet=name", "table")
	if got := count(t, tb, "#rows tbody tr"); got != 100 {
		t.Errorf("first page shows %d rows, want 100", got)
	}
	top := eval[[]string](t, tb, `Array.from(document.querySelectorAll('.facet[data-column="movie_id"] li'), li => li.textContent.trim().replace(/\s+/g, " "))`)
	want := gathertest.QueryStrings(t, db, "SELECT movie_id || ' ' || count(*) FROM cast GROUP BY movie_id ORDER BY count(*) DESC, movie_id LIMIT 10")
	if strings.Join(top, "|") != strings.Join(want, "|") {
		t.Errorf("movie_id facet:\n got %q\nwant %q", top, want)
	}
	// Click the top facet value: the view filters on it.
	tb.act(t, chromedp.Click(`.facet[data-column="movie_id"] li a`))
	if got, want := text(t, tb, "#count"), fmt.Sprint(gathertest.QueryInt(t, db, "SELECT count(*) FROM cast WHERE movie_id = ?", movie)); got != want {
		t.Errorf("after clicking the facet of %s: %s rows, want %s", movie, got, want)
	}
	// Type a "contains" filter into the name column and send the form.
	// (SetValue refuses an empty value: it checks the value it set is truthy.)
	eval[any](t, tb, `document.querySelector('#filters input[name="f.movie_id"]').value = "", null`)
	tb.act(t, chromedp.SetValue(`#filters input[name="f.name"]`, "~an"),
		chromedp.Submit(`#filters`))
	tb.clean(t, "filter form")
	if got, want := text(t, tb, "#count"), fmt.Sprint(gathertest.QueryInt(t, db, "SELECT count(*) FROM cast WHERE instr(name, 'an') > 0")); got != want {
		t.Errorf("name contains \"an\": %s rows, want %s", got, want)
	}

	// Exports of the view, fetched by the page, equal gather query's.
	csvHref := eval[string](t, tb, `document.getElementById("export-csv").href`)
	if got, want := fetchText(t, tb, csvHref), queryExport(t, r, "SELECT * FROM cast WHERE instr(name, 'an') > 0 ORDER BY movie_id, person_id", output.CSV); got != want {
		t.Errorf("CSV export differs from gather query's (%d vs %d bytes)", len(got), len(want))
	}
	jsonHref := eval[string](t, tb, `document.getElementById("export-json").href`)
	gotJSON := fetchText(t, tb, jsonHref)
	if want := queryExport(t, r, "SELECT * FROM cast WHERE instr(name, 'an') > 0 ORDER BY movie_id, person_id", output.JSON); gotJSON != want {
		t.Errorf("JSON export differs from gather query's (%d vs %d bytes)", len(gotJSON), len(want))
	}
	var parsed []map[string]any
	if err := json.Unmarshal([]byte(gotJSON), &parsed); err != nil || len(parsed) == 0 {
		t.Errorf("JSON export: %d records, %v", len(parsed), err)
	}

	// The SQL box: a query typed and run, then a write refused.
	tb.open(t, base+"/sql", "sql-empty")
	q := "SELECT job, status, count(*) AS n FROM gather_pages GROUP BY 1, 2 ORDER BY 1, 2"
	tb.act(t, chromedp.SetValue("#q", q), chromedp.Click("#sql-form button"))
	tb.screenshot(t, "sql")
	tb.clean(t, "sql")
	cells := eval[[]string](t, tb, `Array.from(document.querySelectorAll("#result tbody td"), td => td.textContent)`)
	wantCells := gathertest.QueryStrings(t, db, "SELECT job || '|' || status || '|' || count(*) FROM gather_pages GROUP BY job, status ORDER BY 1")
	if strings.Join(cells, "|") != strings.Join(wantCells, "|") {
		t.Errorf("SQL box result %q, want %q", cells, wantCells)
	}
	if got, want := fetchText(t, tb, eval[string](t, tb, `document.getElementById("export-csv").href`)), queryExport(t, r, q, output.CSV); got != want {
		t.Errorf("SQL CSV export:\n%s\nwant\n%s", got, want)
	}
	for _, bad := range []string{"DELETE FROM cast", "DROP TABLE movies", "SELECT 1; DELETE FROM cast", "ATTACH 'x.db' AS x", "PRAGMA query_only = 0"} {
		tb.act(t, chromedp.SetValue("#q", bad), chromedp.Click("#sql-form button"))
		tb.cleanExcept(t, bad, "status of 400") // the refusal's status is logged as a failed load
		if got := text(t, tb, "#sql-error"); !strings.HasPrefix(got, "refused:") {
			t.Errorf("%s: %q, want a refusal", bad, got)
		}
	}
	if n := gathertest.QueryInt(t, db, "SELECT count(*) FROM movies"); n == 0 {
		t.Error("movies emptied")
	}
}
