package crawler_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/internal/gathertest"
)

// sitemapSite serves a sitemap index of two sitemaps (the second
// gzipped), a malformed sitemap, a robots.txt that names the index, and
// the pages they list, /page/1 … /page/6; lastmod[n] is page n's
// <lastmod> (omitted when zero).
type sitemapSite struct {
	*httptest.Server
	mu      sync.Mutex
	lastmod map[int]string
	fetched []string
}

func newSitemapSite(t *testing.T) *sitemapSite {
	s := &sitemapSite{lastmod: map[int]string{}}
	urlset := func(from, to int) string {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, "<url><loc>%s/page/%d</loc>", s.URL, i)
			if m := s.lastmod[i]; m != "" {
				fmt.Fprintf(&b, "<lastmod>%s</lastmod>", m)
			}
			b.WriteString("<changefreq>daily</changefreq></url>\n")
		}
		b.WriteString(`<url><loc>https://elsewhere.example/x</loc></url></urlset>`)
		return b.String()
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fetched = append(s.fetched, r.URL.Path)
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprintf(w, "User-agent: *\nDisallow: /private/\n\nSitemap: %s/sitemap_index.xml\n", s.URL)
		case "/sitemap_index.xml":
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>%[1]s/sitemap1.xml</loc></sitemap>
<sitemap><loc>%[1]s/sitemap2.xml.gz</loc><lastmod>2026-11-30</lastmod></sitemap>
<sitemap><loc>%[1]s/broken.xml</loc></sitemap>
</sitemapindex>`, s.URL)
		case "/sitemap1.xml":
			fmt.Fprint(w, urlset(1, 3))
		case "/sitemap2.xml.gz":
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write([]byte(urlset(4, 6)))
			zw.Close()
			w.Header().Set("Content-Type", "application/x-gzip")
			w.Write(buf.Bytes())
		case "/broken.xml":
			fmt.Fprintf(w, `<urlset><url><loc>%s/page/1</loc></url><url><loc>oops`, s.URL)
		default:
			if strings.HasPrefix(r.URL.Path, "/page/") {
				fmt.Fprintf(w, "<html><h1>%s</h1></html>", r.URL.Path)
				return
			}
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sitemapSite) takeFetched() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.fetched
	s.fetched = nil
	slices.Sort(out)
	return out
}

// A crawl started from a sitemap index reads every sitemap it lists,
// gzipped or not, records a malformed one as failed with its reason, and
// with refresh_after re-fetches only the pages whose <lastmod> is newer
// than what is stored.
func TestCrawl_Sitemaps(t *testing.T) {
	for _, fromRobots := range []bool{false, true} {
		t.Run(fmt.Sprintf("from robots.txt=%v", fromRobots), func(t *testing.T) {
			site := newSitemapSite(t)
			start := fmt.Sprintf("  start: {sitemaps: [%q]}\n", site.URL+"/sitemap_index.xml")
			if fromRobots {
				start = fmt.Sprintf("  start: {urls: [%q], sitemaps_from_robots: true}\n", site.URL+"/page/1")
			}
			site.lastmod[2] = "2026-11-01"
			site.lastmod[5] = "2026-11-01T10:00:00+00:00"
			cfg := testConfigWithItems(t, "crawl:\n  name: maps\n"+start+"  refresh_after: 1h\n  retries: 0\n", linkItems)
			clk := &clock{}
			clk.t.Store(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC).UnixNano())
			opts := crawler.Options{Now: clk.now}
			sum, err := crawl(t, cfg, opts)
			if err != nil {
				t.Fatalf("%v: %v", sum, err)
			}
			var pages []string
			for _, p := range site.takeFetched() {
				if strings.HasPrefix(p, "/page/") {
					pages = append(pages, p)
				}
			}
			if want := []string{"/page/1", "/page/2", "/page/3", "/page/4", "/page/5", "/page/6"}; !slices.Equal(pages, want) {
				t.Errorf("pages fetched %q, want each of %q once", pages, want)
			}
			db := gathertest.OpenDB(t, cfg.Database)
			if n := queryInt(t, db, "SELECT count(*) FROM pages"); n != 6 {
				t.Errorf("%d pages stored, want 6", n)
			}
			broken := queryString(t, db, "SELECT status || ': ' || error FROM gather_pages WHERE url = ?", site.URL+"/broken.xml")
			if !strings.HasPrefix(broken, "failed: sitemap: malformed XML: XML syntax error") {
				t.Errorf("the malformed sitemap is %q in gather_pages", broken)
			}
			for _, m := range []string{"/sitemap_index.xml", "/sitemap1.xml", "/sitemap2.xml.gz"} {
				if st := queryString(t, db, "SELECT status FROM gather_pages WHERE url = ?", site.URL+m); st != "ok" {
					t.Errorf("%s: %q", m, st)
				}
			}
			// Two hours on, everything is stale by refresh_after; the
			// sitemaps say pages 2 and 5 have not changed since, and page 3
			// changed an hour ago.
			clk.advance(2 * time.Hour)
			site.mu.Lock()
			site.lastmod[3] = "2026-12-01T04:00:00Z"
			site.mu.Unlock()
			if _, err := crawl(t, cfg, opts); err != nil {
				t.Fatal(err)
			}
			pages = nil
			for _, p := range site.takeFetched() {
				if strings.HasPrefix(p, "/page/") {
					pages = append(pages, p)
				}
			}
			if want := []string{"/page/1", "/page/3", "/page/4", "/page/6"}; !slices.Equal(pages, want) {
				t.Errorf("second run fetched %q, want %q (pages with no lastmod are stale; 2 and 5 unchanged)", pages, want)
			}
		})
	}
}
