package robots

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// RFC 9309 beyond the rules of Google's test cases: fetching robots.txt
// (redirects, size, status codes, unreachable hosts), Crawl-delay and the
// product token of gather's configured User-Agent. Each asks gather's
// robots over a plain transport, against a server on 127.0.0.1.

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type verdict3 struct {
	path  string
	allow bool
}

func checkVerdicts(t *testing.T, rb *Cache, base string, want []verdict3) {
	t.Helper()
	for _, w := range want {
		ok, why, err := rb.Allowed(context.Background(), mustURL(t, base+w.path))
		if err != nil {
			t.Fatal(err)
		}
		if ok != w.allow {
			t.Errorf("%s: allowed %v (%s), want %v", w.path, ok, why, w.allow)
		}
	}
}

// Section 2.1: rules before the first user-agent line belong to no group
// and are ignored; the groups after them still apply.
func TestRobots_RulesBeforeFirstGroup(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want []verdict3
	}{
		"allow before the * group": {"Allow: /open/\nUser-agent: *\nDisallow: /\n",
			[]verdict3{{"/", false}, {"/open/x", false}, {"/x", false}}},
		"disallow before the * group": {"Disallow: /\n\nUser-agent: *\nDisallow: /private/\n",
			[]verdict3{{"/", true}, {"/x", true}, {"/private/x", false}}},
		"sitemap and junk first": {"Sitemap: http://x/s.xml\nnonsense\nDisallow: /a\nUser-agent: gatherbot\nDisallow: /b\n",
			[]verdict3{{"/a", true}, {"/b", false}}},
		"rules and no group": {"Disallow: /\n", []verdict3{{"/", true}, {"/x", true}}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := serveRobots(t, http.StatusOK, tc.body)
			checkVerdicts(t, newTestRobots("gatherbot/2.1"), srv.URL, tc.want)
		})
	}
}

// Section 2.2.1: the configured User-Agent's product token must equal a
// group's user-agent value (case-insensitively), not merely start it.
func TestRobots_ProductToken(t *testing.T) {
	const body = "User-agent: *\nDisallow: /star/\n\nUser-agent: gatherbot\nDisallow: /own/\n"
	for _, tc := range []struct {
		agent    string
		ownGroup bool // the gatherbot group applies, not *
	}{
		{"gatherbot/2.1", true},
		{"gatherbot/2.1 (+https://example.org/bot)", true},
		{"GatherBot/3", true},
		{"gatherbot", true},
		{"gatherbot-extra/1.0", false},
		{"gatherbot_extra/1.0", false},
		{"gatherbo/1.0", false},
		{"gather/0.1.0", false},
		{"Mozilla/5.0 (compatible; gatherbot/2.1)", false},
	} {
		t.Run(tc.agent, func(t *testing.T) {
			srv := serveRobots(t, http.StatusOK, body)
			checkVerdicts(t, newTestRobots(tc.agent), srv.URL, []verdict3{{"/own/x", !tc.ownGroup}, {"/star/x", tc.ownGroup}})
		})
	}
	// Nor the other way round: a longer token in the file is another agent.
	srv := serveRobots(t, http.StatusOK, "User-agent: gatherbot-extra\nDisallow: /\n")
	checkVerdicts(t, newTestRobots("gatherbot/2.1"), srv.URL, []verdict3{{"/x", true}})
	// A group's value is read up to the end of its token too.
	srv = serveRobots(t, http.StatusOK, "User-agent: gatherbot/2.1\nDisallow: /\n")
	checkVerdicts(t, newTestRobots("gatherbot/1.0"), srv.URL, []verdict3{{"/x", false}})
}

// redirectServer answers /robots.txt with a chain of n redirects
// (/r1 … /rn) ending in body, and counts the requests.
func redirectServer(t *testing.T, n int, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		step := 0
		switch {
		case r.URL.Path == "/robots.txt":
		case strings.HasPrefix(r.URL.Path, "/r"):
			fmt.Sscanf(r.URL.Path, "/r%d", &step)
		default:
			http.NotFound(w, r)
			return
		}
		if step < n {
			http.Redirect(w, r, fmt.Sprintf("/r%d", step+1), http.StatusFound)
			return
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// Section 2.3.1.2: at least five consecutive redirects are followed. Past
// five gather stops and treats robots.txt as unreachable, which disallows
// the host (the RFC allows either reading).
func TestRobots_Redirects(t *testing.T) {
	const body = "User-agent: *\nDisallow: /private/\n"
	for n := 0; n <= 5; n++ {
		srv, hits := redirectServer(t, n, body)
		rb := newTestRobots("gatherbot/2.1")
		checkVerdicts(t, rb, srv.URL, []verdict3{{"/x", true}, {"/private/x", false}})
		if got := hits.Load(); got != int64(n+1) {
			t.Errorf("%d redirects: %d requests, want %d", n, got, n+1)
		}
	}
	srv, hits := redirectServer(t, 6, body)
	ok, why, err := newTestRobots("gatherbot/2.1").Allowed(context.Background(), mustURL(t, srv.URL+"/x"))
	if err != nil || ok {
		t.Fatalf("6 redirects: allowed %v, %v", ok, err)
	}
	if want := "robots.txt unreachable (more than 5 redirects)"; !strings.HasPrefix(why, want) {
		t.Errorf("6 redirects: reason %q, want %q…", why, want)
	}
	if got := hits.Load(); got != 6 {
		t.Errorf("6 redirects: %d requests, want 6 (the sixth redirect not followed)", got)
	}
	// A redirect to a 404 is a 404: everything is allowed.
	srv404 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.Redirect(w, r, "/gone", http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv404.Close()
	checkVerdicts(t, newTestRobots("gatherbot/2.1"), srv404.URL, []verdict3{{"/x", true}})
}

// Section 2.5: at least 500 KiB are parsed. Rules within the first 500 KiB
// apply; what follows is ignored, and so is a line the limit cuts through
// (read whole, "Allow: /early/open" cut to "Allow: /early/" would allow
// more than the file does).
func TestRobots_500KiB(t *testing.T) {
	// fill is head and comment lines, n bytes in all, ending in a newline.
	fill := func(head string, n int) string {
		var b strings.Builder
		b.WriteString(head)
		for b.Len() < n {
			l := min(100, n-b.Len())
			b.WriteString(strings.Repeat("#", l-1) + "\n")
		}
		return b.String()
	}
	const head = "User-agent: *\nDisallow: /early\n"

	t.Run("ends at the limit", func(t *testing.T) {
		const last = "Disallow: /last-within\n"
		within := fill(head, MaxBytes-len(last)) + last
		if len(within) != MaxBytes {
			t.Fatalf("built %d bytes", len(within))
		}
		srv := serveRobots(t, http.StatusOK, within+"Disallow: /beyond\n")
		checkVerdicts(t, newTestRobots("gatherbot/2.1"), srv.URL, []verdict3{
			{"/early", false}, {"/last-within", false}, {"/beyond", true}, {"/x", true}})
	})
	t.Run("a line across the limit", func(t *testing.T) {
		const kept = "Allow: /early/"
		body := fill(head, MaxBytes-len(kept)) + kept + "open\nDisallow: /beyond\n"
		if got := body[MaxBytes-len(kept) : MaxBytes+4]; got != kept+"open" {
			t.Fatalf("the limit cuts %q", got)
		}
		srv := serveRobots(t, http.StatusOK, body)
		checkVerdicts(t, newTestRobots("gatherbot/2.1"), srv.URL, []verdict3{
			{"/early/x", false}, {"/early/open", false}, {"/beyond", true}})
	})
	t.Run("one line, longer than the limit", func(t *testing.T) {
		srv := serveRobots(t, http.StatusOK, "User-agent: * "+strings.Repeat("x", MaxBytes)+"\nDisallow: /\n")
		checkVerdicts(t, newTestRobots("gatherbot/2.1"), srv.URL, []verdict3{{"/x", true}})
	})
}

// Section 2.3.1.3 and 2.3.1.4: a 4xx means no robots.txt (everything is
// allowed); a 5xx, or no answer at all, means robots.txt is unreachable
// and the whole host is disallowed, saying why. 429 is read as Google
// reads it: the server cannot answer now, so it disallows.
func TestRobots_Status(t *testing.T) {
	for _, tc := range []struct {
		status int
		allow  bool
		reason string
	}{
		{http.StatusOK, true, ""},
		{http.StatusBadRequest, true, ""},
		{http.StatusUnauthorized, true, ""},
		{http.StatusForbidden, true, ""},
		{http.StatusNotFound, true, ""},
		{http.StatusGone, true, ""},
		{http.StatusTooManyRequests, false, "robots.txt unavailable (HTTP 429 Too Many Requests)"},
		{http.StatusInternalServerError, false, "robots.txt unavailable (HTTP 500 Internal Server Error)"},
		{http.StatusServiceUnavailable, false, "robots.txt unavailable (HTTP 503 Service Unavailable)"},
		{599, false, "robots.txt unavailable (HTTP 599)"},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			// Only a 2xx body is read: a 404 page saying "Disallow: /"
			// states no rules.
			body := "User-agent: *\nDisallow: /\n"
			if tc.status == http.StatusOK {
				body = "User-agent: *\nDisallow: /private/\n"
			}
			srv := serveRobots(t, tc.status, body)
			ok, why, err := newTestRobots("gatherbot/2.1").Allowed(context.Background(), mustURL(t, srv.URL+"/x"))
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.allow || !strings.HasPrefix(why, tc.reason) {
				t.Errorf("allowed %v (%q), want %v (%q…)", ok, why, tc.allow, tc.reason)
			}
			if !ok && !strings.HasSuffix(why, "the page was not fetched") {
				t.Errorf("reason %q does not say the page was not fetched", why)
			}
		})
	}
}

// A crawl interrupted while robots.txt is being fetched decides nothing:
// the page stays pending (hooks.go), and robots.txt is fetched again.
func TestRobots_InterruptedFetchIsNotAnAnswer(t *testing.T) {
	var hits atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
	}))
	defer srv.Close()
	defer close(release)
	rb := newTestRobots("gatherbot/2.1")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if ok, why, err := rb.Allowed(ctx, mustURL(t, srv.URL+"/x")); err == nil {
		t.Fatalf("interrupted: allowed %v (%q), want ctx's error", ok, why)
	}
	checkVerdicts(t, rb, srv.URL, []verdict3{{"/x", true}, {"/private/x", false}})
	if got := hits.Load(); got != 2 {
		t.Errorf("%d requests for robots.txt, want 2", got)
	}
}

// robots.txt is fetched once per host, however many pages ask at once.
func TestRobots_FetchedOncePerHost(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		time.Sleep(20 * time.Millisecond)
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
	}))
	defer srv.Close()
	rb := newTestRobots("gatherbot/2.1")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("/page/%d", i)
			if i%2 == 1 {
				path = "/private" + path
			}
			ok, _, err := rb.Allowed(context.Background(), mustURL(t, srv.URL+path))
			if err != nil || ok != (i%2 == 0) {
				t.Errorf("%s: allowed %v, %v", path, ok, err)
			}
		}()
	}
	wg.Wait()
	if got := hits.Load(); got != 1 {
		t.Errorf("%d requests for robots.txt, want 1", got)
	}
}

// Crawl-delay: the value of the group that applies, in seconds (fractions
// allowed), capped at MaxCrawlDelay; not the "*" group's when ours
// exists; nothing when unparsable.
func TestRobots_CrawlDelay(t *testing.T) {
	for _, tc := range []struct {
		name, agent, body string
		want              time.Duration
	}{
		{"ours", "gatherbot/2.1", "User-agent: *\nCrawl-delay: 2\nDisallow: /p/\n\nUser-agent: gatherbot\nCrawl-delay: 0.5\nDisallow: /x\n", 500 * time.Millisecond},
		{"the * group's", "otherbot/1", "User-agent: *\nCrawl-delay: 2\nDisallow: /p/\n\nUser-agent: gatherbot\nCrawl-delay: 0.5\nDisallow: /x\n", 2 * time.Second},
		{"ours has none", "gatherbot/2.1", "User-agent: *\nCrawl-delay: 2\nDisallow: /p/\n\nUser-agent: gatherbot\nDisallow: /x\n", 0},
		// Crawl-delay is an "other record", which must not end a group
		// (RFC 9309 2.2.4): without a rule between them the two groups
		// are one, whose delays are 2 s and 0.5 s; the longer holds.
		{"a group of Crawl-delay only merges with the next", "gatherbot/2.1", "User-agent: *\nCrawl-delay: 2\n\nUser-agent: gatherbot\nCrawl-delay: 0.5\nDisallow: /x\n", 2 * time.Second},
		{"another agent's only", "gatherbot/2.1", "User-agent: otherbot\nCrawl-delay: 5\n", 0},
		{"another agent's, before ours", "gatherbot/2.1", "User-agent: otherbot\nDisallow: /\nCrawl-delay: 5\n\nUser-agent: gatherbot\nDisallow: /x\n", 0},
		{"another agent's, after ours", "gatherbot/2.1", "User-agent: gatherbot\nDisallow: /x\n\nUser-agent: otherbot\nCrawl-delay: 5\nDisallow: /\n", 0},
		{"capped", "gatherbot/2.1", "User-agent: *\nCrawl-delay: 3600\n", MaxCrawlDelay},
		{"at the cap", "gatherbot/2.1", "User-agent: *\nCrawl-delay: 10\n", 10 * time.Second},
		{"huge", "gatherbot/2.1", "User-agent: *\nCrawl-delay: 1e300\n", MaxCrawlDelay},
		{"before the rules, in a merged group", "gatherbot/2.1", "User-agent: otherbot\nCrawl-delay: 3\nUser-agent: gatherbot\nDisallow: /x\n", 3 * time.Second},
		{"case and comment", "gatherbot/2.1", "user-agent: *\nCRAWL-DELAY: 1.5 # please\n", 1500 * time.Millisecond},
		{"unparsable", "gatherbot/2.1", "User-agent: *\nCrawl-delay: soon\n", 0},
		{"negative", "gatherbot/2.1", "User-agent: *\nCrawl-delay: -4\n", 0},
		{"NaN", "gatherbot/2.1", "User-agent: *\nCrawl-delay: NaN\n", 0},
		{"outside any group", "gatherbot/2.1", "Crawl-delay: 4\nUser-agent: *\nDisallow: /x\n", 0},
		{"the largest of ours", "gatherbot/2.1", "User-agent: gatherbot\nCrawl-delay: 1\nUser-agent: *\nDisallow: /\nUser-agent: gatherbot\nCrawl-delay: 4\n", 4 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serveRobots(t, http.StatusOK, tc.body)
			rb := newTestRobots(tc.agent)
			u := mustURL(t, srv.URL+"/page")
			if got := rb.CrawlDelay(u); got != 0 {
				t.Errorf("before robots.txt is fetched: %v", got)
			}
			if _, _, err := rb.Allowed(context.Background(), u); err != nil {
				t.Fatal(err)
			}
			if got := rb.CrawlDelay(u); got != tc.want {
				t.Errorf("crawl delay %v, want %v", got, tc.want)
			}
		})
	}
	var nilRobots *Cache // robots_txt: false
	if got := nilRobots.CrawlDelay(mustURL(t, "http://h/")); got != 0 {
		t.Errorf("no robots: %v", got)
	}
	// A host without robots.txt asks for none.
	srv := serveRobots(t, http.StatusNotFound, "")
	rb := newTestRobots("gatherbot/2.1")
	u := mustURL(t, srv.URL+"/page")
	rb.Allowed(context.Background(), u)
	if got := rb.CrawlDelay(u); got != 0 {
		t.Errorf("404: %v", got)
	}
}

// The robots.txt request carries the configured User-Agent.
func TestRobots_SendsUserAgent(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("User-Agent")
	}))
	defer srv.Close()
	newTestRobots("gatherbot/2.1 (+https://example.org/bot)").Allowed(context.Background(), mustURL(t, srv.URL+"/"))
	if ua := <-got; ua != "gatherbot/2.1 (+https://example.org/bot)" {
		t.Errorf("User-Agent %q", ua)
	}
}

// The reason for a disallowed page names the rule.
func TestRobots_DisallowReason(t *testing.T) {
	srv := serveRobots(t, http.StatusOK, "User-agent: *\nAllow: /a/\n# comment\nDisallow: /a/b # not here\nDisallow: /*.pdf$\n")
	rb := newTestRobots("gatherbot/2.1")
	for path, want := range map[string]string{
		"/a/b/c":     `disallowed by robots.txt (line 4: "Disallow: /a/b")`,
		"/x/doc.pdf": `disallowed by robots.txt (line 5: "Disallow: /*.pdf$")`,
	} {
		ok, why, err := rb.Allowed(context.Background(), mustURL(t, srv.URL+path))
		if err != nil || ok || why != want {
			t.Errorf("%s: allowed %v (%q), %v; want %q", path, ok, why, err, want)
		}
	}
}

func TestRobotsMatch(t *testing.T) {
	for _, tc := range []struct {
		path, pattern string
		want          bool
	}{
		{"/", "", true},
		{"/a", "/", true},
		{"/a", "/a$", true},
		{"/ab", "/a$", false},
		{"/a$b", "/a$b", true}, // "$" only ends a pattern at its end
		{"/a", "/a$b", false},
		{"/a/b/c.html", "/*/*.html", true},
		{"/a.html", "/*/*.html", false},
		{"/x", "*", true},
		{"/x", "**$", true},
		{"", "$", true},
		{"/abc", "/a*c$", true},
		{"/abcd", "/a*c$", false},
		{"/a*c", "/a*c", true},
		{"/fish", "/fish*", true},
		{"/abab", "/*ab$", true},
		{"/ab", "/*ab*ab", false},
		{"/abab", "/*ab*ab", true},
		{"/a", "/a*$", true},
		{"/x/y", "/x*", true},
	} {
		if got := match(tc.path, tc.pattern); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.path, tc.pattern, got, tc.want)
		}
	}
}

// match gives the answers of the matcher of Google's parser, which
// tracks every offset a pattern can end at; googleMatch is that algorithm,
// written from its description, as the reference.
func TestRobotsMatch_AgreesWithGooglesAlgorithm(t *testing.T) {
	googleMatch := func(path, pattern string) bool {
		pos := []int{0}
		for i := 0; i < len(pattern); i++ {
			c := pattern[i]
			if c == '$' && i == len(pattern)-1 {
				return pos[len(pos)-1] == len(path)
			}
			if c == '*' {
				var all []int
				for p := pos[0]; p <= len(path); p++ {
					all = append(all, p)
				}
				pos = all
				continue
			}
			var next []int
			for _, p := range pos {
				if p < len(path) && path[p] == c {
					next = append(next, p+1)
				}
			}
			if len(next) == 0 {
				return false
			}
			pos = next
		}
		return true
	}
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string, n int) string {
		b := make([]byte, rng.IntN(n+1))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 200000 {
		path, pattern := "/"+word("ab$*", 8), "/"+word("ab*$", 6)
		if got, want := match(path, pattern), googleMatch(path, pattern); got != want {
			t.Fatalf("match(%q, %q) = %v, Google's algorithm %v", path, pattern, got, want)
		}
	}
}

// A hostile robots.txt costs no more than its size per URL.
func TestRobotsMatch_Linear(t *testing.T) {
	pattern := strings.Repeat("*a", maxLine/2)
	path := "/" + strings.Repeat("a", 2000) + "b"
	start := time.Now()
	for range 100 {
		match(path, pattern)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("100 matches of a %d-byte pattern took %v", len(pattern), took)
	}
}
