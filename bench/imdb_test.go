package bench_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/gather-crawler/gather/bench"
)

// BenchmarkCrawlIMDBPages is BenchmarkCrawlSideBySide on IMDB's own pages
// instead of the demo's: the two saved __NEXT_DATA__ documents of
// ../shared/fixtures, compacted as the live site sends them and wrapped
// as its pages are, served in turn under 1,000 ids. Real pages carry about
// three times the bytes per credit row of the demo's, so parsing weighs
// more against storing rows than it does on the demo site.
func BenchmarkCrawlIMDBPages(b *testing.B) {
	var pages [][]byte
	for _, name := range []string{"imdb-nextdata-tt0120338-fullcredits.json", "imdb-nextdata-tt0101002-fullcredits.json"} {
		pages = append(pages, imdbPage(b, name))
	}
	idRe := regexp.MustCompile(`^/title/tt([0-9]+)/fullcredits$`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := idRe.FindStringSubmatch(r.URL.Path)
		if m == nil {
			http.NotFound(w, r)
			return
		}
		n, _ := strconv.Atoi(m[1])
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(pages[n%len(pages)])
	}))
	defer srv.Close()
	sideBySide(b, bench.Job{Base: srv.URL, Pages: 1000})
}

// imdbPage wraps a saved __NEXT_DATA__ document the way the live site
// serves it, compact. It skips the benchmark when the fixtures are absent.
func imdbPage(b *testing.B, name string) []byte {
	dir := os.Getenv("GATHER_FIXTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "fixtures")
	}
	js, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		b.Skipf("fixture %s not available (%v); set GATHER_FIXTURES to the fixtures folder", name, err)
	}
	var page bytes.Buffer
	page.WriteString(`<!DOCTYPE html><html><head><title>Full cast</title></head><body>`)
	page.WriteString(`<script id="__NEXT_DATA__" type="application/json">`)
	if err := json.Compact(&page, js); err != nil {
		b.Fatal(err)
	}
	page.WriteString(`</script></body></html>`)
	return page.Bytes()
}
