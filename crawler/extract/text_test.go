package extract

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// The reference below takes an element's text the plain way: it writes the
// whole innerText-like string out (text as is, "\v" at every block
// boundary) and collapses it afterwards, and it classes elements from name
// lists rather than atoms. textBuf must match it on every node of every
// document: the fuzz test holds the two together, and
// TestNodeText_AsChromium holds textBuf to the browser.

func nameSet(names string) map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(names) {
		m[n] = true
	}
	return m
}

var (
	// Elements whose default display is block-level (block, list-item,
	// table and its parts, table-cell), plus <br>, in Chromium.
	refBlock = nameSet(`address article aside blockquote body br caption
		center col colgroup dd details dir div dl dt fieldset figcaption figure
		footer form frame frameset h1 h2 h3 h4 h5 h6 header hgroup hr html
		legend li listing main menu nav ol optgroup option p plaintext pre
		search section summary table tbody td tfoot th thead tr ul xmp`)
	// display: none by default (noscript: gather parses with scripting on).
	refNone = nameSet(`area base basefont datalist head link meta noembed
		noframes param rp script style template title noscript`)
	// Replaced: rendered, content never shown.
	refReplaced = nameSet(`img input textarea video canvas iframe embed meter progress`)
	// SVG elements that are never rendered.
	refSVGNone = nameSet(`title desc metadata defs style script symbol
		clipPath mask pattern marker linearGradient radialGradient filter`)
)

func refAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// refKind is "inline", "block", "none", "replaced" or "hidden".
func refKind(n *html.Node) string {
	switch n.Namespace {
	case "svg":
		switch {
		case n.Data == "text" || n.Data == "foreignObject":
			return "block"
		case refSVGNone[n.Data]:
			return "none"
		}
		return "inline"
	case "math":
		if strings.HasPrefix(n.Data, "annotation") {
			return "none"
		}
		return "block"
	case "":
	default:
		return "inline"
	}
	kind := "inline"
	_, open := refAttr(n, "open")
	_, controls := refAttr(n, "controls")
	switch {
	case refBlock[n.Data], n.Data == "dialog" && open:
		kind = "block"
	case refNone[n.Data], n.Data == "dialog", n.Data == "audio" && !controls:
		return "none"
	case refReplaced[n.Data], n.Data == "audio":
		kind = "replaced"
	}
	if v, ok := refAttr(n, "hidden"); ok && n.Data != "embed" {
		if strings.ToLower(v) != "until-found" {
			return "none"
		}
		if kind == "block" {
			return "hidden"
		}
	}
	return kind
}

func refIsHTML(n *html.Node, name string) bool {
	return n.Type == html.ElementNode && n.Namespace == "" && n.Data == name
}

// refShown is whether child c of rendered element p is shown: <select>
// shows its options only, a closed <details> its first <summary> only.
func refShown(p, c *html.Node) bool {
	switch {
	case refIsHTML(p, "select"):
		return refIsHTML(c, "option") || refIsHTML(c, "optgroup")
	case refIsHTML(p, "details"):
		if _, open := refAttr(p, "open"); open {
			return true
		}
		for s := p.FirstChild; s != nil; s = s.NextSibling {
			if refIsHTML(s, "summary") {
				return s == c
			}
		}
		return false
	}
	return true
}

func referenceText(n *html.Node) string {
	var b strings.Builder
	var rendered, inner func(*html.Node, bool)
	// inner writes the rendered text of n's shown children.
	inner = func(n *html.Node, svgText bool) {
		svgText = svgText || n.Namespace == "svg" && n.Data == "text"
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if !refShown(n, c) {
				continue
			}
			switch c.Type {
			case html.TextNode:
				if n.Namespace != "svg" || svgText {
					b.WriteString(c.Data)
				}
			case html.ElementNode:
				rendered(c, svgText)
			}
		}
	}
	rendered = func(n *html.Node, svgText bool) {
		switch refKind(n) {
		case "inline":
			inner(n, svgText)
		case "block":
			b.WriteString("\v")
			inner(n, svgText)
			b.WriteString("\v")
		}
	}
	var content func(*html.Node)
	content = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				b.WriteString(c.Data)
			case refIsHTML(c, "template"):
			default:
				content(c)
			}
		}
	}
	if n.Type == html.TextNode {
		return refCollapse(n.Data, false)
	}
	if n.Type != html.ElementNode && n.Type != html.DocumentNode {
		return ""
	}
	// Whether n is rendered: no ancestor (or n) without a box, none that
	// hides its content.
	state, svgText := "rendered", false
	if n.Type == html.ElementNode {
		switch refKind(n) {
		case "none":
			state = "content"
		case "replaced", "hidden":
			state = "empty"
		}
	}
	for c, p := n, n.Parent; p != nil && state != "content"; c, p = p, p.Parent {
		if p.Type != html.ElementNode {
			continue
		}
		switch k := refKind(p); {
		case k == "none" || k == "replaced" || refIsHTML(p, "select") && !refShown(p, c):
			state = "content"
		case k == "hidden" || !refShown(p, c):
			state = "empty"
		}
		if p.Namespace == "svg" && p.Data == "text" {
			svgText = true
		}
	}
	switch state {
	case "rendered":
		inner(n, svgText)
		return refCollapse(b.String(), true)
	case "content":
		content(n)
		return refCollapse(b.String(), false)
	}
	return ""
}

// refCollapse turns each run of white space in s into one space and trims
// s; in rendered text a run of space, tab, CR and LF holding a LF next to
// U+200B goes entirely, as CSS Text's segment break transformation says.
func refCollapse(s string, layout bool) string {
	// The runes of s, each with its bytes (invalid UTF-8 stays as it is).
	var rs []rune
	var bs []string
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		rs, bs = append(rs, r), append(bs, s[i:i+size])
		i += size
	}
	var out strings.Builder
	for i := 0; i < len(rs); {
		if !unicode.IsSpace(rs[i]) {
			out.WriteString(bs[i])
			i++
			continue
		}
		j, soft, lf := i, true, false
		for ; j < len(rs) && unicode.IsSpace(rs[j]); j++ {
			soft = soft && strings.ContainsRune(" \t\r\n", rs[j])
			lf = lf || rs[j] == '\n'
		}
		gone := layout && soft && lf && (i > 0 && rs[i-1] == 0x200b || j < len(rs) && rs[j] == 0x200b)
		if !gone && out.Len() > 0 && j < len(rs) {
			out.WriteByte(' ')
		}
		i = j
	}
	return out.String()
}

// checkText compares nodeText with referenceText on every node of doc,
// through one buffer, as a page reuses it (in document order, and then
// jumping about: the buffer remembers the last element's ancestors), and
// checks what any text must be: trimmed, single spaces, valid UTF-8 when
// doc is, and unchanged when taken again as a text node's text.
func checkText(t *testing.T, doc string) {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Skip(err)
	}
	var nodes []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		nodes = append(nodes, n)
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	order := make([]*html.Node, 0, 3*len(nodes))
	order = append(order, nodes...)
	for i := range nodes {
		order = append(order, nodes[len(nodes)-1-i])
	}
	for i := range nodes {
		if i%2 == 0 {
			order = append(order, nodes[i/2])
		} else {
			order = append(order, nodes[len(nodes)-1-i/2])
		}
	}
	var tb textBuf
	for _, n := range order {
		got := tb.nodeText(n)
		if want := referenceText(n); got != want {
			t.Fatalf("text of <%s> in %q:\n got %q\nwant %q", n.Data, doc, got, want)
		}
		if strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Fatalf("text of <%s> in %q is not collapsed: %q", n.Data, doc, got)
		}
		if utf8.ValidString(doc) && !utf8.ValidString(got) {
			t.Fatalf("text of <%s> in %q is not UTF-8: %q", n.Data, doc, got)
		}
		kept := strings.Clone(got)
		if again := (&textBuf{}).nodeText(&html.Node{Type: html.TextNode, Data: kept}); again != kept {
			t.Fatalf("text of <%s> in %q changes when taken again:\n %q\n %q", n.Data, doc, kept, again)
		}
	}
}

var textCases = []string{
	"",
	"<p>plain</p>",
	"<td>\n<a href=x> <span>Tom Cruise</span>\n</a></td>",
	"<h4>Directed by&nbsp;</h4>",
	"<p>a<b>b</b>c</p>",
	"<p>  lead   and\ttrail \n</p>",
	"<p>x<!-- a comment -->y</p>",
	"<p>\u2003em\u2003space\u00a0nbsp\u0085nel\u3000ideographic</p>",
	"<p>bad \xff\xfe utf-8\xe2\x82</p>",
	"<p>é<i> ü </i>ß</p>",
	"<div><script>var a = 1;</script> <style>p{}</style>z</div>",
	"<p>\v\f\r</p>",
	"<table><tr><td>1</td><td> 2 </td></tr></table>",
	"<p>with-<code>statement</code>, <code>email.charset</code>: x</p>",
	"<h4>Writing Credits <span>(<a>WGA</a>)</span></h4>",
	"<div>a<div>b</div>c<br>d<p>e</p>f<li>g</li>h<span>i</span>j</div>",
	"<ul><li>one</li><li>two<ul><li>three</li></ul></li></ul><dl><dt>T<dd>D</dl>",
	"<div>a<template>t<p>tp</p></template>b<noscript><p>n</p></noscript>c<span hidden>h</span>d<input type=hidden value=v>e</div>",
	"<div hidden><p>hid<b>den</b><script>s</script> p</p></div><title>in body</title>",
	"<pre>  a\n  b  </pre><pre>\nc</pre>",
	"<p>a<select><option>A</option>text<optgroup label=g><option>B</option></optgroup></select>b</p>",
	"<p>x<textarea>ta</textarea>y<img alt=alt>z<button>bt<div>d</div></button>w</p>",
	"<details><summary>S</summary>b<p>in</p><summary>2</summary></details><details open><summary>S</summary>b</details>",
	"<details><summary>S<b>s</b></summary><div><p>deep <i>in</i></p></div></details><p>a<select><optgroup><option>o</option></optgroup></select></p>",
	"<div>a<div hidden=until-found>u<p>in</p></div>b<span hidden=UNTIL-FOUND>s</span>c<embed hidden>d</div>",
	"<div>a<dialog>dl<p>in</p></dialog>b<dialog open>o</dialog>c<audio>au<p>x</p></audio>d<audio controls>ac</audio>e</div>",
	"<p>a<video>v<p>in video</p></video><canvas>c<span>s</span></canvas>b<object>ob<p>o</p></object>c</p>",
	"<p>x<svg><g><text>t1 <tspan>ts</tspan>more</text></g><title>ti</title>raw<foreignObject><div>fo</div>fi</foreignObject></svg>y</p>",
	"<p>x<math><mi>x</mi><mo>+</mo><mn>1</mn><semantics><mi>a</mi><annotation>an</annotation></semantics></math>y</p>",
	"<p>a\u200b\nb c\n\u200bd e \u200b f\u200b\u00a0\ng\u200b\n<b>\nh</b></p>",
	"<p>漢\n字 <ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby></p>",
	"<table><caption>C</caption><tr><td>a<td><td>b<tr><th>c</table>",
	"<p>a<wbr>b<hr>c<center>d</center>e<marquee>m</marquee>f<q>q</q>g</p>",
}

func TestNodeText_AsReference(t *testing.T) {
	for _, doc := range textCases {
		checkText(t, doc)
	}
}

// TestNodeText_Examples pins what the text rules are for: the field
// values the issue reported, and the browser's answers on a few edge
// cases.
func TestNodeText_Examples(t *testing.T) {
	for _, c := range []struct{ doc, sel, want string }{
		{"<h1>with-<code>statement</code></h1>", "h1", "with-statement"},
		{"<p><code>email.charset</code>: the charset</p>", "p", "email.charset: the charset"},
		{"<h4>Writing Credits <span>(<a>WGA</a>)</span></h4>", "h4", "Writing Credits (WGA)"},
		{"<h4>Directed by&nbsp;</h4>", "h4", "Directed by"},
		{"<table><td>\n<a href=x> <span>Tom Cruise</span>\n</a></td></table>", "td", "Tom Cruise"},
		{"<div>a<div>b</div>c<br>d</div>", "div", "a b c d"},
		{"<table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr></table>", "table", "1 2 3"},
		{"<ul><li>a</li><li>b</li></ul>", "ul", "a b"},
		{"<p>a<script>s</script><style>t</style>b<span hidden>h</span>c</p>", "p", "abc"},
		{`<script type="application/ld+json">{"a": 1}</script>`, "script", `{"a": 1}`},
		{"<div hidden><p>a<b>b</b> <script>c</script></p></div>", "p", "ab c"},
		{"<p>x<textarea>t</textarea>y</p>", "textarea", ""},
		{"<p>a\u00a0\u00a0b</p>", "p", "a b"},
		{"<p>a\u200b\nb</p>", "p", "a\u200bb"},
	} {
		root, err := html.Parse(strings.NewReader(c.doc))
		if err != nil {
			t.Fatal(err)
		}
		n := findElement(root, c.sel)
		if n == nil {
			t.Fatalf("no <%s> in %q", c.sel, c.doc)
		}
		var tb textBuf
		if got := tb.nodeText(n); got != c.want {
			t.Errorf("text of <%s> in %q = %q, want %q", c.sel, c.doc, got, c.want)
		}
	}
}

func findElement(n *html.Node, name string) *html.Node {
	if n.Type == html.ElementNode && n.Data == name {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if e := findElement(c, name); e != nil {
			return e
		}
	}
	return nil
}

func FuzzNodeText(f *testing.F) {
	for _, doc := range textCases {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) { checkText(t, doc) })
}
