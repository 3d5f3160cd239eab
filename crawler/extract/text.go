package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// An element's text is what a browser's innerText gives for it, under the
// browser's default style sheet (gather applies no author CSS), with runs
// of white space collapsed to one space and trimmed: inline elements (a,
// span, code, b, ...) join their neighbours without a space, while block
// boundaries, table cells, list items and <br> separate words; what is not
// rendered (script, style, template, noscript, head, [hidden], ...) adds
// nothing. An element that is not rendered itself, or sits inside one that
// is not (a <script>, a <title>, anything under [hidden]), gives its
// textContent instead, as innerText does. Chromium is the reference:
// TestNodeText_AsChromium holds gather to it. docs/config.md#text says the
// rules for users.

// textBuf collects elements' text, one at a time, into a buffer a page
// reuses for all of them.
type textBuf struct {
	b []byte
	// gap is the strongest separator seen since the last word: what goes
	// between it and the next word.
	gap gap
	// layout is set while taking rendered text (innerText), clear while
	// taking textContent, where U+200B does not swallow line breaks.
	layout bool
	// path is the last element's ancestors, root first, and up scratch
	// for renderingOf: a textBuf serves one document, whose elements it
	// remembers while it lives. They start in the arrays (no allocation
	// for a page of usual depth).
	path    []ancestor
	up      []*html.Node
	pathArr [pathScan]ancestor
	upArr   [pathScan]*html.Node
}

// gap is what separates two words.
type gap uint8

const (
	noGap gap = iota
	// spaceGap is collapsible white space (space, tab, CR): one space.
	spaceGap
	// lineGap is collapsible white space holding a line feed: one space,
	// none next to U+200B (CSS Text's segment break transformation, as
	// Chromium does it).
	lineGap
	// hardGap is a block or cell boundary, a <br>, or white space CSS does
	// not collapse (no-break space, em space, ...): one space.
	hardGap
)

// nodeText returns n's text, as innerText gives it with white space
// collapsed and trimmed (see above). No-break spaces and the other Unicode
// white space (unicode.IsSpace) count as white space. The string shares
// t's buffer: it is good until the next call, and whoever keeps it copies
// it.
func (t *textBuf) nodeText(n *html.Node) string {
	t.b, t.gap = t.b[:0], noGap
	switch n.Type {
	case html.TextNode:
		// An XPath text() result: its own text.
		t.layout = false
		t.add(n.Data)
	case html.ElementNode, html.DocumentNode:
		switch r, svgText := t.renderingOf(n); r {
		case rendered:
			t.layout = true
			var k kind // the document's
			if n.Type == html.ElementNode {
				k = kindOf(n)
			}
			t.content(n, k, svgText)
		case notRendered:
			t.layout = false
			t.textContent(n)
		}
	}
	return unsafe.String(unsafe.SliceData(t.b), len(t.b))
}

// rendering is how an element is rendered, as far as its text goes; of an
// element's and its ancestors', the greatest holds.
type rendering uint8

const (
	// rendered: innerText is the rendered text of the content.
	rendered rendering = iota
	// noText: rendered, but showing no text of its content (a replaced
	// element such as <textarea>, content a closed <details> hides).
	noText
	// notRendered: n or an ancestor has no box (display: none, or inside
	// a replaced element), so innerText is textContent.
	notRendered
)

// ancestor is an element on the path to the last element taken, with
// what it and its ancestors make of its content's rendering.
type ancestor struct {
	n *html.Node
	k kind
	// r is the rendering of n's content, but for what n's kind says of
	// each child (see childRendering).
	r rendering
	// svgText is set inside an SVG <text>.
	svgText bool
}

// pathScan is how far up the path renderingOf looks for each of an
// element's ancestors, so that a deep tree costs no more than walking it.
const pathScan = 32

// renderingOf tells how n is rendered, and whether it is inside an SVG
// <text> (whose text is rendered, unlike other text in SVG). It walks up
// only to the first ancestor it has already seen on the path to the last
// element it was asked about: a page's fields come mostly from elements
// near each other.
func (t *textBuf) renderingOf(n *html.Node) (r rendering, svgText bool) {
	if t.path == nil {
		t.path, t.up = t.pathArr[:0], t.upArr[:0]
	}
	keep := 0
	t.up = t.up[:0]
walk:
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type != html.ElementNode {
			continue
		}
		for i := len(t.path) - 1; i >= max(0, len(t.path)-pathScan); i-- {
			if t.path[i].n == p {
				keep = i + 1
				break walk
			}
		}
		t.up = append(t.up, p)
	}
	t.path = t.path[:keep]
	for i := len(t.up) - 1; i >= 0; i-- {
		t.push(t.up[i])
	}
	if len(t.path) > 0 {
		// n's parent.
		a := &t.path[len(t.path)-1]
		r, svgText = max(a.r, childRendering(a, n)), a.svgText
	}
	if n.Type == html.ElementNode {
		k := kindOf(n)
		switch k.box() {
		case noBox:
			r = notRendered
		case replacedBox, hiddenBox:
			r = max(r, noText)
		}
		svgText = svgText || k&svgTextKind != 0
	}
	return r, svgText
}

// push adds e, a child of the last element on the path, to the path.
func (t *textBuf) push(e *html.Node) {
	a := ancestor{n: e, k: kindOf(e)}
	if len(t.path) > 0 {
		p := &t.path[len(t.path)-1]
		a.r, a.svgText = max(p.r, childRendering(p, e)), p.svgText
	}
	switch a.k.box() {
	case noBox, replacedBox:
		a.r = notRendered
	case hiddenBox:
		a.r = max(a.r, noText)
	}
	a.svgText = a.svgText || a.k&svgTextKind != 0
	t.path = append(t.path, a)
}

// childRendering is what p's kind says of the rendering of c, its child:
// a <select> shows only its options, a closed <details> only its summary.
func childRendering(p *ancestor, c *html.Node) rendering {
	switch {
	case p.k&selectKind != 0 && !isOption(c):
		return notRendered
	case p.k&closedDetailsKind != 0 && c != summaryOf(p.n):
		return noText
	}
	return rendered
}

// box is how the default style sheet lays out an element, as far as its
// text is concerned.
type box uint8

const (
	// inlineBox flows in the line: its text joins its neighbours'.
	inlineBox box = iota
	// blockBox is block-level, a table part, a list item or a <br>: it
	// separates the words before, in and after it.
	blockBox
	// noBox is display: none: neither it nor its content is rendered.
	noBox
	// replacedBox is rendered but shows none of its content as text
	// (<img>, <input>, <textarea>, <video>, <canvas>, ...).
	replacedBox
	// hiddenBox is a block whose content is hidden until found
	// (hidden=until-found): it adds nothing, not even a line break.
	hiddenBox
)

// kind is an element's box and what else its content's text depends on.
type kind uint8

const (
	boxBits kind = 7
	// svgKind: an SVG element, whose text shows only inside a <text>.
	svgKind kind = 1 << (iota + 2)
	// svgTextKind: an SVG <text>.
	svgTextKind
	// selectKind: a <select>, which shows only its options.
	selectKind
	// closedDetailsKind: a <details> without open, which shows only its
	// summary.
	closedDetailsKind
	// byAttrKind: htmlKinds' kind for <dialog>, <audio> and <details>,
	// which kindOf settles by their attributes.
	byAttrKind
)

func (k kind) box() box { return box(k & boxBits) }

// kindOf is e's kind, by its name, namespace and attributes.
func kindOf(e *html.Node) kind {
	if e.Namespace != "" {
		return foreignKind(e)
	}
	k := htmlKinds.get(e.DataAtom)
	untilFound := false
	for i := range e.Attr {
		if a := &e.Attr[i]; a.Key == "hidden" && a.Namespace == "" && e.DataAtom != atom.Embed {
			if !strings.EqualFold(a.Val, "until-found") {
				return kind(noBox)
			}
			untilFound = true
		}
	}
	if k&byAttrKind != 0 {
		switch k {
		case dialogKind:
			k = kind(noBox)
			if hasAttr(e, "open") {
				k = kind(blockBox)
			}
		case audioKind:
			k = kind(noBox)
			if hasAttr(e, "controls") {
				k = kind(replacedBox)
			}
		case detailsKind:
			k = kind(blockBox)
			if !hasAttr(e, "open") {
				k |= closedDetailsKind
			}
		}
	}
	if untilFound && k.box() == blockBox {
		return kind(hiddenBox)
	}
	return k
}

// The kinds kindOf settles by attribute.
const (
	dialogKind  = byAttrKind | 1 // open: block, else none
	audioKind   = byAttrKind | 2 // controls: replaced, else none
	detailsKind = byAttrKind | 3 // block; without open, closed
)

// htmlKinds is the kind of each HTML element that is not inline, by the
// default style sheet's display (as Chromium has it).
var htmlKinds = *newKindTable([]kindEntry{
	{kind(blockBox), []atom.Atom{atom.Address, atom.Article, atom.Aside,
		atom.Blockquote, atom.Body, atom.Br, atom.Caption, atom.Center,
		atom.Col, atom.Colgroup, atom.Dd, atom.Dir, atom.Div, atom.Dl,
		atom.Dt, atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer,
		atom.Form, atom.Frame, atom.Frameset, atom.H1, atom.H2, atom.H3,
		atom.H4, atom.H5, atom.H6, atom.Header, atom.Hgroup, atom.Hr,
		atom.Html, atom.Legend, atom.Li, atom.Listing, atom.Main, atom.Menu,
		atom.Nav, atom.Ol, atom.Optgroup, atom.Option, atom.P,
		atom.Plaintext, atom.Pre, atom.Search, atom.Section, atom.Summary,
		atom.Table, atom.Tbody, atom.Td, atom.Tfoot, atom.Th, atom.Thead,
		atom.Tr, atom.Ul, atom.Xmp}},
	{kind(noBox), []atom.Atom{atom.Area, atom.Base, atom.Basefont,
		atom.Datalist, atom.Head, atom.Link, atom.Meta, atom.Noembed,
		atom.Noframes, atom.Param, atom.Rp, atom.Script, atom.Style,
		atom.Template, atom.Title,
		// gather parses with scripting on, as a browser running
		// scripts does: <noscript> is raw text, and not shown.
		atom.Noscript}},
	{kind(replacedBox), []atom.Atom{atom.Img, atom.Input, atom.Textarea,
		atom.Video, atom.Canvas, atom.Iframe, atom.Embed, atom.Meter,
		atom.Progress}},
	{kind(inlineBox) | selectKind, []atom.Atom{atom.Select}},
	{dialogKind, []atom.Atom{atom.Dialog}},
	{audioKind, []atom.Atom{atom.Audio}},
	{detailsKind, []atom.Atom{atom.Details}},
})

// foreignKind is the kind of an SVG or MathML element. In SVG only <text>
// (and what it holds) shows text, each <text> a block of its own;
// <foreignObject> holds HTML. Chromium lays out every MathML element as a
// block; annotations are not shown.
func foreignKind(e *html.Node) kind {
	switch e.Namespace {
	case "svg":
		switch e.Data {
		case "text":
			return kind(blockBox) | svgKind | svgTextKind
		case "foreignObject":
			return kind(blockBox) | svgKind
		case "title", "desc", "metadata", "defs", "style", "script", "symbol",
			"clipPath", "mask", "pattern", "marker", "linearGradient",
			"radialGradient", "filter":
			return kind(noBox) | svgKind
		}
		return kind(inlineBox) | svgKind
	case "math":
		if e.Data == "annotation" || e.Data == "annotation-xml" {
			return kind(noBox)
		}
		return kind(blockBox)
	}
	return kind(inlineBox)
}

type kindEntry struct {
	k     kind
	atoms []atom.Atom
}

// kindTable maps atoms to kinds, inline when absent: a perfect hash table
// (newKindTable picks a multiplier that gives every atom a slot of its
// own), a few times quicker than a switch over the atoms.
type kindTable struct {
	mul   uint32
	slots [1024]struct {
		a atom.Atom
		k kind
	}
}

func (t *kindTable) slot(a atom.Atom) uint32 { return uint32(a) * t.mul >> 22 }

func newKindTable(entries []kindEntry) *kindTable {
	t := &kindTable{}
next:
	for t.mul = 0x9e3779b1; ; t.mul += 2 {
		t.slots = [len(t.slots)]struct {
			a atom.Atom
			k kind
		}{}
		for _, e := range entries {
			for _, a := range e.atoms {
				s := &t.slots[t.slot(a)]
				if s.a != 0 {
					continue next
				}
				s.a, s.k = a, e.k
			}
		}
		return t
	}
}

func (t *kindTable) get(a atom.Atom) kind {
	if s := &t.slots[t.slot(a)]; s.a == a {
		return s.k
	}
	return kind(inlineBox)
}

func isOption(c *html.Node) bool {
	return c.Type == html.ElementNode && c.Namespace == "" && (c.DataAtom == atom.Option || c.DataAtom == atom.Optgroup)
}

func hasAttr(e *html.Node, key string) bool {
	for i := range e.Attr {
		if e.Attr[i].Key == key && e.Attr[i].Namespace == "" {
			return true
		}
	}
	return false
}

// summaryOf is the <summary> a <details> shows when closed: its first
// child <summary>.
func summaryOf(details *html.Node) *html.Node {
	for c := details.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Summary && c.Namespace == "" {
			return c
		}
	}
	return nil
}

// content appends the rendered text of e's content; k is e's kind.
func (t *textBuf) content(e *html.Node, k kind, svgText bool) {
	switch {
	case k&(svgKind|selectKind|closedDetailsKind) == 0:
	case k&svgTextKind != 0:
		svgText = true
	case k&selectKind != 0:
		// Only the options show, each on a line of its own.
		for c := e.FirstChild; c != nil; c = c.NextSibling {
			if isOption(c) {
				t.element(c, false)
			}
		}
		return
	case k&closedDetailsKind != 0:
		if s := summaryOf(e); s != nil {
			t.element(s, false)
		}
		return
	}
	// Text directly in SVG shows only inside a <text>.
	text := k&svgKind == 0 || svgText
	for c := e.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			if text {
				t.add(c.Data)
			}
		case html.ElementNode:
			t.element(c, svgText)
		}
	}
}

// element appends the rendered text of e, a child of a rendered element.
func (t *textBuf) element(e *html.Node, svgText bool) {
	switch k := kindOf(e); k.box() {
	case inlineBox:
		t.content(e, k, svgText)
	case blockBox:
		t.gap = hardGap
		t.content(e, k, svgText)
		t.gap = hardGap
	}
}

// textContent appends the text of every text node under n, as the DOM's
// textContent does (a <template>'s content is not part of it).
func (t *textBuf) textContent(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			t.add(c.Data)
		case html.ElementNode:
			if c.DataAtom != atom.Template || c.Namespace != "" {
				t.textContent(c)
			}
		}
	}
}

// add appends the words of s, each after the gap before it.
func (t *textBuf) add(s string) {
	for i := 0; i < len(s); {
		// White space.
		if c := s[i]; c < utf8.RuneSelf {
			if g := asciiGap[c]; g != noGap {
				t.gap = max(t.gap, g)
				i++
				continue
			}
		} else if r, size := utf8.DecodeRuneInString(s[i:]); unicode.IsSpace(r) {
			t.gap = hardGap
			i += size
			continue
		}
		// A word: up to the next white space. Invalid UTF-8 decodes as
		// one byte of RuneError, which is not space: it stays in its word.
		j := i + 1
		for j < len(s) {
			if c := s[j]; c < utf8.RuneSelf {
				if asciiGap[c] != noGap {
					break
				}
				j++
			} else if r, size := utf8.DecodeRuneInString(s[j:]); unicode.IsSpace(r) {
				break
			} else {
				j += size
			}
		}
		t.word(s[i:j])
		i = j
	}
}

// word appends w, a space before it if a gap came since the last word.
func (t *textBuf) word(w string) {
	if t.gap != noGap && len(t.b) > 0 &&
		!(t.gap == lineGap && t.layout && (strings.HasPrefix(w, zwsp) || hasSuffix(t.b, zwsp))) {
		t.b = append(t.b, ' ')
	}
	t.gap = noGap
	t.b = append(t.b, w...)
}

const zwsp = "\u200b"

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

// asciiGap is the gap each ASCII white space character makes:
// unicode.IsSpace below utf8.RuneSelf, split by how CSS collapses it.
var asciiGap = [utf8.RuneSelf]gap{
	' ': spaceGap, '\t': spaceGap, '\r': spaceGap,
	'\n': lineGap,
	'\v': hardGap, '\f': hardGap,
}
