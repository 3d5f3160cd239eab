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

func TestParse_AsXNetHTML(t *testing.T) {
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
	f.Add(demo.RenderClassic(demo.MovieFor(demo.ID(1), 0)))
	f.Fuzz(func(t *testing.T, doc []byte) { check(t, "fuzz", doc) })
}
