package htmlparse_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/gather-crawler/gather/crawler/extract/internal/htmlparse"
	"github.com/gather-crawler/gather/demo"
)

// sameTree reports where the trees a and b first differ, or "" when
// they are the same: node by node, every field but the links.
func sameTree(a, b *html.Node, path string) string {
	if a.Type != b.Type || a.DataAtom != b.DataAtom || a.Data != b.Data || a.Namespace != b.Namespace {
		return fmt.Sprintf("%s: node %v %q %q, want %v %q %q", path, a.Type, a.Data, a.Namespace, b.Type, b.Data, b.Namespace)
	}
	if len(a.Attr) != len(b.Attr) {
		return fmt.Sprintf("%s <%s>: attributes %v, want %v", path, a.Data, a.Attr, b.Attr)
	}
	for i := range a.Attr {
		if a.Attr[i] != b.Attr[i] {
			return fmt.Sprintf("%s <%s>: attributes %v, want %v", path, a.Data, a.Attr, b.Attr)
		}
	}
	ca, cb := a.FirstChild, b.FirstChild
	for i := 0; ca != nil || cb != nil; i++ {
		if ca == nil || cb == nil {
			return fmt.Sprintf("%s <%s>: child %d is %v, want %v", path, a.Data, i, ca, cb)
		}
		if ca.Parent != a || ca.PrevSibling == nil && a.FirstChild != ca || ca.NextSibling == nil && a.LastChild != ca {
			return fmt.Sprintf("%s <%s>: child %d badly linked", path, a.Data, i)
		}
		if d := sameTree(ca, cb, fmt.Sprintf("%s/%d", path, i)); d != "" {
			return d
		}
		ca, cb = ca.NextSibling, cb.NextSibling
	}
	return ""
}

// check parses doc with both parsers and fails on the first difference.
func check(t *testing.T, name string, doc []byte) {
	t.Helper()
	want, werr := html.Parse(bytes.NewReader(doc))
	got, gerr := htmlparse.Parse(bytes.NewReader(doc))
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("%s: error %v, want %v", name, gerr, werr)
	}
	if werr != nil {
		return
	}
	if d := sameTree(got, want, ""); d != "" {
		t.Fatalf("%s: %s\ninput %q", name, d, doc)
	}
}

// html5libInputs returns the documents of the html5lib tree-construction
// tests that x/net/html ships, or nil when its module is not at hand.
func html5libInputs(tb testing.TB) map[string][]byte {
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/net").Output()
	if err != nil {
		tb.Logf("x/net's source not found (%v): html5lib tests not run", err)
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(dir)), "html", "testdata", "*", "*", "*.dat"))
	more, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(dir)), "html", "testdata", "go", "*.dat"))
	out := map[string][]byte{}
	for _, file := range append(files, more...) {
		f, err := os.Open(file)
		if err != nil {
			tb.Fatal(err)
		}
		r := bufio.NewScanner(f)
		r.Buffer(nil, 1<<20)
		var cur *bytes.Buffer
		n := 0
		for r.Scan() {
			line := r.Text()
			switch {
			case line == "#data":
				cur = &bytes.Buffer{}
				out[fmt.Sprintf("%s#%d", filepath.Base(file), n)] = nil
				n++
			case strings.HasPrefix(line, "#") && cur != nil:
				out[fmt.Sprintf("%s#%d", filepath.Base(file), n-1)] = bytes.TrimSuffix(cur.Bytes(), []byte("\n"))
				cur = nil
			case cur != nil:
				cur.WriteString(line)
				cur.WriteByte('\n')
			}
		}
		f.Close()
	}
	return out
}

// changedCases exercise what this copy does differently from upstream:
// attribute names compared without a map (duplicates in any case, and
// past attrScanMax), tags lowered and unescaped in place, NUL bytes,
// strings and attribute lists cut from shared blocks, nodes from blocks
// (clones of formatting elements, foster parenting).
func changedCases() map[string]string {
	many := "<div"
	for i := 0; i < 40; i++ {
		many += fmt.Sprintf(" a%d=%d A%d=x", i%20, i, i%25)
	}
	many += " id=1 ID=2>x</div>"
	huge := "<p"
	for i := 0; i < 100; i++ {
		huge += fmt.Sprintf(" k%d='%d'", i, i)
	}
	huge += ">y</p>"
	long := strings.Repeat("long text &amp; more ", 1000)
	return map[string]string{
		"duplicate case":    `<a HREF="/x" href="/y" Href=/z class=a CLASS=b>t</a>`,
		"many attributes":   many,
		"huge tag":          huge,
		"nul":               "<di\x00v cl\x00ass='a\x00b'>t\x00x</di\x00v><p \x00=1>",
		"entities":          `<a href="?a=1&amp;b=2&lt;&notanentity;&copy=3" title='&quot;q&quot;'>&lt;&amp;&nbsp;&#x41;&#65;</a>`,
		"upper":             `<DIV CLASS="X"><SPAN ID=Y>z</SPAN></DIV>`,
		"long":              "<p title='" + long + "'>" + long + "</p>",
		"newlines":          "<p title='a\r\nb\rc'>x\r\ny\rz</p>",
		"adoption":          "<b><i><p>1</b>2</i>3<a href=x><div>4</a>5</div>",
		"foster":            "<table><tr><td>a</td></tr>text<b>bold</b><tr><td>b</table>",
		"foreign":           `<svg viewbox="0 0 1 1" xlink:href="#a"><foreignObject><p>x</p></foreignObject></svg><math definitionurl=x><mi>y</mi></math>`,
		"template":          "<template><tr><td>x</td></tr></template><select><option>a<option>b</select>",
		"raw text":          "<script>if (a < b) { x = '</div>' }</script><style>p > a {}</style><textarea>&lt;b&gt;</textarea><title>a &amp; b</title>",
		"merged attributes": "<html a=1><body b=2><p c=3 d=4><html e=5 a=6><body f=7><p g=8>",
		"attribute reuse":   "<b class=x><b class=x><b class=x><b class=x>y</b></b></b></b><p>z",
		"comments doctype":  "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><!-- c --><p>x<!-- d -->",
	}
}

func TestParse_AsXNetHTML(t *testing.T) {
	for name, doc := range changedCases() {
		check(t, name, []byte(doc))
	}
	inputs := html5libInputs(t)
	if inputs != nil && len(inputs) < 1000 {
		t.Fatalf("only %d html5lib documents found", len(inputs))
	}
	for name, doc := range inputs {
		check(t, name, doc)
	}
	for i := 1; i <= 200; i++ {
		m := demo.MovieFor(demo.ID(i), i%3)
		check(t, "classic "+m.ID, demo.RenderClassic(m))
		check(t, "nextdata "+m.ID, demo.RenderNextData(m))
	}
	dir := os.Getenv("GATHER_FIXTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "..", "shared", "fixtures")
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "*.html"))
	if len(pages) == 0 && os.Getenv("GATHER_REQUIRE_FIXTURES") != "" {
		t.Fatalf("no saved pages in %s (GATHER_REQUIRE_FIXTURES is set)", dir)
	}
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		check(t, p, b)
	}
	t.Logf("%d html5lib documents, 400 demo pages, %d saved pages", len(inputs), len(pages))
}

func FuzzParse(f *testing.F) {
	for _, doc := range html5libInputs(f) {
		f.Add(doc)
	}
	for _, doc := range changedCases() {
		f.Add([]byte(doc))
	}
	f.Add(demo.RenderClassic(demo.MovieFor(demo.ID(1), 0)))
	f.Fuzz(func(t *testing.T, doc []byte) { check(t, "fuzz", doc) })
}
