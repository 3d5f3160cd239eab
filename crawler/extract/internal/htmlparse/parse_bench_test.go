package htmlparse_test

import (
	"bytes"
	"testing"

	"golang.org/x/net/html"

	"github.com/gather-crawler/gather/crawler/extract/internal/htmlparse"
	"github.com/gather-crawler/gather/demo"
)

// BenchmarkParse builds the tree of a classic demo page with x/net/html
// and with this copy of it.
func BenchmarkParse(b *testing.B) {
	page := demo.RenderClassic(demo.MovieFor(demo.ID(7), 0))
	for _, p := range []struct {
		name  string
		parse func([]byte) (*html.Node, error)
	}{
		{"x-net-html", func(b []byte) (*html.Node, error) { return html.Parse(bytes.NewReader(b)) }},
		{"htmlparse", func(b []byte) (*html.Node, error) { return htmlparse.Parse(bytes.NewReader(b)) }},
	} {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := p.parse(page); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
