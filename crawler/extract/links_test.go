package extract_test

import (
	"fmt"
	"slices"
	"testing"
)

// Followed links and type url fields resolve against the document's
// <base href>, as a browser resolves them; an empty href is the page.
func TestExtract_LinksResolveAgainstBase(t *testing.T) {
	cfg := itemsConfig(t, `  links:
    each: "a"
    fields:
      href: {attr: href}
      abs: {attr: href, type: url}
      text: {}
`)
	ex := mustExtractor(t, cfg)
	const page = "http://127.0.0.1/library/email/charset.html"
	for _, c := range []struct {
		name, head string
		want       []string
	}{
		{"no base", "", []string{
			"http://127.0.0.1/library/bugs.html", "http://127.0.0.1/library/email/charset.html",
			"http://127.0.0.1/library/email/charset.html?q=1", "http://127.0.0.1/x", "https://docs.example/y#frag"}},
		{"base href", `<base href="/docs/3.11/">`, []string{
			"http://127.0.0.1/docs/bugs.html", "http://127.0.0.1/docs/3.11/",
			"http://127.0.0.1/docs/3.11/?q=1", "http://127.0.0.1/x", "https://docs.example/y#frag"}},
		// Only the first base with an href counts.
		{"two bases", `<base target="_blank"><base href="http://127.0.0.1/a/b/"><base href="/z/">`, []string{
			"http://127.0.0.1/a/bugs.html", "http://127.0.0.1/a/b/",
			"http://127.0.0.1/a/b/?q=1", "http://127.0.0.1/x", "https://docs.example/y#frag"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := "<html><head>" + c.head + `</head><body>
<a href="../bugs.html">Bugs</a> <a href="">Here</a> <a href=" ?q=1 ">Query</a>
<a href="/x">X</a> <a href="https://docs.example/y#frag">Y</a></body></html>`
			res, err := ex.Extract(page, []byte(body), "text/html", false)
			if err != nil {
				t.Fatal(err)
			}
			var abs []string
			for _, r := range records(t, cfg, res, "links") {
				abs = append(abs, fmt.Sprint(r["abs"]))
			}
			if !slices.Equal(abs, c.want) {
				t.Errorf("type url values:\n got %q\nwant %q", abs, c.want)
			}
			recs := records(t, cfg, res, "links")
			if recs[0]["href"] != "../bugs.html" || recs[0]["text"] != "Bugs" {
				t.Errorf("the each element itself: %v", recs[0])
			}
		})
	}
}

func TestExtract_FollowedLinks(t *testing.T) {
	cfg := parseConfig(t, `database: x.db
crawl:
  name: x
  start: {urls: ["http://127.0.0.1/docs/index.html"]}
  max_depth: 3
  follow: [{css: "a"}]
items:
  page:
    fields:
      title: {css: h1}
`)
	ex := mustExtractor(t, cfg)
	body := `<html><head><base href="/docs/"></head><body><h1>t</h1>
<a href="a.html#s1">A</a> <a href="a.html#s2">A again</a> <a href="">self</a> <a href="#top">top</a>
<a href="mailto:x@y">mail</a> <a href="../up.html">up</a></body></html>`
	res, err := ex.Extract("http://127.0.0.1/docs/index.html?v=1", []byte(body), "text/html", true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://127.0.0.1/docs/a.html", "http://127.0.0.1/docs/", "http://127.0.0.1/up.html"}
	if !slices.Equal(res.Links, want) {
		t.Errorf("links:\n got %q\nwant %q", res.Links, want)
	}
}
