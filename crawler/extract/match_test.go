package extract_test

import (
	"fmt"
	"testing"

	"github.com/gather-crawler/gather/config"
)

// Fields that share a selector read the element it matched once per
// record; a field of another item, or of another record, matches afresh.
func TestExtract_FieldsSharingASelector(t *testing.T) {
	const doc = `<table>
<tr><td class="c1">a1</td><td class="c2">b1</td></tr>
<tr><td class="c3">a2</td><td class="c4">b2</td></tr>
</table>`
	cfg, err := config.Parse("shared.yaml", []byte(`
database: x.db
crawl:
  name: x
  start: {urls: ["http://127.0.0.1/a"]}
items:
  first:
    each: "tr"
    fields:
      text:  {css: "td"}
      class: {css: "td", attr: class}
      again: {css: "td", regex: "([0-9])", type: integer}
  second:
    each: "tr"
    fields:
      text: {css: "td:nth-child(2)"}
  page:
    expect: "td"
    fields:
      text: {css: "td"}
      class: {css: "td", attr: class}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	res, err := mustExtractor(t, cfg).Extract("http://127.0.0.1/a", []byte(doc), "text/html", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ item, want string }{
		{"first", "[map[_index:1 again:1 class:c1 text:a1] map[_index:2 again:2 class:c3 text:a2]]"},
		{"second", "[map[_index:1 text:b1] map[_index:2 text:b2]]"},
		{"page", "[map[_index:0 class:c1 text:a1]]"},
	} {
		if got := fmt.Sprint(records(t, cfg, res, c.item)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.item, got, c.want)
		}
	}
}
