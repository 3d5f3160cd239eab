package serve_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/serve"
)

// bigDB makes a database with an item-like table of n rows, built in one
// statement: a sort column with many duplicates and a column with NULLs.
func bigDB(t testing.TB, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.db")
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`PRAGMA journal_mode = WAL`,
		`CREATE TABLE big (k TEXT, grp INTEGER, note TEXT, score REAL, _url TEXT NOT NULL, _run INTEGER NOT NULL, _fetched_at TEXT NOT NULL,
			PRIMARY KEY (k)) WITHOUT ROWID`,
		fmt.Sprintf(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d)
			INSERT INTO big SELECT printf('k%%08d', x), x %% 97, CASE WHEN x %% 10 = 0 THEN NULL ELSE 'note ' || (x %% 1000) END,
			(x * 7919 %% 10007) / 100.0, 'http://127.0.0.1/item/' || x, 1, '2026-11-24T15:04:05.000Z' FROM c`, n),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}

// Paging by keyset across 100,000 rows: each "next page" click shows the
// rows SQL's OFFSET would, in a view sorted on a column full of duplicates.
func testPaging(t *testing.T, tb *tab) {
	path := bigDB(t, 100_000)
	srv, _ := startServer(t, path, serve.Options{})
	db := gathertest.OpenDB(t, path)
	tb.open(t, srv.URL+"/data/big?sort=grp&desc=1", "paging")
	if got := text(t, tb, "#count"); got != "100000" {
		t.Fatalf("count %s, want 100000", got)
	}
	for p := 0; p < 4; p++ {
		if p > 0 {
			tb.act(t, chromedp.Click("#next"))
			tb.clean(t, fmt.Sprintf("page %d", p+1))
		}
		got := eval[[]string](t, tb, `Array.from(document.querySelectorAll("#rows tbody tr td:first-child"), td => td.textContent)`)
		want := gathertest.QueryStrings(t, db, "SELECT k FROM big ORDER BY grp DESC, k DESC LIMIT 100 OFFSET ?", p*100)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("page %d:\n got %v\nwant %v", p+1, got, want)
		}
	}
	if !strings.Contains(eval[string](t, tb, `document.getElementById("next").href`), "after=") {
		t.Error("the next link carries no cursor")
	}
}

// hostileSite serves pages whose values are attacks on the page that
// shows them: script tags, attribute breakouts, javascript: links, a 1 MB
// string. Each attack also sets window.pwned, so a run is seen even
// without a dialog.
func hostileSite(t *testing.T) *httptest.Server {
	big := strings.Repeat("<b>wide</b>", 1<<20/11)
	attacks := []string{
		`<script>window.pwned=1;alert(1)</script>`,
		`"><img src=x onerror="window.pwned=1;alert(2)">`,
		`'><svg onload="window.pwned=1;alert(3)">`,
		`</textarea><script>window.pwned=1;alert(4)</script>`,
		`{{.}} ${alert(5)} <style>body{display:none}</style>`,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/p/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var b strings.Builder
		b.WriteString("<html><body><ul>")
		for i, a := range attacks {
			fmt.Fprintf(&b, `<li><span class="label">%s</span><a href="%s">x</a></li>`, htmlText(a), htmlText([]string{
				"javascript:window.pwned=1;alert(6)", "JaVaScRiPt:alert(7)", "data:text/html,<script>alert(8)</script>", "//evil.example/", "https://example.com/?q=\"><script>alert(9)</script>",
			}[i]))
		}
		fmt.Fprintf(&b, `<li><span class="label">%s</span><a href="/p/1">self</a></li>`, htmlText(big))
		b.WriteString("</ul></body></html>")
		w.Write([]byte(b.String()))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// htmlText escapes s as HTML text, so the crawled text is s itself.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func testHostile(t *testing.T, tb *tab) {
	site := hostileSite(t)
	dir := t.TempDir()
	cfg := gathertest.LoadConfig(t, dir, fmt.Sprintf(`database: %s
crawl:
  name: %q
  start:
    urls: [%q, %q, %q]
  retries: 0
items:
  things:
    each: "li"
    fields:
      label: {css: "span.label"}
      link: {css: "a", attr: href}
`, filepath.Join(dir, "h.db"), `"><script>window.pwned=1;alert(13)</script>`, site.URL+"/p/1", site.URL+`/p/"><script>alert(10)</script>`, site.URL+`/missing/"><img src=x onerror=alert(14)>`))
	runCrawl(t, cfg)
	srv, _ := startServer(t, cfg.Database, serve.Options{})
	db := gathertest.OpenDB(t, cfg.Database)
	if n := gathertest.QueryInt(t, db, "SELECT count(*) FROM things WHERE label LIKE '%<script>%' OR length(label) > 1000000"); n < 2 {
		t.Fatalf("the hostile values were not stored (%d rows)", n)
	}
	if n := gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_runs WHERE job LIKE '%<script>%'") + gathertest.QueryInt(t, db, "SELECT count(*) FROM gather_pages WHERE status = 'failed' AND url LIKE '%img%'"); n != 2 {
		t.Fatalf("the hostile job name or failed URL was not stored (%d of 2)", n)
	}
	pageURL := gathertest.QueryString(t, db, "SELECT url FROM gather_pages ORDER BY url LIMIT 1")
	for _, p := range []struct{ path, name string }{
		{"/", "hostile-runs"},
		{"/runs/1", "hostile-run"},
		{"/failures", "hostile-failures"},
		{"/page?url=" + url.QueryEscape(pageURL), "hostile-page"},
		{"/data", "hostile-tables"},
		{"/data/things?facet=label&facet=link&sort=label", "hostile-table"},
		{"/data/things?f.label=" + url.QueryEscape(`"><script>window.pwned=1;alert(11)</script>`), "hostile-filter"},
		{"/sql?q=" + url.QueryEscape(`SELECT label, link, '</textarea><script>alert(12)</script>' AS x FROM things`), "hostile-sql"},
	} {
		tb.open(t, srv.URL+p.path, p.name)
		if pwned := eval[bool](t, tb, `window.pwned !== undefined`); pwned {
			t.Errorf("%s: a crawled value ran as script", p.path)
		}
		if bad := eval[[]string](t, tb, `Array.from(document.querySelectorAll("a[href]"), a => a.href).filter(h => !/^https?:/.test(h))`); len(bad) > 0 {
			t.Errorf("%s: links that are not http(s): %q", p.path, bad)
		}
		if n := count(t, tb, "main script, main img, main iframe, main style, main svg:not(.chart)"); n > 0 {
			t.Errorf("%s: %d elements made from values", p.path, n)
		}
		// No value widens the page: wide tables scroll in their own box.
		if over := eval[int](t, tb, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
			t.Errorf("%s: the page is %d px wider than the window", p.path, over)
		}
	}
	tb.open(t, srv.URL+"/data/things?sort=label", "hostile-table-text")
	cells := eval[[]string](t, tb, `Array.from(document.querySelectorAll("#rows tbody td:first-child"), td => td.textContent)`)
	joined := strings.Join(cells, "\n")
	if !strings.Contains(joined, "<script>window.pwned=1;alert(1)</script>") || !strings.Contains(joined, "(1048575 bytes)") && !strings.Contains(joined, " bytes)") {
		t.Errorf("the values are not shown as text (or the long one is not cut): %q", cells)
	}
	for _, c := range cells {
		if len(c) > 1000 {
			t.Errorf("a cell of %d bytes", len(c))
		}
	}
	if n, want := count(t, tb, `#rows a[href^="https://example.com/"]`), int(gathertest.QueryInt(t, db, "SELECT count(*) FROM things WHERE link LIKE 'https://example.com/%'")); n != want || want == 0 {
		t.Errorf("%d links to the https value, want one for each of its %d rows", n, want)
	}
}

// A crawl in progress: the runs page updates its progress without a
// reload, from the live crawler's stats, and shows the run finished after.
func testLive(t *testing.T, tb *tab) {
	site, err := demo.New(demo.Options{Latency: 50 * time.Millisecond}).Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	cfg := demoConfig(t, t.TempDir(), site, 1, 40, 2, "0s")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newCrawler(t, cfg)
	var running atomic.Pointer[crawler.Crawler]
	srv, _ := startServer(t, cfg.Database, serve.Options{ProgressEvery: 200 * time.Millisecond, Live: func() []serve.LiveJob {
		j := serve.LiveJob{Name: "demo", Schedule: "@every 1h", Next: time.Now().Add(time.Hour)}
		if c := running.Load(); c != nil {
			st := c.Stats()
			j.Stats = &st
		}
		return []serve.LiveJob{j}
	}})
	var wg sync.WaitGroup
	var crawlErr error
	running.Store(c)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer running.Store(nil)
		_, crawlErr = c.Run(ctx)
	}()
	defer wg.Wait()

	tb.open(t, srv.URL+"/", "live-start")
	first := pollDone(t, tb, -1)
	// Beside a crawl of another process, the database tells how far the
	// run got: the pages committed, then the crawl's snapshots (every 2 s;
	// progress_test.go tests them).
	fromDB, _ := startServer(t, cfg.Database, serve.Options{})
	for saw := false; !saw; {
		var p serve.Progress
		resp, err := http.Get(fromDB.URL + "/api/progress")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if running.Load() == nil {
			break // the crawl ended first; the crawler's view was tested
		}
		if len(p.Runs) != 1 || !(p.Runs[0].Source == "database" && p.Runs[0].Queued == -1 || p.Runs[0].Source == "snapshot" && p.Runs[0].Queued >= 0) {
			t.Fatalf("progress from the database: %+v", p.Runs)
		}
		// The writer commits in batches: wait for the first.
		saw = p.Runs[0].OK > 0 && p.Runs[0].Rate > 0
		time.Sleep(20 * time.Millisecond)
	}
	eval[any](t, tb, `window.notReloaded = true, null`)
	later := pollDone(t, tb, first)
	if !eval[bool](t, tb, `window.notReloaded === true`) {
		t.Error("the page reloaded to update")
	}
	tb.screenshot(t, "live")
	if src := text(t, tb, "#progress tbody tr[data-run] td:last-child"); src != "crawler" {
		t.Errorf("progress from %q, want the live crawler", src)
	}
	if q := text(t, tb, "#progress tbody tr[data-run] td:nth-child(7)"); q == "?" || q == "" {
		t.Errorf("queued %q, want a number from the crawler", q)
	}
	t.Logf("done %d, then %d without a reload", first, later)

	wg.Wait()
	if crawlErr != nil {
		t.Fatal(crawlErr)
	}
	// The run ended: the page reloads once and lists it finished.
	tb.waitFor(t, `(document.querySelector("#runs tbody tr .status") || {}).textContent === "finished"`)
	tb.clean(t, "live")
}

// pollDone waits until the progress table shows more pages done than
// above, and returns that number.
func pollDone(t *testing.T, tb *tab, above int) int {
	t.Helper()
	n, err := chromedp.Run(tb.b.Context(), chromedp.Poll[int](fmt.Sprintf(
		`(() => { const td = document.querySelector("#progress tbody tr[data-run] td:nth-child(3)"); const n = td ? parseInt(td.textContent, 10) : -1; return n > %d ? n : 0; })()`, above),
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("progress did not pass %d: %v", above, err)
	}
	return n
}
