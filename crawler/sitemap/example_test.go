package sitemap_test

import (
	"fmt"
	"strings"

	"github.com/gather-crawler/gather/crawler/sitemap"
)

// Decode hands over each entry as it reads it; Body gunzips a gzipped
// sitemap and holds it to the protocol's size limit.
func ExampleDecode() {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://example.org/title/tt0137523/</loc><lastmod>2026-11-30</lastmod></url>
  <url><loc>https://example.org/title/tt0133093/</loc></url>
</urlset>`
	body, err := sitemap.Body(strings.NewReader(doc))
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := sitemap.Decode(body, func(isIndex bool, e sitemap.Entry) error {
		fmt.Println(e.Loc, e.Lastmod.Format("2006-01-02"), isIndex)
		return nil
	})
	fmt.Println(n, err)
	// Output:
	// https://example.org/title/tt0137523/ 2026-11-30 false
	// https://example.org/title/tt0133093/ 0001-01-01 false
	// 2 <nil>
}
