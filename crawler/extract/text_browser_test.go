package extract

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/gather-crawler/gather/crawler/extract/internal/htmlparse"
	"github.com/gather-crawler/gather/internal/browsertest"
)

// The browser is the reference for an element's text: these tests load
// pages into Chromium, ask it for innerText, and compare gather's text of
// the same elements, parsed from the same bytes by gather's parser.
//
// Chromium sees only the HTML: the pages come from a local server that
// answers 404 for everything else (style sheets, scripts, images), and the
// page's own <style> sheets and style attributes are switched off before
// asking, so the default style sheet alone lays the page out, as gather
// assumes. Scripts stay on, as gather parses with scripting on (<noscript>
// is raw text and not shown); the Python docs' two inline scripts change no
// DOM (their libraries are not served).

const (
	// pydocEnv points at another copy of the Python docs' HTML.
	pydocEnv = "GATHER_PYDOC"
	// pydocDefault is where Debian's python3-doc puts them.
	pydocDefault = "/usr/share/doc/python3-doc/html"
	// corpusSelector is what the corpus comparison reads: the elements
	// whose text a crawler takes most.
	corpusSelector = "h1, h2, p, td, li, dt, dd"
	// corpusStride: every corpusStride-th page of the corpus (in path
	// order) is compared, 106 of the 530 pages, about 15 s, to keep go
	// test ./... quick (Chromium takes some 150 ms a page here, on two
	// cores; more tabs do not help). $GATHER_PYDOC_STRIDE changes it:
	// 1 compares every page.
	corpusStride = 5
	strideEnv    = "GATHER_PYDOC_STRIDE"
	// minAgreement is the share of elements whose text must equal the
	// browser's.
	minAgreement = 0.995
)

// elementText is what the browser and gather say of one element.
type elementText = browsertest.Element

// gatherTexts parses page as the extractor does and returns gather's text
// of every element matching sel that the browser's DOM has too (not those
// inside a <template>, whose content a browser keeps out of the document).
func gatherTexts(page []byte, sel string) ([]elementText, error) {
	root, err := htmlparse.Parse(bytes.NewReader(page))
	if err != nil {
		return nil, err
	}
	var tb textBuf
	var out []elementText
	for _, n := range cascadia.QueryAll(root, cascadia.MustCompile(sel)) {
		if inTemplate(n) {
			continue
		}
		out = append(out, elementText{Name: n.Data, Text: strings.Clone(tb.nodeText(n)), IsText: n.Namespace == ""})
	}
	return out, nil
}

func inTemplate(n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.DataAtom == atom.Template && p.Namespace == "" {
			return true
		}
	}
	return false
}

// collapse turns runs of white space (unicode.IsSpace: with no-break
// spaces) into one space and trims: innerText keeps line breaks, tabs and
// no-break spaces, gather's text does not.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// miss is one element whose texts differ.
type miss struct {
	page, name      string
	index           int
	browser, gather string
}

// compareTexts compares the browser's and gather's texts of one page's
// elements and returns how many it compared and the misses. A page whose
// two DOMs disagree on the elements is one miss per element.
func compareTexts(page string, br, ga []elementText) (int, []miss) {
	if len(br) != len(ga) {
		return max(len(br), len(ga)), []miss{{page: page, name: "(DOM)", index: -1,
			browser: fmt.Sprintf("%d elements", len(br)), gather: fmt.Sprintf("%d elements", len(ga))}}
	}
	var misses []miss
	n := 0
	for i := range br {
		if br[i].Name != ga[i].Name {
			return len(br), []miss{{page: page, name: "(DOM)", index: i, browser: "<" + br[i].Name + ">", gather: "<" + ga[i].Name + ">"}}
		}
		// A <template> is the one element whose text gather takes
		// otherwise, on purpose: a browser gives "" because the content
		// is kept out of the document; gather gives the content's text.
		if !br[i].IsText || br[i].Name == "template" {
			continue
		}
		n++
		if want, got := collapse(br[i].Text), ga[i].Text; want != got {
			misses = append(misses, miss{page: page, name: br[i].Name, index: i, browser: want, gather: got})
		}
	}
	return n, misses
}

// servePages serves pages[path] as UTF-8 HTML, and 404 for anything else.
func servePages(t *testing.T, page func(path string) ([]byte, bool)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := page(strings.TrimPrefix(r.URL.Path, "/"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// needBrowser returns the Chromium to run, skipping the test when there
// is none, in -short mode, and under the race detector: gather's side of
// the comparison runs in the test's goroutine alone, so the detector would
// find nothing and add some 15 s to the race run (go test ./... runs it).
func needBrowser(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Chromium; skipped in -short mode")
	}
	if raceDetector {
		t.Skip("needs Chromium; skipped under the race detector (go test ./... runs it)")
	}
	exe, err := browsertest.Chromium()
	if err != nil {
		browsertest.SkipWithout(t, "no Chromium on PATH (%v)", err)
	}
	return exe
}

// browserCases are small pages on the edges of the text rules; every
// element of each is compared.
var browserCases = []string{
	`<p>with-<code>statement</code> and <code>email.charset</code>: x</p>
	<h4>Writing Credits <span>(<a href="#">WGA</a>)</span></h4>
	<p>a <b> b </b> c<i></i> d <em>e</em>f<strong>g</strong><small>h</small><sub>i</sub><sup>j</sup><kbd>k</kbd><abbr>l</abbr><q>m</q></p>`,
	`<div>a<br>b<wbr>c<br><br>d<hr>e<div></div>f<span></span>g<p>h</p>i<p></p>j</div>
	<div>a<div>b<div>c</div>d</div>e<section>f</section>g<blockquote>h</blockquote>i<address>j</address>k<center>l</center>m</div>`,
	`<table><caption>Cap</caption><thead><tr><th>h1</th><th>h2</th></tr></thead>
	<tbody><tr><td>a</td><td></td><td> b </td></tr><tr></tr><tr><td>c<br>d</td><td><p>e</p><p>f</p></td></tr></tbody>
	<tfoot><tr><td colspan=2>foot</td></tr></tfoot></table>
	<div>x<table><tr><td>1<td>2</table>y<table><tr><td>3</table>z</div>`,
	`<ul><li>one</li><li>two<ul><li>three</li><li>four <b>bold</b></li></ul></li></ul>
	<ol><li>x<p>para</p>y</li><li><a>link</a>text</li></ol>
	<dl><dt>term</dt><dd>def <code>c</code></dd><dt>t2<dd>d2</dl><menu><li>m</li></menu>`,
	`<div>a<script>var s = 1;</script>b<style>p { color: red }</style>c<template>tmpl<p>in template</p></template>d<noscript><p>ns</p></noscript>e</div>
	<div>x<span hidden>hid</span>y<div hidden>hid<p>in hidden</p></div>z<input type=hidden value=v>w<input value=v2>v<datalist><option>dl</option></datalist>u</div>
	<script type="application/ld+json">{"@type": "Movie", "name": "x"}</script>
	<div hidden><p>hidden <b>para</b><script>s</script> text</p><li>hidden li</li></div>`,
	`<pre>  pre
  formatted   text  </pre><pre>
leading newline</pre><div>a<pre>b
c</pre>d<listing>l</listing>e<xmp><b>not bold</b></xmp>f</div>`,
	`<div>nb&nbsp;sp&nbsp; &nbsp;x&#x2003;em&#x3000;id y&#xAD;soft z&#x200B;zw a&#x200B;
b c
&#x200B;d e&#x200B; f tab	tab&#x0B;vt&#x0C;ff</div><p>漢
字 and <ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby> ruby</p>`,
	`<div>pick <select><option>A</option><option selected>B</option><optgroup label=G><option>C</option></optgroup></select> end</div>
	<p>x<textarea>ta text</textarea>y<img alt=ALT src=x.png>z<button>Btn<div>in button</div></button>w<input type=submit value=Go>v<label>lab<input>el</label>u</p>
	<p>a<video>vid<p>in video</p></video>b<canvas>cv<span>in canvas</span></canvas>c<audio>au</audio>d<audio controls>ac</audio>e<meter>m</meter>f<progress>p</progress>g<object>ob<p>in object</p></object>h<iframe>if</iframe>i<embed>j</p>`,
	`<div>x<details><summary>Sum</summary>Body<p>in closed</p></details>y<details open><summary>S2</summary>B2<p>in open</p></details>z<dialog>dlg<p>in dialog</p></dialog>w<dialog open>dlgo</dialog>v</div>
	<details><summary>S<b>s</b></summary><div><p>deep <i>in</i></p></div></details><div hidden=until-found><div><p>deep <b>uf</b></p></div></div>
	<div>a<span hidden=until-found>uf</span>b<div hidden=until-found>ufd<p>in uf</p></div>c<marquee>mq<div>in marquee</div></marquee>d<map><area></map>e<output>o</output>f</div>`,
	`<div>a<b>b<i>c</b>d</i>e<p>f<b>g<p>h</b>i</p></div><p>x<table><tr><td>in table</td></tr></table>y<h1>head<span>ing</span></h1><h2>sub <a>head</a>ing</h2>
	<fieldset><legend>leg</legend>field</fieldset><figure>fig<figcaption>cap</figcaption></figure><main>m</main><nav>n</nav><article>ar</article><aside>as</aside><header>he</header><footer>fo</footer><hgroup>hg</hgroup><form>form</form>`,
	`<p>x<svg width=10 height=10><g><text>t1 <tspan>ts</tspan>more</text></g><title>ti</title><desc>de</desc>raw<text>t2</text></svg>y</p>
	<p>m<math><mrow><mi>sin</mi><mo>(</mo><mn>12</mn><mo>)</mo></mrow></math>n<math><semantics><mtext>ab cd</mtext><annotation>an</annotation></semantics></math>o</p>`,
}

// TestNodeText_AsChromium compares gather's text with Chromium's innerText
// on the edge cases above (every element must agree) and on the Python
// documentation (Debian's python3-doc, or $GATHER_PYDOC): every
// corpusStride-th page (or $GATHER_PYDOC_STRIDE-th), every h1, h2, p, td, li, dt and dd, of which
// minAgreement must agree.
func TestNodeText_AsChromium(t *testing.T) {
	exe := needBrowser(t)
	corpus := os.Getenv(pydocEnv)
	if corpus == "" {
		corpus = pydocDefault
	}
	pages := corpusPages(corpus)
	if len(pages) == 0 {
		browsertest.SkipWithout(t, "no Python docs (*.html) under %s", corpus)
	}
	fsys := os.DirFS(corpus)
	srv := servePages(t, func(p string) ([]byte, bool) {
		if rest, ok := strings.CutPrefix(p, "case/"); ok {
			var i int
			if _, err := fmt.Sscanf(rest, "%d.html", &i); err == nil && i >= 0 && i < len(browserCases) {
				return casePage(i), true
			}
			return nil, false
		}
		if p == imdbPath {
			b, err := os.ReadFile(imdbFile())
			return b, err == nil
		}
		if path.Ext(p) != ".html" {
			return nil, false
		}
		b, err := fs.ReadFile(fsys, p)
		return b, err == nil
	})
	stride := corpusStride
	if v := os.Getenv(strideEnv); v != "" {
		if _, err := fmt.Sscanf(v, "%d", &stride); err != nil || stride < 1 {
			t.Fatalf("%s=%q: want a positive number", strideEnv, v)
		}
	}
	b := browsertest.Start(t, exe)
	start := time.Now()

	t.Run("cases", func(t *testing.T) {
		for i := range browserCases {
			name := fmt.Sprintf("case/%d.html", i)
			br, err := b.Texts(srv.URL+"/"+name, "*")
			if err != nil {
				t.Fatal(err)
			}
			ga, err := gatherTexts(casePage(i), "*")
			if err != nil {
				t.Fatal(err)
			}
			_, misses := compareTexts(name, br, ga)
			for _, m := range misses {
				t.Errorf("%s: element %d <%s>:\nchromium %q\n  gather %q", m.page, m.index, m.name, m.browser, m.gather)
			}
		}
	})

	t.Run("imdb-classic", func(t *testing.T) {
		page := imdbFixture(t)
		const sel = "h1, h2, h3, h4, p, td, li, dt, dd, a, span, div"
		br, err := b.Texts(srv.URL+"/"+imdbPath, sel)
		if err != nil {
			t.Fatal(err)
		}
		ga, err := gatherTexts(page, sel)
		if err != nil {
			t.Fatal(err)
		}
		n, misses := compareTexts(imdbPath, br, ga)
		for _, m := range misses {
			t.Errorf("%s: element %d <%s>:\nchromium %q\n  gather %q", m.page, m.index, m.name, m.browser, m.gather)
		}
		t.Logf("%s: %d elements (%s), %d differ from Chromium", imdbPath, n, sel, len(misses))
	})

	t.Run("pydoc", func(t *testing.T) {
		compared, total := 0, 0
		var misses []miss
		perName := map[string][2]int{} // elements, misses
		for i := 0; i < len(pages); i += stride {
			p := pages[i]
			br, err := b.Texts(srv.URL+"/"+p, corpusSelector)
			if err != nil {
				t.Fatal(err)
			}
			page, err := fs.ReadFile(fsys, p)
			if err != nil {
				t.Fatal(err)
			}
			ga, err := gatherTexts(page, corpusSelector)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			n, m := compareTexts(p, br, ga)
			compared, total, misses = compared+1, total+n, append(misses, m...)
			for _, e := range br {
				c := perName[e.Name]
				c[0]++
				perName[e.Name] = c
			}
			for _, e := range m {
				c := perName[e.name]
				c[1]++
				perName[e.name] = c
			}
		}
		const shown = 40
		for i, m := range misses {
			if i == shown {
				t.Logf("... and %d more", len(misses)-shown)
				break
			}
			t.Logf("%s: element %d <%s>:\nchromium %q\n  gather %q", m.page, m.index, m.name, m.browser, m.gather)
		}
		agree := 1.0
		if total > 0 {
			agree = float64(total-len(misses)) / float64(total)
		}
		var byName []string
		for _, name := range strings.Split(corpusSelector, ", ") {
			byName = append(byName, fmt.Sprintf("%s %d of %d", name, perName[name][1], perName[name][0]))
		}
		t.Logf("%d of %d pages under %s: %d elements, %d differ from Chromium (%.2f%% agree; %s), in %v",
			compared, len(pages), corpus, total, len(misses), 100*agree, strings.Join(byName, ", "), time.Since(start).Round(time.Millisecond))
		if total == 0 || agree < minAgreement {
			t.Errorf("%.2f%% of the elements' texts agree with Chromium, want at least %.1f%%", 100*agree, 100*minAgreement)
		}
	})
}

// imdbPath is the real IMDB page of ../shared/fixtures (see
// fixtures_test.go), also compared when present: its inline scripts run,
// and change no text.
const imdbPath = "imdb-classic-tt3393786-fullcredits.html"

// imdbFile is where it is: in $GATHER_FIXTURES, else ../shared/fixtures.
func imdbFile() string {
	dir := os.Getenv("GATHER_FIXTURES")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "fixtures")
	}
	return filepath.Join(dir, imdbPath)
}

// imdbFixture reads it, skipping t when it is absent, unless
// GATHER_REQUIRE_FIXTURES is set.
func imdbFixture(t *testing.T) []byte {
	b, err := os.ReadFile(imdbFile())
	if err != nil {
		if os.Getenv("GATHER_REQUIRE_FIXTURES") != "" {
			t.Fatalf("fixture %s is required (GATHER_REQUIRE_FIXTURES is set): %v", imdbPath, err)
		}
		t.Skipf("fixture %s not available (%v)", imdbPath, err)
	}
	return b
}

// casePage is browserCases[i] as a page.
func casePage(i int) []byte {
	return []byte("<!DOCTYPE html><html><head><title>case</title></head><body>" + browserCases[i] + "</body></html>")
}

// corpusPages lists the .html files under dir (following its symbolic
// link, as Debian's python3-doc/html is one), as slash paths in order.
func corpusPages(dir string) []string {
	var pages []string
	fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path.Ext(p) == ".html" {
			pages = append(pages, p)
		}
		return nil
	})
	return pages
}
