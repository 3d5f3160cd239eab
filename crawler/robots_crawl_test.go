package crawler_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
)

// robots.txt in whole crawls of the demo site: a few of Google's cases
// (robots_google_test.go has them all, asked of robots directly) and the
// RFC 9309 fetching rules, seen in what the crawl records and what the
// site was asked.

// robotsCrawl crawls ids tt0000001..3 of base as agent ("" for the
// default), and returns the pages by id.
func robotsCrawl(t *testing.T, base, agent string) (crawler.Summary, map[string]pageRow) {
	t.Helper()
	ua := ""
	if agent != "" {
		ua = fmt.Sprintf("  user_agent: %q\n", agent)
	}
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: robots
  start:
    url_template: %q
    ids: [tt0000001, tt0000002, tt0000003]
  retries: 0
%s`, demo.PageURL(base, "{id}"), ua))
	sum, _ := crawl(t, cfg, crawler.Options{})
	byID := map[string]pageRow{}
	for u, p := range pages(t, cfg.Database) {
		byID[idOf(u)] = p
	}
	return sum, byID
}

// checkSkipped checks which ids were skipped (the others ok), that each
// skipped page's reason starts with why, and that the site never saw it.
func checkSkipped(t *testing.T, site *demo.Site, got map[string]pageRow, skipped []string, why string) {
	t.Helper()
	for i := 1; i <= 3; i++ {
		id := demo.ID(i)
		p := got[id]
		want := "ok"
		if slices.Contains(skipped, id) {
			want = "skipped"
		}
		if p.status != want {
			t.Errorf("%s: %s (%s), want %s", id, p.status, p.err, want)
			continue
		}
		if want == "skipped" {
			if !strings.HasPrefix(p.err, why) {
				t.Errorf("%s skipped with %q, want %q…", id, p.err, why)
			}
			if n := site.Count("/title/" + id + "/fullcredits"); n != 0 {
				t.Errorf("%s skipped but requested %d times", id, n)
			}
		}
	}
}

func TestCrawl_RobotsGoogleCases(t *testing.T) {
	const rule = "disallowed by robots.txt (line "
	for _, tc := range []struct {
		name, robots, agent string
		skipped             []string
	}{
		// ID_LineSyntax_Groups: a rule before the first user-agent line
		// belongs to no group; the groups after it still apply.
		{"ID_LineSyntax_Groups", "Disallow: /title/tt0000001/\n\nUser-agent: *\nDisallow: /title/tt0000002/\n", "",
			[]string{"tt0000002"}},
		// ID_LongestMatch: an allow and a disallow of equal length allow.
		{"ID_LongestMatch/equal", "User-agent: *\nDisallow: /title/tt0000001/\nAllow: /title/tt0000001/\nDisallow: /title/tt0000002/\n", "",
			[]string{"tt0000002"}},
		// ID_LongestMatch: the longest match wins, wildcards or not.
		{"ID_LongestMatch/longest", "User-agent: *\nAllow: /title/tt0000001/\nDisallow: /*/fullcredits\n", "",
			[]string{"tt0000002", "tt0000003"}},
		// ID_SpecialCharacters: "#" starts a comment, "$" ends a path.
		{"ID_SpecialCharacters", "User-agent: *\nDisallow: /title/tt0000002/ # not /title/tt0000001/\nDisallow: /title/tt0000003/fullcredits$\n", "",
			[]string{"tt0000002", "tt0000003"}},
		// ID_GlobalGroups_Secondary: a group for the agent replaces "*".
		{"ID_GlobalGroups_Secondary", "User-agent: *\nDisallow: /\n\nUser-agent: gatherbot\nDisallow: /title/tt0000003/\n", "gatherbot/2.1",
			[]string{"tt0000003"}},
		// The product token of the configured user agent must equal the
		// group's, whole.
		{"product token gatherbot/2.1", "User-agent: gatherbot\nDisallow: /\n", "gatherbot/2.1 (+https://example.org/bot)",
			[]string{"tt0000001", "tt0000002", "tt0000003"}},
		{"product token gatherbot-extra/1.0", "User-agent: gatherbot\nDisallow: /\n", "gatherbot-extra/1.0",
			nil},
		{"default agent", "User-agent: gather\nDisallow: /title/tt0000001/\n", "",
			[]string{"tt0000001"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := startSite(t, "", demo.Options{Robots: tc.robots, Track: true})
			_, got := robotsCrawl(t, site.URL, tc.agent)
			checkSkipped(t, site.Site, got, tc.skipped, rule)
		})
	}
}

// RFC 9309 2.3.1.2: five redirects are followed to robots.txt; a sixth is
// not, and the host is then disallowed as unreachable.
func TestCrawl_RobotsRedirects(t *testing.T) {
	for _, tc := range []struct {
		redirects int
		skipped   []string
		why       string
	}{
		{5, []string{"tt0000002"}, "disallowed by robots.txt (line 2"},
		{6, []string{"tt0000001", "tt0000002", "tt0000003"}, "robots.txt unreachable (more than 5 redirects): the host is disallowed until it answers; the page was not fetched"},
	} {
		t.Run(fmt.Sprint(tc.redirects), func(t *testing.T) {
			site := demo.New(demo.Options{Robots: "User-agent: *\nDisallow: /title/tt0000002/\n", Track: true})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var step int
				switch {
				case r.URL.Path == "/robots.txt":
				case strings.HasPrefix(r.URL.Path, "/to-robots/"):
					fmt.Sscanf(r.URL.Path, "/to-robots/%d", &step)
				default:
					site.ServeHTTP(w, r)
					return
				}
				if step < tc.redirects {
					http.Redirect(w, r, fmt.Sprintf("/to-robots/%d", step+1), http.StatusMovedPermanently)
					return
				}
				r.URL.Path = "/robots.txt"
				site.ServeHTTP(w, r)
			}))
			defer srv.Close()
			_, got := robotsCrawl(t, srv.URL, "")
			checkSkipped(t, site, got, tc.skipped, tc.why)
		})
	}
}

// An unreachable host: robots.txt cannot be fetched, so the host is
// disallowed, and each page fails with a reason that says so rather than
// reading as a robots.txt verdict; a run whose every page failed so is a
// failed run, as it is with robots.txt off.
func TestCrawl_RobotsUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()
	sum, got := robotsCrawl(t, base, "")
	if sum.Counts.PagesFailed != 3 || sum.Status != "failed" {
		t.Errorf("summary %v, want 3 failed and the run failed", sum)
	}
	for id, p := range got {
		if want := "robots.txt unreachable (connection refused): the host is disallowed until it answers; the page was not fetched"; p.status != "failed" || p.err != want {
			t.Errorf("%s: %s %q, want failed %q", id, p.status, p.err, want)
		}
	}
}

// Crawl-delay holds the host's pace: one request at a time, at least that
// far apart, whatever crawl.parallelism says; a delay for another agent
// does not.
func TestCrawl_RobotsCrawlDelay(t *testing.T) {
	const delay = 250 * time.Millisecond
	site := startSite(t, "", demo.Options{Robots: "User-agent: *\nCrawl-delay: 0.25\n", Track: true})
	var urls []string
	for i := 1; i <= 4; i++ {
		urls = append(urls, fmt.Sprintf("%q", demo.PageURL(site.URL, demo.ID(i))))
	}
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: crawl-delay
  start:
    urls: [%s]
  parallelism: 8
`, strings.Join(urls, ", ")))
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil || sum.Counts.PagesOK != 4 {
		t.Fatalf("%v %v", sum, err)
	}
	var at []time.Time
	for _, r := range site.Log() {
		if strings.HasPrefix(r.Path, "/title/") {
			at = append(at, r.At)
		}
	}
	if len(at) != 4 {
		t.Fatalf("%d page requests", len(at))
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < delay {
			t.Errorf("request %d came %v after the one before, want at least %v", i+1, gap, delay)
		}
	}
	if n := site.MaxInFlight(); n != 1 {
		t.Errorf("%d requests in flight at once, want 1", n)
	}

	// Another agent's Crawl-delay of 5 s does not slow gather down.
	other := startSite(t, "", demo.Options{Robots: "User-agent: otherbot\nCrawl-delay: 5\n"})
	cfg = testConfig(t, fmt.Sprintf(`crawl:
  name: crawl-delay-other
  start:
    url_template: %q
    ids: [tt0000001, tt0000002, tt0000003]
`, demo.PageURL(other.URL, "{id}")))
	start := time.Now()
	if sum, err := crawl(t, cfg, crawler.Options{}); err != nil || sum.Counts.PagesOK != 3 {
		t.Fatalf("%v %v", sum, err)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("took %v: another agent's Crawl-delay was applied", took)
	}
}
