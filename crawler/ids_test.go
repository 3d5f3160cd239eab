package crawler_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// echoServer answers every request with the request target as the
// client sent it, before any decoding, and keeps the targets.
type echoServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newEchoServer(t *testing.T) *echoServer {
	e := &echoServer{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.seen = append(e.seen, r.RequestURI)
		e.mu.Unlock()
		fmt.Fprintf(w, "<h1>%s</h1>", html.EscapeString(r.RequestURI))
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *echoServer) targets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Sorted(slices.Values(e.seen))
}

// checkStoredAsFetched checks that the pages and their rows are stored
// under the URLs the server was asked for, and nothing else.
func checkStoredAsFetched(t *testing.T, dbPath, base string, targets []string) {
	t.Helper()
	db := gathertest.OpenDB(t, dbPath)
	for _, q := range []string{"SELECT url FROM gather_pages ORDER BY url", "SELECT _url FROM pages ORDER BY _url"} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		var stored []string
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				t.Fatal(err)
			}
			stored = append(stored, strings.TrimPrefix(u, base))
		}
		rows.Close()
		if !slices.Equal(stored, targets) {
			t.Errorf("%s:\n  stored  %q\n  fetched %q", q, stored, targets)
		}
	}
	// The page's own echo of its target is what was stored with it.
	rows, err := db.Query("SELECT _url, title FROM pages")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var u, title string
		if err := rows.Scan(&u, &title); err != nil {
			t.Fatal(err)
		}
		if base+title != u {
			t.Errorf("row stored under %s holds the page fetched as %s", u, base+title)
		}
	}
}

// An id fills {id} as one path segment whatever it holds: "/", "?", "#",
// spaces and non-ASCII letters are escaped, and the server reads the id
// back from its one segment. The page is stored under the URL fetched.
func TestCrawl_IDIsOnePathSegment(t *testing.T) {
	srv := newEchoServer(t)
	ids := []string{"a/b", "a?b", "a#b", "tt1 2", "é", "日本語", "100%", `a\b`, "%2e%2e", "...", "a;b,c", "a+b=c&d", "-_~"}
	cfg, targets := crawlIDs(t, srv, "/echo/{id}/end", ids)
	var got []string
	for _, target := range targets {
		// What a server's router sees: the raw path cut at its slashes.
		segs := strings.Split(target, "/")
		if len(segs) != 4 || segs[1] != "echo" || segs[3] != "end" {
			t.Errorf("request target %q is not /echo/ID/end", target)
			continue
		}
		id, err := url.PathUnescape(segs[2])
		if err != nil {
			t.Errorf("segment %q: %v", segs[2], err)
		}
		got = append(got, id)
	}
	if slices.Sort(got); !slices.Equal(got, slices.Sorted(slices.Values(ids))) {
		t.Errorf("ids the server read:\n  %q\nwant\n  %q", got, ids)
	}
	checkStoredAsFetched(t, cfg.Database, srv.URL, targets)
}

// crawlIDs crawls the echo server with ids filling template (a path on
// it), every page of which must be stored, and returns the config and the
// request targets the server saw.
func crawlIDs(t *testing.T, srv *echoServer, template string, ids []string) (*config.Config, []string) {
	t.Helper()
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = fmt.Sprintf("%q", id)
	}
	cfg := testConfigWithItems(t, fmt.Sprintf("crawl:\n  name: echo\n  start:\n    url_template: %q\n    ids: [%s]\n  robots_txt: false\n",
		srv.URL+template, strings.Join(quoted, ", ")), linkItems)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil || sum.Counts.PagesOK != int64(len(ids)) {
		t.Fatalf("summary %v, err %v", sum, err)
	}
	return cfg, srv.targets()
}

// Where the template puts {id} in the query, the id is one query value:
// "&", "=", "+" and "#" are escaped, and "." or ".." are plain values.
func TestCrawl_IDIsOneQueryValue(t *testing.T) {
	srv := newEchoServer(t)
	ids := []string{"..", ".", "a&b=c", "a b", "a+b", "a#b", "é", "x?y", "a/b"}
	cfg, targets := crawlIDs(t, srv, "/find?q={id}&page=1", ids)
	var got []string
	for _, target := range targets {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if u.Path != "/find" || len(q) != 2 || len(q["q"]) != 1 || q.Get("page") != "1" {
			t.Errorf("request target %q is not /find?q=ID&page=1", target)
			continue
		}
		got = append(got, q.Get("q"))
	}
	if slices.Sort(got); !slices.Equal(got, slices.Sorted(slices.Values(ids))) {
		t.Errorf("ids the server read:\n  %q\nwant\n  %q", got, ids)
	}
	checkStoredAsFetched(t, cfg.Database, srv.URL, targets)
}

// A line of ids_file whose id cannot be a path segment ("." and "..",
// which would move the request up the path) is skipped; the ids around it
// are crawled, each as one segment, and stored under the URL fetched.
func TestCrawl_DotIDsInFileAreSkipped(t *testing.T) {
	srv := newEchoServer(t)
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(ids, []byte("first\n..\n.\na/b\n%2E%2E\nlast\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfigWithItems(t, fmt.Sprintf("crawl:\n  name: echo\n  start:\n    url_template: %q\n    ids_file: %s\n  robots_txt: false\n",
		srv.URL+"/echo/{id}/end", ids), linkItems)
	sum, err := crawl(t, cfg, crawler.Options{})
	targets := srv.targets()
	want := []string{"/echo/%252E%252E/end", "/echo/a%2Fb/end", "/echo/first/end", "/echo/last/end"}
	if !slices.Equal(targets, want) {
		t.Errorf("requested %q, want %q", targets, want)
	}
	if err != nil || sum.Status != "finished" || sum.Counts.PagesOK != 4 || sum.NotReached != 0 {
		t.Fatalf("summary %v, err %v", sum, err)
	}
	checkStoredAsFetched(t, cfg.Database, srv.URL, targets)
}

// One line of 2 MiB in the middle of an ids file is skipped; the thousand
// ids around it are all crawled and the run finishes.
func TestCrawl_LongIDsLineIsSkipped(t *testing.T) {
	site := startSite(t, "", demo.Options{})
	path := filepath.Join(t.TempDir(), "ids.txt")
	// Under the race detector on a busy machine a thousand pages can
	// outlast the crawl's deadline; the line is what is tested.
	n := 1000
	if raceEnabled {
		n = 300
	}
	if err := os.WriteFile(path, idsWithLongLine(t, n, n/2+1, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, fmt.Sprintf(`crawl:
  name: long
  start:
    url_template: %q
    ids_file: %s
  parallelism: 8
`, demo.PageURL(site.URL, "{id}"), path))
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil || sum.Status != "finished" || sum.Counts.PagesOK != int64(n) || sum.Counts.PagesFailed != 0 || sum.NotReached != 0 {
		t.Fatalf("summary %v, err %v", sum, err)
	}
	if !strings.Contains(sum.String(), "crawl.start: 1 ids could not be used and were skipped") {
		t.Errorf("the summary does not say a line was skipped: %s", sum)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	for _, id := range []int{1, n / 2, n/2 + 1, n} {
		u := demo.PageURL(site.URL, demo.ID(id))
		if st := queryString(t, db, "SELECT status FROM gather_pages WHERE url = ?", u); st != "ok" {
			t.Errorf("%s: status %q", u, st)
		}
	}
}

// idsWithLongLine is n demo ids, one a line, with a line of size bytes
// put in as line number at.
func idsWithLongLine(t testing.TB, n, at, size int) []byte {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i == at {
			b.WriteString(strings.Repeat("x", size) + "\n")
		}
		b.WriteString(demo.ID(i) + "\n")
	}
	return []byte(b.String())
}
