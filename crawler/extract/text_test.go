package extract

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// referenceText is how an element's text was taken before textBuf: every
// text node followed by a space, then strings.Fields joined by spaces.
// Another rule may replace it one day; until then textBuf must match it.
func referenceText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			b.WriteByte(' ')
		case html.CommentNode:
		default:
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// checkText compares nodeText with referenceText on every node of doc,
// through one buffer, as a page reuses it.
func checkText(t *testing.T, doc string) {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Skip(err)
	}
	var tb textBuf
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if got, want := tb.nodeText(n), referenceText(n); got != want {
			t.Fatalf("text of <%s> in %q:\n got %q\nwant %q", n.Data, doc, got, want)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
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
}

func TestNodeText_AsFieldsJoin(t *testing.T) {
	for _, doc := range textCases {
		checkText(t, doc)
	}
}

func FuzzNodeText(f *testing.F) {
	for _, doc := range textCases {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) { checkText(t, doc) })
}
