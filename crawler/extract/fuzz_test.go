package extract

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gather-crawler/gather/config"
)

// The fuzzed extractors share these bounds, small so that inputs reach
// them: 256 KB bodies (so 1 MB yielded at most), 8 KB values.
const fuzzCrawl = `database: x.db
crawl:
  name: fz
  start: {urls: ["http://127.0.0.1/p"]}
  max_depth: 2
  follow: [{css: "a, area", match: "^http", deny: ["logout"]}]
  max_body_size: 256KB
  max_value_size: 8KB
  extract_timeout: 5s
items:
`

// fuzzItems are three configs, so that one whose page fails (no JSON
// document, say) does not hide the others: every source, with every
// modifier of a field (attr, regex, type, all, default, required).
var fuzzItems = map[string]string{
	"html": `  page:
    fields:
      title: {css: title}
      heads: {css: "h1, h2", all: true}
      cls: {xpath: "//p/@class"}
      divs: {xpath: "count(//div)", type: integer}
      items: {xpath: "//li", all: true, type: json}
      num: {css: ".n", type: real, regex: "([-+0-9.eE]+)"}
      int: {css: ".n", type: integer, default: -1}
      flag: {css: ".b", type: boolean}
      link: {css: a, attr: href, type: url}
      js: {css: pre, type: json}
      page: {url: "/(p|q)[0-9]*"}
      none: {css: ".missing", default: "none"}
  rows:
    each: "tr, li"
    fields:
      self: {}
      cls: {attr: class}
      cells: {css: td, all: true}
      id: {xpath: "./@id"}
      b: {css: b, required: true}
  divs:
    each: {xpath: "//div[@class]"}
    fields:
      self: {type: url}
      cls: {attr: class, regex: "(\\w+)"}
      spans: {xpath: ".//span", all: true}
      n: {xpath: "string-length(.)", type: integer}
`,
	"json": `  doc:
    json_from: "script#__NEXT_DATA__"
    fields:
      a: {json: a}
      ab: {json: a.b, type: integer}
      list: {json: list, all: true}
      obj: {json: obj, type: json}
      q: {json: 'list.#(name=="x").v', type: real}
      u: {json: url, type: url}
      f: {json: flag, type: boolean, default: false}
      rx: {json: a, regex: "(\\d+)", type: integer}
  elems:
    json_from: "script#__NEXT_DATA__"
    each: {json: list}
    fields:
      name: {json: name, required: true}
      v: {json: v, type: integer, default: 0}
      tags: {json: tags, all: true}
      first: {json: name, regex: "^(.)"}
  inner:
    json_from: "script#__NEXT_DATA__"
    each: {json: groups, items: members}
    fields:
      gid: {json: ^.id}
      id: {json: id, type: json}
  dom:
    json_from: "div.data"
    fields:
      a: {json: a}
`,
	"modifiers": `  mods:
    fields:
      rev: {json: "list|@reverse", type: json}
      keys: {json: "obj|@keys", all: true}
      vals: {json: "obj|@values", type: json}
      flat: {json: "list|@flatten", all: true}
      join: {json: "list|@join", type: json}
      str: {json: "obj|@tostr"}
      back: {json: "s|@fromstr|a"}
      ugly: {json: "@ugly|obj", type: json}
      this: {json: "@this.a", default: 0}
  each:
    each: {json: "list|@reverse"}
    fields:
      name: {json: name}
      up: {json: "tags|@flatten", all: true}
`,
}

var fuzzContentTypes = []string{"text/html", "application/json", "text/plain", "", "text/html; charset=windows-1251", "application/json; charset=utf-16le"}

func fuzzExtractors(t testing.TB) map[string]*Extractor {
	out := map[string]*Extractor{}
	for name, items := range fuzzItems {
		cfg, err := config.Parse(name+".yaml", []byte(fuzzCrawl+items), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		if out[name], err = New(cfg, nil); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// fuzzSeeds are pages built to break extraction: nesting past every limit,
// strings past max_value_size, invalid UTF-8 and control bytes, the JSON
// document's id everywhere, documents that are almost JSON.
func fuzzSeeds() [][]byte {
	deepJSON := func(d int) string { return strings.Repeat("[", d) + strings.Repeat("]", d) }
	nest := func(tag string, d int, inner string) string {
		return strings.Repeat("<"+tag+` class="c">`, d) + inner + strings.Repeat("</"+tag+">", d)
	}
	big := strings.Repeat("word ", 4000)
	doc := `{"a":{"b":"12"},"list":[{"name":"x","v":2,"tags":["t",["u"]]},{"name":"y","v":"3.5"}],"obj":{"k":[1,2]},` +
		`"groups":[{"id":"g","members":[{"id":1},{"id":{"z":null}}]}],"url":"/next?x=1","flag":"yes","s":"{\"a\":7}"}`
	html := `<html><head><title>T</title><base href="/b/"></head><body><h1>One</h1><h2>Two</h2>` +
		`<p class="n">-1.5e3</p><p class="b">on</p><a href="/x">x</a><a href="javascript:alert(1)">j</a><a href="//h/y">y</a>` +
		`<table><tr id="r1" class="odd"><td>a</td><td>b</td><b>bold</b></tr></table><ul><li class="c">one <b>b</b></li><li>two</li></ul>` +
		`<div class="box"><span>s1</span><span>s2</span></div><pre>{"p":[1,2]}</pre><div class="data">{"a":"dom"}</div>` +
		`<script id="__NEXT_DATA__" type="application/json">` + doc + `</script></body></html>`
	seeds := []string{
		doc, html, "", "{}", "[]", "null", `"s"`, "<", "<html>",
		// Nesting: past the 512 elements HTML's parser allows, past the
		// thousand levels modifier paths read, and a hundred thousand deep
		// (the limit is in the stack: see TestBounds_DeepJSONDoesNotRecurse).
		nest("div", 400, big[:2000]), nest("div", 600, "x"), nest("span", 300, nest("li", 100, "<b>b</b>")),
		`{"list":[` + deepJSON(1200) + `],"obj":` + deepJSON(50_000) + `}`,
		deepJSON(100_000), strings.Repeat("[", 200_000),
		`{"s":"` + strings.Repeat(`[`, 5000) + `","list":[{"name":"` + strings.Repeat("[{", 3000) + `"}]}`,
		`<pre>` + deepJSON(100_000) + `</pre>`,
		// Values past max_value_size, alone and repeated.
		`{"a":"` + big + `","list":[` + strings.Repeat(`"`+big[:3000]+`",`, 10) + `1]}`,
		`<ul>` + strings.Repeat(`<li class="c">`+big[:3000]+`<b>b</b></li>`, 50) + `</ul>`,
		nest("div", 300, big),
		// Bytes that are not text.
		"\xff\xfe<\x00h\x00t\x00m\x00l\x00>", "<p class=\"n\">\xc3\x28\xa0\xa1</p><a href=\"\xff\">\x00</a>",
		`{"a":"\ud800\udc00\ud800","list":[{"name":"\u0000x"}]}`, "\ufeff" + doc, "\xef\xbb\xbf<title>bom</title>",
		"<meta charset=windows-1251><title>\xcf\xf0\xe8\xe2\xe5\xf2</title>",
		// The JSON document's id everywhere, and JSON that is almost JSON.
		strings.Repeat(`<x __NEXT_DATA__ `, 20_000), strings.Repeat("<__NEXT_DATA__", 20_000),
		`<script id="__NEXT_DATA__">{"a":1,}</script>`, `<script id="__NEXT_DATA__">` + doc + `</scrip`,
		`<!-- <script id="__NEXT_DATA__">{"a":"c"}</script> --><div class="data">[</div>`,
		`{"a":1e400,"list":[{"v":-0},{"v":1e19},{"v":"1,000"},{"v":true}],"flag":"maybe","url":"http://[::1"}`,
	}
	out := make([][]byte, len(seeds))
	for i, s := range seeds {
		out[i] = []byte(s)
	}
	return out
}

// FuzzExtract feeds random and adversarial pages through every source and
// field modifier, with the bounds on: extraction never crashes, and every
// page ends ok, within the bounds, or failed with a PageError.
func FuzzExtract(f *testing.F) {
	// Two content types a seed, one with each page URL, so that the seeds
	// run in a couple of seconds in plain go test.
	for i, s := range fuzzSeeds() {
		f.Add(s, uint8(i%len(fuzzContentTypes)))
		f.Add(s, uint8(16+(i+1)%len(fuzzContentTypes)))
	}
	exs := fuzzExtractors(f)
	f.Fuzz(func(t *testing.T, body []byte, kind uint8) {
		if len(body) > 256<<10 {
			return // over max_body_size: a crawl fails it unread
		}
		ctype := fuzzContentTypes[int(kind)%len(fuzzContentTypes)]
		pageURL := []string{"http://127.0.0.1/p1", "http://127.0.0.1/q/logout"}[int(kind/16)%2]
		for name, ex := range exs {
			for _, noPlan := range []bool{false, true} {
				ex.noPlan = noPlan
				res, err := ex.ExtractContext(context.Background(), pageURL, body, ctype, true)
				if err != nil {
					var pe *PageError
					if !errors.As(err, &pe) {
						t.Fatalf("%s (noPlan %v): %T %v, want ok or a PageError", name, noPlan, err, err)
					}
					continue
				}
				checkFuzzResult(t, name, ex, res)
			}
		}
	})
}

func checkFuzzResult(t *testing.T, name string, ex *Extractor, res *Result) {
	yield := 0
	for _, it := range res.Items {
		for _, rec := range it.Records {
			for i, v := range rec.Values {
				s, ok := v.(string)
				if !ok {
					continue
				}
				yield += len(s)
				if len(s) > ex.lim.maxValue {
					t.Errorf("%s: %s.%d: a value of %d bytes, over max_value_size", name, it.Name, i, len(s))
				}
				if !utf8.ValidString(s) {
					t.Errorf("%s: %s.%d: %q is not UTF-8", name, it.Name, i, s)
				}
			}
		}
	}
	for _, l := range res.Links {
		yield += len(l)
		if !strings.HasPrefix(l, "http") {
			t.Errorf("%s: link %q", name, l)
		}
	}
	if yield > ex.lim.maxYield {
		t.Errorf("%s: yielded %d bytes, over %d", name, yield, ex.lim.maxYield)
	}
	if t.Failed() {
		t.Log(fmt.Sprint(res.Warnings))
	}
}
