package crawler_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// A crawl run from Go code: a config (here parsed from YAML; a Config
// built in code works alike), a store, a crawler, a run, and the rows in
// SQLite.
func ExampleCrawler_Run() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<title>Page %s</title>", r.URL.Path)
	}))
	defer site.Close()
	dir, _ := os.MkdirTemp("", "gather-example")
	defer os.RemoveAll(dir)

	cfg, err := config.Parse(filepath.Join(dir, "job.yaml"), []byte(fmt.Sprintf(`
database: pages.db
archive: {enabled: false}
crawl:
  name: example
  robots_txt: false
  start:
    urls: ["%[1]s/a", "%[1]s/b"]
items:
  pages:
    fields:
      title: {css: title}
`, site.URL)), func(string) (string, bool) { return "", false })
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	store, err := storage.Open(ctx, cfg.Database, crawler.Tables(cfg))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	c, err := crawler.New(cfg, store, crawler.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	sum, err := c.Run(ctx)
	fmt.Println(sum.Status, sum.Counts.PagesOK, "pages", err)

	r, _ := storage.OpenReader(ctx, cfg.Database)
	defer r.Close()
	var titles string
	r.DB().QueryRow(`SELECT group_concat(title, ', ') FROM (SELECT title FROM pages ORDER BY title)`).Scan(&titles)
	fmt.Println(titles)
	// Output:
	// finished 2 pages <nil>
	// Page /a, Page /b
}
