package crawler_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// hubSite is a site of a start page linking to a listing, which links to
// articles; articles can be added while it runs. It counts the requests
// per path.
type hubSite struct {
	srv      *httptest.Server
	mu       sync.Mutex
	articles []string
	hits     map[string]*atomic.Int64
}

func newHubSite(t *testing.T, articles ...string) *hubSite {
	h := &hubSite{articles: articles, hits: map[string]*atomic.Int64{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		if h.hits[r.URL.Path] == nil {
			h.hits[r.URL.Path] = &atomic.Int64{}
		}
		h.hits[r.URL.Path].Add(1)
		arts := append([]string(nil), h.articles...)
		h.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		switch {
		case r.URL.Path == "/":
			fmt.Fprint(w, `<html><body><h1>Home</h1><a class="list" href="/list">all articles</a> <a href="/a/`+arts[0]+`">latest</a></body></html>`)
		case r.URL.Path == "/list":
			fmt.Fprint(w, `<html><body><h1>List</h1>`)
			for _, a := range arts {
				fmt.Fprintf(w, `<a href="/a/%s">%s</a> `, a, a)
			}
			fmt.Fprint(w, `</body></html>`)
		case strings.HasPrefix(r.URL.Path, "/a/"):
			fmt.Fprintf(w, `<html><body><h1>%s</h1><a class="list" href="/list">back</a></body></html>`, strings.TrimPrefix(r.URL.Path, "/a/"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// fetched returns the paths requested since the last call, sorted, and
// forgets them.
func (h *hubSite) fetched() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for p, n := range h.hits {
		for range n.Load() {
			out = append(out, p)
		}
	}
	h.hits = map[string]*atomic.Int64{}
	sort.Strings(out)
	return out
}

// A re-run of a follow crawl finds a page added to the site: the hubs (the
// start page, and the listing a hub rule selects) are fetched again on
// hub_refresh_after, the new article is fetched, and the articles already
// stored are not.
func TestCrawl_HubsFindNewPages(t *testing.T) {
	site := newHubSite(t, "one", "two")
	cfg := testConfigWithItems(t, fmt.Sprintf(`crawl:
  name: hubs
  start: {urls: ["%s/"]}
  max_depth: 3
  robots_txt: false
  hub_refresh_after: 1h
  follow:
    - {css: a.list, hub: true}
    - {css: "a[href^='/a/']"}
`, site.srv.URL), `items:
  pages:
    fields:
      title: h1
  articles:
    url: '/a/'
    fields:
      title: h1
`)
	now := time.Now()
	clock := func() time.Time { return now }
	sum, err := crawl(t, cfg, crawler.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(site.fetched(), " "); got != "/ /a/one /a/two /list" {
		t.Fatalf("first run fetched %s; %v", got, sum)
	}

	// Within hub_refresh_after: nothing is fetched, as before.
	now = now.Add(30 * time.Minute)
	if _, err := crawl(t, cfg, crawler.Options{Now: clock}); err != nil {
		t.Fatal(err)
	}
	if got := site.fetched(); len(got) != 0 {
		t.Fatalf("a run within hub_refresh_after fetched %v", got)
	}

	site.mu.Lock()
	site.articles = append([]string{"three"}, site.articles...)
	site.mu.Unlock()
	now = now.Add(2 * time.Hour)
	sum, err = crawl(t, cfg, crawler.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(site.fetched(), " "); got != "/ /a/three /list" {
		t.Errorf("the run after an article was added fetched %s, want the hubs and the new article only; %v", got, sum)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	if got := queryString(t, db, "SELECT group_concat(title, ',') FROM (SELECT title FROM pages ORDER BY title)"); got != "Home,List,one,three,two" {
		t.Errorf("stored %s", got)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM gather_pages WHERE hub = 1"); n != 1 {
		t.Errorf("%d pages marked hub, want the listing", n)
	}

	// A run that finds nothing new fetches the hubs alone; that the
	// articles' url pattern matched none of them is no config mistake,
	// since the articles are stored.
	now = now.Add(2 * time.Hour)
	sum, err = crawl(t, cfg, crawler.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(site.fetched(), " "); got != "/ /list" {
		t.Errorf("a run with nothing new fetched %s, want the hubs", got)
	}
	if len(sum.Warnings) != 0 {
		t.Errorf("warnings on a run of hubs alone: %q", sum.Warnings)
	}
}
