package extract_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/config"
)

func parseItems(t *testing.T, items string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("process.yaml", []byte(`
database: x.db
crawl:
  name: x
  start: {urls: ["http://127.0.0.1/a"]}
items:
`+items), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Value processors shape what real pages give: prices with currency signs
// and thousands separators, dates written out, counts inside sentences,
// names with stray separators; lists split and joined. HTML and JSON
// sources go through the same steps.
func TestExtract_ProcessSteps(t *testing.T) {
	const doc = `<div class="book">
<p class="price">£51.77</p><p class="big">1,234 units</p><p class="eu">€ 1.234,50</p><p class="neg">−$3.50</p>
<p class="stock">In stock (22 available)</p><p class="date"> March 3, 2020 </p><p class="ts">2020-03-03 14:05</p>
<p class="tags">poetry; Fiction ;; classics</p><p class="name">, Smith, John ,</p>
<li>Ann</li><li> Bob </li><li></li><li>Cy</li>
<p class="none">n/a</p><p class="id">ID-5</p>
<script type="application/json" id="j">{"price": "$1,000", "tags": ["A", "b"], "when": "03/04/2021"}</script></div>`
	cfg := parseItems(t, `  book:
    fields:
      price: {css: .price, process: [number]}
      big:   {css: .big, process: [number], type: integer}
      eu:    {css: .eu, process: [{number: ","}]}
      neg:   {css: .neg, process: [number]}
      stock: {css: .stock, process: [number], type: integer}
      date:  {css: .date, process: [{date: "January 2, 2006"}]}
      ts:    {css: .ts, process: [{date: "2006-01-02 15:04"}]}
      tags:  {css: .tags, process: [{split: ";"}, lower]}
      first_tag: {css: .tags, process: [{split: ";"}, first, upper]}
      name:  {css: .name, process: [{trim: " ,"}, {replace: [", ", " "]}]}
      people: {css: li, all: true, process: [join]}
      people_list: {css: li, all: true, process: [{replace: ["Bob", "Rob"]}]}
      missing: {css: .nothing, process: [{default: "none"}]}
      none:  {css: .none, process: [number]}
      id:    {css: .id, process: [number], type: integer}
  doc:
    json_from: "script#j"
    fields:
      price: {json: price, process: [number], type: integer}
      tags:  {json: tags, all: true, process: [upper, {join: "|"}]}
      when:  {json: when, process: [{date: "01/02/2006"}]}
`)
	res, err := mustExtractor(t, cfg).Extract("http://127.0.0.1/a", []byte(doc), "text/html", false)
	if err != nil {
		t.Fatal(err)
	}
	book := records(t, cfg, res, "book")[0]
	for f, want := range map[string]any{
		"price": 51.77, "big": int64(1234), "eu": 1234.5, "neg": -3.5, "stock": int64(22),
		"date": "2020-03-03", "ts": "2020-03-03T14:05:00Z",
		"tags": `["poetry","fiction","classics"]`, "first_tag": "POETRY",
		"name": "Smith John", "people": "Ann, Bob, Cy", "people_list": `["Ann","Rob","Cy"]`,
		"missing": "none", "none": nil, "id": int64(5),
	} {
		if got := book[f]; fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
			t.Errorf("book.%s = %#v, want %#v", f, got, want)
		}
	}
	d := records(t, cfg, res, "doc")[0]
	for f, want := range map[string]any{"price": int64(1000), "tags": "A|B", "when": "2021-03-04"} {
		if got := d[f]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("doc.%s = %#v, want %#v", f, got, want)
		}
	}
	for i, f := range cfg.Items["book"].FieldOrder {
		if f == "missing" && res.Items[0].Fields[i].Matched {
			t.Errorf("a value from a default step counts as the source matching")
		}
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), `book: none: "n/a" has no number`) {
		t.Errorf("warnings %q lack the value that had no number", res.Warnings)
	}
}

// Every mistake in a process list is refused before any request, naming
// the step's key path.
func TestConfig_ProcessStepsValidated(t *testing.T) {
	_, err := config.Parse("bad.yaml", []byte(`
database: x.db
crawl:
  name: x
  start: {urls: ["http://127.0.0.1/a"]}
items:
  book:
    fields:
      a: {css: p, process: [trimm]}
      b: {css: p, process: [{replace: [","]}]}
      c: {css: p, process: [{date: "%Y-%m-%d"}]}
      d: {css: p, process: [{date: "yyyy-mm-dd"}]}
      e: {css: p, process: [{number: ";"}]}
      f: {css: p, process: [{split: ",", join: ","}]}
      g: {css: p, process: [lower, {upper: x}]}
`), func(string) (string, bool) { return "", false })
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`items.book.fields.a.process[0]: unknown step "trimm" (did you mean trim?)`,
		`items.book.fields.b.process[0]: replace takes 2 arguments; want {replace: [from, to]}`,
		`items.book.fields.c.process[0]: date layout "%Y-%m-%d"`,
		`items.book.fields.d.process[0]: date layout "yyyy-mm-dd" has no part of a date`,
		`items.book.fields.e.process[0]: the decimal mark is "." or ","`,
		`items.book.fields.f.process[0]: a step is a name, or a mapping of one name`,
		`items.book.fields.g.process[1]: upper takes no argument`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A css field under an xpath each reads inside the row, as an xpath field
// under a css each does.
func TestExtract_FieldsRelativeToEitherEach(t *testing.T) {
	cfg := parseItems(t, `  byxpath:
    each: {xpath: "//tr"}
    fields:
      a: {css: td.a}
  bycss:
    each: tr
    fields:
      a: {xpath: "td[@class='a']"}
`)
	res, err := mustExtractor(t, cfg).Extract("http://127.0.0.1/a", []byte(`<table><tr><td class="a">1</td></tr><tr><td class="a">2</td></tr></table>`), "text/html", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range []string{"byxpath", "bycss"} {
		if got := fmt.Sprint(records(t, cfg, res, item)); got != "[map[_index:1 a:1] map[_index:2 a:2]]" {
			t.Errorf("%s: %s", item, got)
		}
	}
}
