package extract

import (
	"bytes"
	"testing"

	"github.com/andybalholm/cascadia"

	"github.com/gather-crawler/gather/crawler/extract/internal/htmlparse"
	"github.com/gather-crawler/gather/demo"
)

// BenchmarkNodeText takes the text of every element a classic-layout
// config reads (cells, links, headings) on one demo page, through one
// buffer as a page does: the text walk alone, without parsing or
// selecting.
func BenchmarkNodeText(b *testing.B) {
	m := demo.MovieFor(demo.ID(7), 0)
	root, err := htmlparse.Parse(bytes.NewReader(demo.RenderClassic(m)))
	if err != nil {
		b.Fatal(err)
	}
	nodes := cascadia.QueryAll(root, cascadia.MustCompile("h1, h4, td, a, tr, table"))
	size := 0
	var tb textBuf
	for _, n := range nodes {
		size += len(tb.nodeText(n))
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, n := range nodes {
			_ = tb.nodeText(n)
		}
	}
}
