package crawler_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// Canonical rules make one page of URLs that differ only in tracking
// parameters or parameter order, and deny patterns keep links out of the
// crawl.
func TestCrawl_CanonicalAndDeny(t *testing.T) {
	var mu sync.Mutex
	var fetched []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetched = append(fetched, r.URL.RequestURI())
		mu.Unlock()
		fmt.Fprint(w, `<html><h1>page</h1>
<a href="/item?id=1&utm_source=news&utm_medium=mail">1</a>
<a href="/item?utm_campaign=x&id=1">1 again</a>
<a href="/item?sessionid=abc&id=1#reviews">1 once more</a>
<a href="/list?b=2&a=1">list</a> <a href="/list?a=1&b=2">same list</a>
<a href="/logout">logout</a> <a href="/admin/panel">admin</a></html>`)
	}))
	defer srv.Close()
	cfg := testConfigWithItems(t, fmt.Sprintf(`crawl:
  name: canon
  start: {urls: ["%s/start?utm_source=feed"]}
  max_depth: 2
  follow: [{css: "a", deny: ["/logout$", "^[^?]*/admin/"]}]
  canonical: {drop_query: ["utm_*", "sessionid"], sort_query: true}
  robots_txt: false
`, srv.URL), linkItems)
	sum, err := crawl(t, cfg, crawler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(fetched)
	if want := []string{"/item?id=1", "/list?a=1&b=2", "/start"}; !slices.Equal(fetched, want) {
		t.Errorf("fetched %q, want %q", fetched, want)
	}
	db := gathertest.OpenDB(t, cfg.Database)
	got := queryString(t, db, "SELECT group_concat(url, ' ') FROM (SELECT url FROM gather_pages ORDER BY url)")
	want := strings.Join([]string{srv.URL + "/item?id=1", srv.URL + "/list?a=1&b=2", srv.URL + "/start"}, " ")
	if got != want || sum.Counts.PagesOK != 3 {
		t.Errorf("stored pages %q, want %q (%v)", got, want, sum)
	}
}
