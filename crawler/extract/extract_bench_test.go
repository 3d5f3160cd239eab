package extract_test

import (
	"bytes"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/tidwall/gjson"

	"github.com/gather-crawler/gather/demo"
)

// BenchmarkExtract measures one page's extraction: gather with the shipped
// config (the tokenizer finds __NEXT_DATA__, no DOM), what a plain colly
// program does for the same fields (a goquery DOM for OnHTML, then gjson),
// and gather on the classic layout (DOM, CSS and XPath).
func BenchmarkExtract(b *testing.B) {
	m := demo.MovieFor(demo.ID(7), 0)
	page := demo.RenderNextData(m)
	url := demo.PageURL("http://127.0.0.1:1", m.ID)
	b.Run("gather-nextdata", func(b *testing.B) {
		ex := mustExtractor(b, loadConfig(b, "config.yaml"))
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := ex.Extract(url, page, "text/html", false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("colly-dom-gjson", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
			if err != nil {
				b.Fatal(err)
			}
			js := doc.Find("script#__NEXT_DATA__").Text()
			rows := 0
			gjson.Get(js, "props.pageProps.contentData.categories").ForEach(func(_, cat gjson.Result) bool {
				cat.Get("section.items").ForEach(func(_, it gjson.Result) bool {
					_ = it.Get("id").String() + it.Get("rowTitle").String() + it.Get("characters").Raw + it.Get("attributes").String()
					rows++
					return true
				})
				return true
			})
			if rows == 0 {
				b.Fatal("no rows")
			}
		}
	})
	classic := demo.RenderClassic(m)
	b.Run("gather-classic", func(b *testing.B) {
		ex := mustExtractor(b, loadConfig(b, "examples/imdb-classic.yaml"))
		b.SetBytes(int64(len(classic)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := ex.Extract(demo.ClassicURL("http://127.0.0.1:1", m.ID), classic, "text/html", false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
