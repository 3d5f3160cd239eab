package crawler_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/crawler/proxy"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/internal/proxytest"
)

// peerSite is the demo site behind a server that notes the address of
// every connection's peer, and serves besides /sitemap.xml (listing
// /go/ID for each id) and /go/ID (a 301 to ID's page): robots.txt, a
// sitemap and a redirect are fetched like the pages.
type peerSite struct {
	URL   string
	Site  *demo.Site
	mu    sync.Mutex
	peers map[string]int // peer IP → requests
}

func startPeerSite(t *testing.T, host string, opts demo.Options, ids []string) *peerSite {
	t.Helper()
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Track = true
	s := &peerSite{Site: demo.New(opts), peers: map[string]int{}, URL: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("/sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
		base := "http://" + r.Host
		for _, id := range ids {
			fmt.Fprintf(&b, "<url><loc>%s/go/%s</loc></url>", base, id)
		}
		b.WriteString("</urlset>")
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(b.String()))
	})
	mux.HandleFunc("/go/{id}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, demo.PageURL("", r.PathValue("id")), http.StatusMovedPermanently)
	})
	mux.Handle("/", s.Site)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		s.mu.Lock()
		s.peers[ip]++
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		srv.Serve(ln)
		close(done)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

// onlyFrom fails unless every request the site saw came from ip.
func (s *peerSite) onlyFrom(t *testing.T, ip string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.peers) != 1 || s.peers[ip] == 0 {
		t.Errorf("the site's peers: %v; want requests from %s only (the proxy's outgoing address)", s.peers, ip)
	}
}

func (s *peerSite) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.peers {
		n += c
	}
	return n
}

// proxyConfig crawls n pages of site from its sitemap, robots.txt on,
// through proxies (YAML list items; none: the environment's).
func proxyConfig(t *testing.T, site *peerSite, proxies []string, extra string) *config.Config {
	t.Helper()
	var b strings.Builder
	if len(proxies) > 0 {
		b.WriteString("  proxy:\n")
		for _, p := range proxies {
			fmt.Fprintf(&b, "    - %q\n", p)
		}
	}
	return testConfig(t, fmt.Sprintf(`crawl:
  name: proxied
  start:
    sitemaps: [%q]
  parallelism: 4
  timeout: 10s
  retries: 1
  robots_txt: true
%s%s`, site.URL+"/sitemap.xml", b.String(), extra))
}

// verifyCrawl checks that the crawl stored exactly ids' movies, with no
// failed page (and one more page ok for a sitemap).
func verifyCrawl(t *testing.T, cfg *config.Config, sum crawler.Summary, ids []string) {
	t.Helper()
	db := gathertest.OpenDB(t, cfg.Database)
	want := int64(len(ids) + len(cfg.Crawl.Start.Sitemaps))
	if sum.Counts.PagesOK != want || sum.Counts.PagesFailed != 0 {
		t.Fatalf("summary %v, want %d ok pages; failures: %s", sum, want,
			queryString(t, db, "SELECT group_concat(url || ': ' || error, '; ') FROM gather_pages WHERE status = 'failed'"))
	}
	if _, err := demo.VerifyIDs(context.Background(), db, ids, false, nil); err != nil {
		t.Fatal(err)
	}
}

// tinyproxy carries robots.txt, the sitemap, the redirects and the pages:
// the site sees no connection but the proxy's, and the data is exact.
func TestProxy_HTTPProxyCarriesEverything(t *testing.T) {
	px := proxytest.Tinyproxy(t, proxytest.Options{From: "127.0.0.3"})
	ids := demo.IDs(20)
	site := startPeerSite(t, "", demo.Options{}, ids)
	cfg := proxyConfig(t, site, []string{px.URL("", "")}, "")
	before := proxy.CountsOf(px.Addr)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	verifyCrawl(t, cfg, sum, ids)
	site.onlyFrom(t, "127.0.0.3")
	// The archive (on by default) captured the pages fetched through it.
	if n := queryInt(t, gathertest.OpenDB(t, cfg.Database), "SELECT count(*) FROM gather_archive"); n < 20 {
		t.Errorf("%d pages archived, want the 20 pages at least", n)
	}
	if site.Site.Count("/robots.txt") != 1 {
		t.Errorf("robots.txt fetched %d times, want 1", site.Site.Count("/robots.txt"))
	}
	// robots.txt, the sitemap, 20 redirects and 20 pages.
	if got := proxy.CountsOf(px.Addr).Requests - before.Requests; got != 42 || site.requests() != 42 {
		t.Errorf("requests counted through the proxy: %d, seen by the site: %d; want 42 each", got, site.requests())
	}
	log, err := os.ReadFile(px.Log)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "Request (file descriptor"); n < 42 {
		t.Errorf("tinyproxy logged %d requests, want at least 42:\n%s", n, log)
	}
}

// microsocks with credentials carries the crawl; a wrong password fails
// every page with a reason naming the proxy and never the password, and
// nothing reaches the site.
func TestProxy_SOCKS5Credentials(t *testing.T) {
	px := proxytest.Microsocks(t, proxytest.Options{From: "127.0.0.4", User: "crawler", Password: "s3cret-pw"})
	ids := demo.IDs(10)
	site := startPeerSite(t, "", demo.Options{}, ids)
	cfg := proxyConfig(t, site, []string{px.URL("crawler", "s3cret-pw")}, "")
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	verifyCrawl(t, cfg, sum, ids)
	site.onlyFrom(t, "127.0.0.4")

	wrong := startPeerSite(t, "", demo.Options{}, ids)
	cfg = proxyConfig(t, wrong, []string{px.URL("crawler", "wrong-pw")}, "")
	cfg.Crawl.RobotsTxt = false
	cfg.Crawl.Start.Sitemaps = nil
	cfg.Crawl.Start.URLTemplate, cfg.Crawl.Start.IDs = demo.PageURL(wrong.URL, "{id}"), ids[:3]
	sum, _ = crawl(t, cfg, crawler.Options{})
	wantFailedThroughProxy(t, cfg, sum, 3, "proxy "+px.Addr+": SOCKS5 username/password authentication failed: the proxy refused crawl.proxy's credentials", "wrong-pw")
	if n := wrong.requests(); n != 0 {
		t.Errorf("the site saw %d requests through a proxy that refused the credentials", n)
	}
}

// tinyproxy with BasicAuth: the right credentials carry the crawl, wrong
// ones fail each page as the proxy's refusal.
func TestProxy_HTTPCredentials(t *testing.T) {
	px := proxytest.Tinyproxy(t, proxytest.Options{From: "127.0.0.3", User: "crawler", Password: "s3cret-pw"})
	ids := demo.IDs(10)
	site := startPeerSite(t, "", demo.Options{}, ids)
	cfg := proxyConfig(t, site, []string{px.URL("crawler", "s3cret-pw")}, "")
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	verifyCrawl(t, cfg, sum, ids)
	site.onlyFrom(t, "127.0.0.3")

	wrong := startPeerSite(t, "", demo.Options{}, ids)
	cfg = proxyConfig(t, wrong, []string{px.URL("crawler", "wrong-pw")}, "")
	cfg.Crawl.RobotsTxt = false
	cfg.Crawl.Start.Sitemaps = nil
	cfg.Crawl.Start.URLTemplate, cfg.Crawl.Start.IDs = demo.PageURL(wrong.URL, "{id}"), ids[:3]
	sum, _ = crawl(t, cfg, crawler.Options{})
	wantFailedThroughProxy(t, cfg, sum, 3, "proxy "+px.Addr+": 407 Proxy Authentication Required: the proxy refused crawl.proxy's credentials", "wrong-pw")
	if n := wrong.requests(); n != 0 {
		t.Errorf("the site saw %d requests through a proxy that refused the credentials", n)
	}
}

// wantFailedThroughProxy checks that n pages failed with reason and that
// secret appears nowhere in the database's text.
func wantFailedThroughProxy(t *testing.T, cfg *config.Config, sum crawler.Summary, n int64, reason, secret string) {
	t.Helper()
	db := gathertest.OpenDB(t, cfg.Database)
	if sum.Counts.PagesFailed != n || sum.Counts.PagesOK != 0 {
		t.Errorf("summary %v, want %d failed pages", sum, n)
	}
	if got := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE status = 'failed' AND substr(error, 1, length(?1)) = ?1", reason); got != n {
		t.Errorf("%d pages failed with %q; reasons: %s", got, reason,
			queryString(t, db, "SELECT group_concat(DISTINCT error) FROM gather_pages"))
	}
	if got := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE instr(coalesce(error, ''), ?) > 0", secret); got != 0 {
		t.Errorf("the password is in %d pages' reasons", got)
	}
	if got := queryInt(t, db, "SELECT count(*) FROM gather_runs WHERE instr(coalesce(error, ''), ?) > 0", secret); got != 0 {
		t.Errorf("the password is in the run's error")
	}
}

// A single proxy that refuses connections: each page fails naming it.
func TestProxy_DeadProxyIsNamed(t *testing.T) {
	dead := proxytest.DeadAddr(t)
	site := startPeerSite(t, "", demo.Options{}, nil)
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: dead
  start:
    url_template: %q
    ids: [tt0000001, tt0000002]
  retries: 1
  robots_txt: false
  proxy: "http://user:pw@%s"
`, demo.PageURL(site.URL, "{id}"), dead))
	sum, _ := crawl(t, cfg, crawler.Options{})
	wantFailedThroughProxy(t, cfg, sum, 2, "proxy "+dead+": connection refused", "pw@")
	if site.requests() != 0 {
		t.Errorf("the site saw %d requests", site.requests())
	}
}

// A list with dead proxies: the pages of a host whose first choice is
// dead go through its next one, every page lands, and the dead ones
// rest and are counted.
func TestProxy_DeadProxyInAListLosesNothing(t *testing.T) {
	tiny := proxytest.Tinyproxy(t, proxytest.Options{From: "127.0.0.3"})
	socks := proxytest.Microsocks(t, proxytest.Options{From: "127.0.0.3"})
	dead := proxytest.DeadAddr(t)
	list := []string{"http://" + dead, tiny.URL("", ""), socks.URL("", "")}
	pool, err := proxy.New(list)
	if err != nil {
		t.Fatal(err)
	}
	// Sites (hosts) until one's first choice is the dead proxy: the
	// spread is a hash of proxy and host, so which ports do is not known
	// in advance, but some 1 in 3 do.
	ids := demo.IDs(12)
	var sites []*peerSite
	deadFirst := 0
	for deadFirst == 0 || len(sites) < 3 {
		s := startPeerSite(t, "", demo.Options{}, ids)
		u, _ := url.Parse(s.URL)
		if px, _ := pool.Choose(u, nil); px.Name == dead {
			deadFirst++
		}
		sites = append(sites, s)
	}
	var start []string
	for _, s := range sites {
		start = append(start, fmt.Sprintf("%q", s.URL+"/sitemap.xml"))
	}
	var b strings.Builder
	for _, p := range list {
		fmt.Fprintf(&b, "    - %q\n", p)
	}
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: list
  start:
    sitemaps: [%s]
  parallelism: 4
  timeout: 10s
  retries: 0
  robots_txt: true
  proxy:
%s`, strings.Join(start, ", "), b.String()))
	before := proxy.CountsOf(dead)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	// The same 12 movies on every site (one row each) and its sitemap.
	if want := int64(13 * len(sites)); sum.Counts.PagesOK != want || sum.Counts.PagesFailed != 0 || sum.Retries != 0 {
		t.Fatalf("summary %v, want %d ok pages, no retry (the next proxy is tried at once); failures: %s", sum, want,
			queryString(t, db, "SELECT group_concat(url || ': ' || error, '; ') FROM gather_pages WHERE status = 'failed'"))
	}
	if _, err := demo.VerifyIDs(context.Background(), db, ids, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, s := range sites {
		s.onlyFrom(t, "127.0.0.3")
	}
	after := proxy.CountsOf(dead)
	if after.Failures == before.Failures || after.Rests == before.Rests {
		t.Errorf("the dead proxy's counts: %+v before, %+v after; want failures and rests", before, after)
	}
	// Resting, it is passed over: far fewer failures than the
	// dead-first hosts' requests (2 + 12 + 12 each).
	if n := after.Failures - before.Failures; n >= int64(deadFirst*26) {
		t.Errorf("the dead proxy failed %d requests of %d dead-first hosts: it did not rest", n, deadFirst)
	}
}

// HTTP_PROXY is honoured when crawl.proxy is empty, with Go's rules: a
// loopback target (localhost, 127.0.0.1) goes direct, a name goes through
// it. The name is the machine's host name where /etc/hosts maps it to a
// loopback address (Debian's 127.0.1.1; 127.0.0.1 here): a name to Go,
// so not exempt, and resolved by the proxy to this machine.
func TestProxy_EnvironmentProxy(t *testing.T) {
	px := proxytest.Tinyproxy(t, proxytest.Options{From: "127.0.0.3"})
	name, ip := loopbackName(t)
	t.Setenv("HTTP_PROXY", px.URL("", ""))
	for _, v := range []string{"HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"} {
		t.Setenv(v, "")
	}
	ids := demo.IDs(6)
	site := startPeerSite(t, ip, demo.Options{}, ids)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(site.URL, "http://"))
	named := "http://" + net.JoinHostPort(name, port)
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: env
  start:
    url_template: %q
    ids: [%s]
  robots_txt: true
`, demo.PageURL(named, "{id}"), strings.Join(ids, ", ")))
	sum, err := crawl(t, cfg, crawler.Options{AllowPrivate: true})
	if err != nil {
		t.Fatalf("%v\n%v\n%s", err, sum, queryString(t, gathertest.OpenDB(t, cfg.Database), "SELECT group_concat(url || ': ' || error, '; ') FROM gather_pages"))
	}
	verifyCrawl(t, cfg, sum, ids)
	site.onlyFrom(t, "127.0.0.3")

	// NO_PROXY names it: direct.
	t.Setenv("NO_PROXY", name)
	nop := startPeerSite(t, ip, demo.Options{}, ids)
	_, port, _ = net.SplitHostPort(strings.TrimPrefix(nop.URL, "http://"))
	cfg = testConfig(t, fmt.Sprintf(`crawl:
  name: env-no-proxy
  start:
    url_template: %q
    ids: [%s]
`, demo.PageURL("http://"+net.JoinHostPort(name, port), "{id}"), strings.Join(ids, ", ")))
	if sum, err = crawl(t, cfg, crawler.Options{AllowPrivate: true}); err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	verifyCrawl(t, cfg, sum, ids)
	nop.onlyFrom(t, ip)
	t.Setenv("NO_PROXY", "")

	direct := startPeerSite(t, "", demo.Options{}, ids)
	cfg = testConfig(t, fmt.Sprintf(`crawl:
  name: env-loopback
  start:
    url_template: %q
    ids: [%s]
`, demo.PageURL(direct.URL, "{id}"), strings.Join(ids, ", ")))
	sum, err = crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	verifyCrawl(t, cfg, sum, ids)
	direct.onlyFrom(t, "127.0.0.1")
}

// fetch: auto solves the demo's JavaScript challenge in Chromium through
// the proxy, answering the proxy's request for credentials, and the
// pages after it go through the proxy with the solved cookie: the site
// sees no connection but the proxy's.
func TestProxy_AutoSolvesTheChallengeThroughTheProxy(t *testing.T) {
	needChromium(t)
	px := proxytest.Tinyproxy(t, proxytest.Options{From: "127.0.0.3", User: "crawler", Password: "s3cret-pw"})
	ids := demo.IDs(8)
	site := startPeerSite(t, "", demo.Options{Challenge: &demo.Challenge{TokenTTL: time.Minute}}, ids)
	cfg, _ := idTemplateConfig(t, demo.PageURL(site.URL, "{id}"), "auto", 8, fmt.Sprintf("  proxy: %q\n", px.URL("crawler", "s3cret-pw")))
	sum, err := crawl(t, cfg, browserOpts())
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	verifyCrawl(t, cfg, sum, ids)
	if sum.Counts.Challenges != 1 || site.Site.Solves() != 1 {
		t.Errorf("summary %v; site saw %d solves; want 1", sum, site.Site.Solves())
	}
	site.onlyFrom(t, "127.0.0.3")
}

// fetch: browser through a SOCKS5 proxy: every page in Chromium, every
// connection the proxy's.
func TestProxy_BrowserThroughSOCKS5(t *testing.T) {
	needChromium(t)
	px := proxytest.Microsocks(t, proxytest.Options{From: "127.0.0.4"})
	ids := demo.IDs(4)
	site := startPeerSite(t, "", demo.Options{}, ids)
	cfg, _ := idTemplateConfig(t, demo.PageURL(site.URL, "{id}"), "browser", 4, fmt.Sprintf("  proxy: %q\n", px.URL("", "")))
	sum, err := crawl(t, cfg, browserOpts())
	if err != nil {
		t.Fatalf("%v\n%v", err, sum)
	}
	verifyCrawl(t, cfg, sum, ids)
	site.onlyFrom(t, "127.0.0.4")
}

// loopbackName is this machine's host name and the loopback address it
// resolves to, or skips the test.
func loopbackName(t *testing.T) (string, string) {
	t.Helper()
	name, err := os.Hostname()
	if err != nil || name == "" || name == "localhost" {
		t.Skipf("no host name besides localhost (%v)", err)
	}
	ips, err := net.LookupIP(name)
	if err != nil || len(ips) == 0 {
		t.Skipf("the host name %s does not resolve: %v", name, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() || ip.To4() == nil {
			t.Skipf("the host name %s resolves to %v, not only to IPv4 loopback: this test sends traffic to loopback only", name, ips)
		}
	}
	return name, ips[0].String()
}

// An environment proxy that does not parse stops the crawl before any
// request, naming the variable and not the password.
func TestProxy_BadEnvironmentProxy(t *testing.T) {
	for _, v := range []string{"HTTP_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"} {
		t.Setenv(v, "")
	}
	t.Setenv("HTTPS_PROXY", "ftp://u:s3cret@127.0.0.1:21")
	cfg := testConfig(t, `crawl:
  name: bad-env
  start:
    urls: ["http://127.0.0.1:9/"]
`)
	_, err := crawler.New(cfg, nil, crawler.Options{})
	if err == nil || !strings.Contains(err.Error(), "HTTPS_PROXY") || !strings.Contains(err.Error(), "the scheme must be") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("New: %v", err)
	}
}

// Chromium through a proxy that refuses its credentials: the pages fail
// as the proxy's refusal, and nothing reaches the site.
func TestProxy_BrowserWrongCredentials(t *testing.T) {
	needChromium(t)
	px := proxytest.Tinyproxy(t, proxytest.Options{From: "127.0.0.3", User: "crawler", Password: "s3cret-pw"})
	ids := demo.IDs(2)
	site := startPeerSite(t, "", demo.Options{}, ids)
	cfg, _ := idTemplateConfig(t, demo.PageURL(site.URL, "{id}"), "browser", 2, fmt.Sprintf("  proxy: %q\n  robots_txt: false\n", px.URL("crawler", "wrong-pw")))
	sum, _ := crawl(t, cfg, browserOpts())
	wantFailedThroughProxy(t, cfg, sum, 2, "proxy "+px.Addr+": 407 Proxy Authentication Required: the proxy refused crawl.proxy's credentials", "wrong-pw")
	if n := site.requests(); n != 0 {
		t.Errorf("the site saw %d requests", n)
	}
}
