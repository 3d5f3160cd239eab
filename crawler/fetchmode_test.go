package crawler_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// A challenge gather knows only from crawl.challenge (HTTP 403 and an
// element of the interstitial, no AWS header): auto solves it once and
// stores the ground truth, the browser waiting past the interstitial by
// the same detector.
func TestCrawl_AutoSolvesAConfiguredChallenge(t *testing.T) {
	needChromium(t)
	site := startSite(t, "", demo.Options{Challenge: &demo.Challenge{TokenTTL: time.Minute}})
	target, _ := url.Parse(site.URL)
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Header.Set("Accept", "text/html") // the interstitial to every client, not only browsers
	}}
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Header.Get("x-amzn-waf-action") != "challenge" {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		body = bytes.Replace(body, []byte("<p>Checking"), []byte(`<p class="verify">Checking`), 1)
		resp.Header.Del("x-amzn-waf-action")
		resp.StatusCode, resp.Status = http.StatusForbidden, "403 Forbidden"
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	proxy := httptest.NewServer(rp)
	t.Cleanup(proxy.Close)

	cfg, ids := idTemplateConfig(t, demo.PageURL(proxy.URL, "{id}"), "auto", 6, `  challenge:
    - status: 403
      selector: "p.verify"
`)
	sum, err := crawl(t, cfg, browserOpts())
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	if sum.Counts.PagesOK != 6 || sum.Counts.Challenges != 1 || site.Solves() != 1 {
		t.Fatalf("summary %v; site saw %d solves, want 6 ok pages and 1 solve", sum, site.Solves())
	}
	if _, err := demo.VerifyIDs(context.Background(), gathertest.OpenDB(t, cfg.Database), ids, false, nil); err != nil {
		t.Fatal(err)
	}

	// The same site over http: every page fails naming the detector.
	cfg, _ = idTemplateConfig(t, demo.PageURL(proxy.URL, "{id}"), "http", 2, `  challenge:
    - status: 403
      selector: "p.verify"
`)
	sum, _ = crawl(t, cfg, crawler.Options{})
	db := gathertest.OpenDB(t, cfg.Database)
	if got := queryString(t, db, "SELECT DISTINCT error FROM gather_pages"); sum.Counts.PagesFailed != 2 || got != "blocked: challenge page (HTTP 403, matches crawl.challenge[0])" {
		t.Errorf("summary %v, reason %q", sum, got)
	}
}

// A challenge of two steps: the first interstitial's cookie is not enough,
// the page past it is a second interstitial. The cookies auto takes as the
// first one moves on get HTTP another challenge; it then solves the
// challenge to its end (one more solve), and every page lands.
func TestCrawl_AutoSolvesAChallengeOfTwoSteps(t *testing.T) {
	needChromium(t)
	var mu sync.Mutex
	served := map[string]int{} // what each kind of client got
	mux := http.NewServeMux()
	mux.HandleFunc("/title/{id}/fullcredits", func(w http.ResponseWriter, r *http.Request) {
		step := ""
		if c, err := r.Cookie("step"); err == nil {
			step = c.Value
		}
		browser := strings.Contains(r.Header.Get("Accept"), "text/html")
		mu.Lock()
		served[fmt.Sprintf("browser=%v step=%q", browser, step)]++
		mu.Unlock()
		if step == "2" {
			w.Write(demo.RenderNextData(demo.MovieFor(r.PathValue("id"), 0)))
			return
		}
		w.Header().Set("x-amzn-waf-action", "challenge")
		w.WriteHeader(http.StatusAccepted)
		if browser {
			next := map[string]string{"": "1", "1": "2"}[step]
			fmt.Fprintf(w, `<!DOCTYPE html><html><body><p>Checking…</p><script>
setTimeout(() => { document.cookie = 'step=%s; path=/'; location.reload(); }, 50);
</script></body></html>`, next)
		}
	})
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	cfg, ids := idTemplateConfig(t, demo.PageURL(site.URL, "{id}"), "auto", 6, "  robots_txt: false\n")
	sum, err := crawl(t, cfg, browserOpts())
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	mu.Lock()
	defer mu.Unlock()
	if sum.Counts.PagesOK != 6 || sum.Counts.Challenges != 2 {
		t.Fatalf("summary %v, want 6 pages and 2 solves (the first step's cookie, then to the end); the site served %v", sum, served)
	}
	if _, err := demo.VerifyIDs(context.Background(), gathertest.OpenDB(t, cfg.Database), ids, false, nil); err != nil {
		t.Fatal(err)
	}
	// The second interstitial was served to the browser once: the host's
	// later solves (none here) and this one go to the end.
	if n := served[`browser=true step="1"`]; n != 1 {
		t.Errorf("the second step was served %d times to the browser, want 1; the site served %v", n, served)
	}
}

// A CAPTCHA gather knows only from crawl.captcha (a selector in an
// HTTP 200 page): the page fails as such and its host is paused.
func TestCrawl_ConfiguredCaptchaPausesTheHost(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	mux := http.NewServeMux()
	mux.HandleFunc("/title/{id}/fullcredits", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path)
		first := len(seen) == 1
		mu.Unlock()
		if first {
			// gather's own header, as a site might send it: no say.
			w.Header().Set("Gather-Detected", "none")
			fmt.Fprint(w, `<!DOCTYPE html><html><body><form id="puzzle"><p>Which of these is a bus?</p></form></body></html>`)
			return
		}
		w.Write(demo.RenderNextData(demo.MovieFor(r.PathValue("id"), 0)))
	})
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	cfg, _ := idTemplateConfig(t, demo.PageURL(site.URL, "{id}"), "http", 4, `  robots_txt: false
  captcha:
    - selector: "form#puzzle"
`)
	cfg.Crawl.Parallelism = 1
	sum, _ := crawl(t, cfg, crawler.Options{})
	db := gathertest.OpenDB(t, cfg.Database)
	if got := queryString(t, db, "SELECT error FROM gather_pages WHERE url = ?", site.URL+seen[0]); got != "blocked: captcha (needs a person)" {
		t.Errorf("captcha page: %q", got)
	}
	paused := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE error LIKE 'blocked: captcha (needs a person): host % paused%'")
	mu.Lock()
	defer mu.Unlock()
	if sum.Counts.PagesFailed != 4 || paused != 3 || len(seen) != 1 {
		t.Errorf("summary %v: %d pages failed as paused, the site saw %v; want the 3 others paused, unsent", sum, paused, seen)
	}
}

// An item's fetch: browser renders the pages its url matches while the
// crawl's other pages go over HTTP; each lands with the ground truth and
// its way of fetching recorded.
func TestCrawl_FetchModePerItem(t *testing.T) {
	needChromium(t)
	site := startSite(t, "", demo.Options{Track: true})
	ids := demo.IDs(6)
	var urls []string
	for i, id := range ids {
		if i%2 == 0 {
			urls = append(urls, fmt.Sprintf("%q", demo.SpaURL(site.URL, id)))
		} else {
			urls = append(urls, fmt.Sprintf("%q", demo.PageURL(site.URL, id)))
		}
	}
	items := gathertest.ShippedItems(t) + `
  spa_shell:
    url: "/spa/title/"
    fetch: browser
    fields:
      loading:
        css: "p.loading"
`
	cfg := testConfigWithItems(t, fmt.Sprintf(`crawl:
  name: permode
  start:
    urls: [%s]
  parallelism: 4
  timeout: 15s
  fetch: http
  browser:
    wait_for: "script#__NEXT_DATA__"
`, strings.Join(urls, ", ")), items)
	sum, err := crawl(t, cfg, browserOpts())
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	if sum.Counts.PagesOK != 6 || sum.Counts.BrowserPages != 3 {
		t.Fatalf("summary %v, want 6 pages, 3 of them by browser", sum)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	if _, err := demo.VerifyIDs(context.Background(), db, ids, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		want int64
	}{
		{"SELECT count(*) FROM gather_pages WHERE fetched_by = 'browser' AND url LIKE '%/spa/title/%'", 3},
		{"SELECT count(*) FROM gather_pages WHERE fetched_by = 'http' AND url NOT LIKE '%/spa/%'", 3},
		// The rendered DOM has no loading placeholder left.
		{"SELECT count(*) FROM spa_shell WHERE loading IS NULL", 3},
	} {
		if n := queryInt(t, db, q.sql); n != q.want {
			t.Errorf("%s: %d, want %d", q.sql, n, q.want)
		}
	}
}

// fetch: auto without a Chromium: a crawl that meets no challenge runs
// over HTTP, and one that does fails those pages saying what to install.
func TestCrawl_AutoWithoutChromium(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	plain := startSite(t, "", demo.Options{})
	cfg, ids := idTemplateConfig(t, demo.PageURL(plain.URL, "{id}"), "auto", 3, "")
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil || sum.Counts.PagesOK != 3 {
		t.Fatalf("%v\n%v", err, sum)
	}
	if _, err := demo.VerifyIDs(context.Background(), gathertest.OpenDB(t, cfg.Database), ids, false, nil); err != nil {
		t.Fatal(err)
	}
	gated := startSite(t, "", demo.Options{Challenge: &demo.Challenge{}})
	cfg, _ = idTemplateConfig(t, demo.PageURL(gated.URL, "{id}"), "auto", 3, "")
	sum, _ = crawl(t, cfg, crawler.Options{})
	got := queryString(t, gathertest.OpenDB(t, cfg.Database), "SELECT DISTINCT error FROM gather_pages")
	if sum.Counts.PagesFailed != 3 || !strings.Contains(got, "no browser to solve it") || !strings.Contains(got, "apt-get install chromium") {
		t.Errorf("summary %v, reason %q", sum, got)
	}
}
