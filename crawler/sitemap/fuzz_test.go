package sitemap

import (
	"bytes"
	"testing"
)

// A sitemap faces the network: whatever XML comes, decoding must not
// panic, must hand over as many entries as it counts, each with a <loc>,
// and must say what is wrong with a document it stops on.
func FuzzDecodeSitemap(f *testing.F) {
	for _, seed := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://h/a</loc><lastmod>2024-01-02</lastmod></url></urlset>`,
		`<sitemapindex><sitemap><loc>http://h/s1.xml.gz</loc></sitemap></sitemapindex>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><urlset><url><loc>http://h/caf` + "\xe9" + `</loc></url></urlset>`,
		`<urlset><url><loc> http://h/space </loc><lastmod>2024-13-99T25:00:00Z</lastmod></url><url></url></urlset>`,
		`<html><body>not a sitemap</body></html>`,
		`<urlset><url><loc>http://h/a`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		entries := 0
		n, err := Decode(bytes.NewReader(doc), func(_ bool, u Entry) error {
			entries++
			if u.Loc == "" {
				t.Fatal("an entry without a <loc>")
			}
			return nil
		})
		if n != entries {
			t.Fatalf("counted %d entries, handed over %d", n, entries)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("an error that says nothing")
		}
	})
}
