package crawler_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/browsertest"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// needChromium skips (or fails, with GATHER_REQUIRE_BROWSER) without a
// Chromium, and under -short: these tests start one.
func needChromium(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := browsertest.Chromium(); err != nil {
		browsertest.SkipWithout(t, "no Chromium: %v", err)
	}
}

// browserOpts keep Chromium on 127.0.0.1: no name resolves.
func browserOpts() crawler.Options {
	return crawler.Options{BrowserFlags: map[string]any{"host-resolver-rules": "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"}}
}

func idTemplateConfig(t *testing.T, tmpl, mode string, n int, extra string) (*config.Config, []string) {
	t.Helper()
	ids := demo.IDs(n)
	q := make([]string, n)
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: browser
  start:
    url_template: %q
    ids: [%s]
  parallelism: 4
  timeout: 15s
  retries: 1
  fetch: %s
%s`, tmpl, strings.Join(q, ", "), mode, extra))
	return cfg, ids
}

// The challenge-gated site in auto mode: the ground truth exactly, one
// solve for the host, every page over HTTP with the solved cookie.
func TestCrawl_AutoSolvesTheChallengeOncePerHost(t *testing.T) {
	needChromium(t)
	site := startSite(t, "", demo.Options{Challenge: &demo.Challenge{TokenTTL: time.Minute}})
	cfg, ids := idTemplateConfig(t, demo.PageURL(site.URL, "{id}"), "auto", 12, "")
	sum, err := crawl(t, cfg, browserOpts())
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	if sum.Counts.PagesOK != 12 || sum.Counts.Challenges != 1 || site.Solves() != 1 {
		t.Fatalf("summary %v; site saw %d solves, want 12 ok pages and 1 solve", sum, site.Solves())
	}
	if !strings.Contains(sum.String(), "1 challenge solved") {
		t.Errorf("summary line without the solve: %s", sum)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	if _, err := demo.VerifyIDs(context.Background(), db, ids, false, nil); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE fetched_by = 'http+cookie'"); n != 12 {
		t.Errorf("%d pages fetched over HTTP with the cookie, want 12", n)
	}
	if n := queryInt(t, db, "SELECT challenges FROM gather_runs WHERE id = ?", sum.Run); n != 1 {
		t.Errorf("gather_runs.challenges = %d, want 1", n)
	}
}

// A token that expires mid-crawl is solved again when the site challenges
// again, not before (its expiry is not trusted alone).
func TestCrawl_AutoSolvesAgainWhenTheTokenExpires(t *testing.T) {
	needChromium(t)
	// A solve takes half a second or so here (the work and the reload);
	// each token then serves some 15 pages at 100ms, one at a time.
	site := startSite(t, "", demo.Options{Latency: 100 * time.Millisecond,
		Challenge: &demo.Challenge{TokenTTL: 1500 * time.Millisecond}})
	cfg, ids := idTemplateConfig(t, demo.PageURL(site.URL, "{id}"), "auto", 22, "")
	cfg.Crawl.Parallelism = 1
	start := time.Now()
	sum, err := crawl(t, cfg, browserOpts())
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	// 22 pages one at a time at 100ms outlive the first token, so there
	// are two solves at least; a token is solved again only once expired,
	// so there is one per token lifetime the crawl took at most (a busy
	// machine makes the crawl, and so the solves, longer).
	most := int64(time.Since(start)/(1500*time.Millisecond)) + 1
	if sum.Counts.PagesOK != 22 || sum.Counts.Challenges < 2 || sum.Counts.Challenges > most || sum.Counts.Challenges != site.Solves() {
		t.Fatalf("summary %v; site saw %d solves: want every page, 2 to %d solves (one per token lifetime), each seen by the site; failures: %v", sum, site.Solves(), most,
			queryString(t, gathertest.OpenDB(t, cfg.Database), "SELECT group_concat(url || ': ' || error, '; ') FROM gather_pages WHERE status = 'failed'"))
	}
	if _, err := demo.VerifyIDs(context.Background(), gathertest.OpenDB(t, cfg.Database), ids, false, nil); err != nil {
		t.Fatal(err)
	}
}

// The spa layout in browser mode: the ground truth exactly.
func TestCrawl_BrowserRendersTheSpaLayout(t *testing.T) {
	needChromium(t)
	site := startSite(t, "", demo.Options{})
	cfg, ids := idTemplateConfig(t, demo.SpaURL(site.URL, "{id}"), "browser", 6, `  browser:
    wait_for: "script#__NEXT_DATA__"
`)
	sum, err := crawl(t, cfg, browserOpts())
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	if sum.Counts.PagesOK != 6 || sum.Counts.BrowserPages != 6 {
		t.Fatalf("summary %v", sum)
	}
	// Parallelism 4, but 2 tabs (the default): never more pages at once.
	if peak := site.SpaPeak(); peak < 1 || peak > 2 {
		t.Errorf("the site saw %d pages loading at once, want 1 or 2 (the tabs)", peak)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	if _, err := demo.VerifyIDs(context.Background(), db, ids, false, nil); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE fetched_by = 'browser'"); n != 6 {
		t.Errorf("%d pages recorded as fetched by browser, want 6", n)
	}
	if n := queryInt(t, db, "SELECT browser_pages FROM gather_runs WHERE id = ?", sum.Run); n != 6 {
		t.Errorf("gather_runs.browser_pages = %d, want 6", n)
	}
}

// http mode on either site fails every page with its reason and stores
// no row.
func TestCrawl_HTTPFailsChallengeAndSpaPages(t *testing.T) {
	gated := startSite(t, "", demo.Options{Challenge: &demo.Challenge{}})
	plain := startSite(t, "", demo.Options{})
	for _, tc := range []struct{ tmpl, reason string }{
		{demo.PageURL(gated.URL, "{id}"), "blocked: challenge page (HTTP 202, x-amzn-waf-action: challenge)"},
		{demo.SpaURL(plain.URL, "{id}"), "expect"},
	} {
		cfg, _ := idTemplateConfig(t, tc.tmpl, "http", 3, "")
		sum, _ := crawl(t, cfg, crawler.Options{})
		if sum.Counts.PagesFailed != 3 || sum.Counts.Items != 0 {
			t.Errorf("%s: summary %v, want 3 failed pages and nothing stored", tc.tmpl, sum)
			continue
		}
		db := gathertest.OpenDB(t, cfg.Database)
		for _, table := range []string{"movies", "cast", "crew"} {
			if n := queryInt(t, db, "SELECT count(*) FROM "+table); n != 0 {
				t.Errorf("%s: %d rows in %s", tc.tmpl, n, table)
			}
		}
		t.Logf("%s: %s", tc.tmpl, queryString(t, db, "SELECT error FROM gather_pages LIMIT 1"))
		if tc.reason != "expect" {
			if got := queryString(t, db, "SELECT error FROM gather_pages LIMIT 1"); got != tc.reason {
				t.Errorf("reason %q, want %q", got, tc.reason)
			}
		}
	}
}

// A page that makes the browser reach another address or a host outside
// allowed_domains: the sub-requests are blocked and logged, the page is
// stored.
func TestCrawl_BrowserBlocksSubRequestsOutsideTheRules(t *testing.T) {
	needChromium(t)
	leak := startSite(t, "127.0.0.2:0", demo.Options{Track: true})
	mux := http.NewServeMux()
	mux.HandleFunc("/title/{id}/fullcredits", func(w http.ResponseWriter, r *http.Request) {
		page := demo.RenderNextData(demo.MovieFor(r.PathValue("id"), 0))
		subs := fmt.Sprintf(`<img src="%s/pixel.png"><img src="http://example.com/pixel.png"><p id="done">x</p></body>`, leak.URL)
		w.Write(bytes.Replace(page, []byte("</body>"), []byte(subs), 1))
	})
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	cfg, ids := idTemplateConfig(t, demo.PageURL(site.URL, "{id}"), "browser", 2, `  robots_txt: false
  browser:
    wait_for: "#done"
`)
	logs := &gathertest.Buffer{}
	opts := browserOpts()
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	sum, err := crawl(t, cfg, opts)
	if err != nil || sum.Counts.PagesOK != 2 {
		t.Fatalf("%v\n%v", err, sum)
	}
	if _, err := demo.VerifyIDs(context.Background(), gathertest.OpenDB(t, cfg.Database), ids, false, nil); err != nil {
		t.Fatal(err)
	}
	if n := leak.Total(); n != 0 {
		t.Errorf("the other address got %d requests: %v", n, leak.Counts())
	}
	for _, want := range []string{leak.URL + "/pixel.png", "http://example.com/pixel.png"} {
		if !strings.Contains(logs.String(), "browser request blocked") || !strings.Contains(logs.String(), want) {
			t.Errorf("no blocked request to %s logged:\n%s", want, logs)
		}
	}
}

// A CAPTCHA fails its page as such and pauses the host: the host's other
// pages fail without a request.
func TestCrawl_CaptchaFailsAndPausesTheHost(t *testing.T) {
	// The first page asked for gets the CAPTCHA.
	var mu sync.Mutex
	first := ""
	site := startSite(t, "", demo.Options{Track: true, Captcha: func(path string) bool {
		mu.Lock()
		defer mu.Unlock()
		if first == "" && strings.HasPrefix(path, "/title/") {
			first = path
		}
		return path == first
	}})
	cfg, _ := idTemplateConfig(t, demo.PageURL(site.URL, "{id}"), "http", 5, "")
	cfg.Crawl.Parallelism = 1
	sum, _ := crawl(t, cfg, crawler.Options{})
	db := gathertest.OpenDB(t, cfg.Database)
	if got := queryString(t, db, "SELECT error FROM gather_pages WHERE url = ?", site.URL+first); got != "blocked: captcha (needs a person)" {
		t.Errorf("captcha page %s: %q", first, got)
	}
	paused := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE error LIKE 'blocked: captcha (needs a person): host % paused%'")
	if sum.Counts.PagesFailed != 5 || paused != 4 {
		t.Errorf("summary %v: %d pages failed as paused, want the 4 others", sum, paused)
	}
	if log := site.Log(); len(log) != 2 || log[1].Path != first { // robots.txt, the CAPTCHA
		t.Errorf("site saw %v, want robots.txt and the CAPTCHA page only", log)
	}
}
