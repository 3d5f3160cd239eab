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
		switch r, svgText := renderingOf(n); r {
		case rendered:
			t.layout = true
			t.content(n, svgText)
		case notRendered:
			t.layout = false
			t.textContent(n)
		}
	}
	return unsafe.String(unsafe.SliceData(t.b), len(t.b))
}

type rendering uint8

const (
	// rendered: innerText is the rendered text of the content.
	rendered rendering = iota
	// notRendered: n or an ancestor has no box (display: none, or inside
	// a replaced element), so innerText is textContent.
	notRendered
	// noText: n is rendered but shows no text of its content (a replaced
	// element such as <textarea>, content a closed <details> hides).
	noText
)

// renderingOf tells how n is rendered, and whether it is inside an SVG
// <text> (whose text is rendered, unlike other text in SVG).
func renderingOf(n *html.Node) (r rendering, svgText bool) {
	if n.Type == html.ElementNode {
		switch boxOf(n) {
		case noBox:
			return notRendered, false
		case replacedBox, hiddenBox:
			r = noText
		}
		svgText = isSVGText(n)
	}
	for c, p := n, n.Parent; p != nil; c, p = p, p.Parent {
		if p.Type != html.ElementNode {
			continue
		}
		switch boxOf(p) {
		case noBox, replacedBox:
			return notRendered, false
		case hiddenBox:
			r = noText
		}
		switch {
		case p.Namespace == "svg":
			svgText = svgText || p.Data == "text"
		case p.Namespace != "":
		case p.DataAtom == atom.Select:
			if c.Type != html.ElementNode || c.Namespace != "" || (c.DataAtom != atom.Option && c.DataAtom != atom.Optgroup) {
				return notRendered, false
			}
		case p.DataAtom == atom.Details:
			if !hasAttr(p, "open") && c != summaryOf(p) {
				r = noText
			}
		}
	}
	return r, svgText
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

func boxOf(e *html.Node) box {
	switch e.Namespace {
	case "":
	case "svg":
		return svgBox(e.Data)
	case "math":
		// Chromium lays out every MathML element inside <math> as a
		// block; annotations are not shown.
		if e.Data == "annotation" || e.Data == "annotation-xml" {
			return noBox
		}
		return blockBox
	default:
		return inlineBox
	}
	untilFound := false
	for i := range e.Attr {
		if a := &e.Attr[i]; a.Key == "hidden" && a.Namespace == "" && e.DataAtom != atom.Embed {
			if !strings.EqualFold(a.Val, "until-found") {
				return noBox
			}
			untilFound = true
		}
	}
	b := htmlBox(e)
	if untilFound && b == blockBox {
		return hiddenBox
	}
	return b
}

func htmlBox(e *html.Node) box {
	switch e.DataAtom {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Body,
		atom.Br, atom.Caption, atom.Center, atom.Col, atom.Colgroup, atom.Dd,
		atom.Details, atom.Dir, atom.Div, atom.Dl, atom.Dt, atom.Fieldset,
		atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.Frame,
		atom.Frameset, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Header, atom.Hgroup, atom.Hr, atom.Html, atom.Legend, atom.Li,
		atom.Listing, atom.Main, atom.Menu, atom.Nav, atom.Ol, atom.Optgroup,
		atom.Option, atom.P, atom.Plaintext, atom.Pre, atom.Search,
		atom.Section, atom.Summary, atom.Table, atom.Tbody, atom.Td,
		atom.Tfoot, atom.Th, atom.Thead, atom.Tr, atom.Ul, atom.Xmp:
		return blockBox
	case atom.Area, atom.Base, atom.Basefont, atom.Datalist, atom.Head,
		atom.Link, atom.Meta, atom.Noembed, atom.Noframes, atom.Param,
		atom.Rp, atom.Script, atom.Style, atom.Template, atom.Title,
		// gather parses with scripting on, as a browser running scripts
		// does: <noscript> is raw text, and not shown.
		atom.Noscript:
		return noBox
	case atom.Dialog:
		if hasAttr(e, "open") {
			return blockBox
		}
		return noBox
	case atom.Audio:
		if hasAttr(e, "controls") {
			return replacedBox
		}
		return noBox
	case atom.Img, atom.Input, atom.Textarea, atom.Video, atom.Canvas,
		atom.Iframe, atom.Embed, atom.Meter, atom.Progress:
		return replacedBox
	}
	return inlineBox
}

// svgBox: in SVG only <text> (and what it holds) shows text, each <text> a
// block of its own; <foreignObject> holds HTML.
func svgBox(name string) box {
	switch name {
	case "text", "foreignObject":
		return blockBox
	case "title", "desc", "metadata", "defs", "style", "script", "symbol",
		"clipPath", "mask", "pattern", "marker", "linearGradient",
		"radialGradient", "filter":
		return noBox
	}
	return inlineBox
}

func isSVGText(n *html.Node) bool { return n.Namespace == "svg" && n.Data == "text" }

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

// content appends the rendered text of e's content.
func (t *textBuf) content(e *html.Node, svgText bool) {
	switch {
	case e.Namespace == "svg":
		svgText = svgText || e.Data == "text"
	case e.Namespace != "" || e.Type != html.ElementNode:
	case e.DataAtom == atom.Select:
		// Only the options show, each on a line of its own.
		for c := e.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Namespace == "" && (c.DataAtom == atom.Option || c.DataAtom == atom.Optgroup) {
				t.element(c, false)
			}
		}
		return
	case e.DataAtom == atom.Details:
		if !hasAttr(e, "open") {
			if s := summaryOf(e); s != nil {
				t.element(s, false)
			}
			return
		}
	}
	for c := e.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			if svgText || e.Namespace != "svg" {
				t.add(c.Data)
			}
		case html.ElementNode:
			t.element(c, svgText)
		}
	}
}

// element appends the rendered text of e, a child of a rendered element.
func (t *textBuf) element(e *html.Node, svgText bool) {
	switch boxOf(e) {
	case inlineBox:
		t.content(e, svgText)
	case blockBox:
		t.gap = hardGap
		t.content(e, svgText)
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
