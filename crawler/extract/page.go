package extract

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"unsafe"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/gather-crawler/gather/crawler/extract/jsonplan"
)

// page is one response, parsed at most once into each form it is asked for.
type page struct {
	url         string
	body        []byte
	contentType string
	root        *html.Node
	// jsonDocs caches the JSON document per json_from selector.
	jsonDocs map[string]jsonDoc
	// ex and active (a bit per item whose url pattern matches) pick the
	// JSON plan; walks holds each JSON source's walk of this page.
	ex     *Extractor
	active uint64
	walks  map[string]pageWalk
	// arena holds copies of the strings the page's records keep.
	arena arena
	// text collects elements' text, one value at a time.
	text textBuf
	// matches remembers a record's selector matches (see field.sameCSS).
	matches matchMemo
	// expectSeen and expectFound: a bit per item's expect selector, looked
	// for and found.
	expectSeen, expectFound uint64
	bodyKind                int8
	// baseURL is what relative URLs resolve against, once baseDone.
	baseURL  *url.URL
	baseDone bool
	// b is what the page's extraction may still spend.
	b *budget
}

type jsonDoc struct {
	raw []byte
	err error
	// validated is set once raw is known to be JSON (err is then nil) or
	// not (err says so).
	validated bool
	// depthChecked is set once raw's nesting was measured for the items
	// whose paths apply gjson modifiers; tooDeep is the verdict.
	depthChecked, tooDeep bool
}

func newPage(url string, body []byte, contentType string) *page {
	return &page{url: url, body: body, contentType: contentType}
}

func (p *page) parseDOM() error {
	if p.root != nil {
		return nil
	}
	root, err := parseHTML(bytes.NewReader(p.body))
	if err != nil {
		return err
	}
	p.root = root
	return nil
}

// Whether the response itself is the JSON document, worked out once.
const (
	bodyUnknown  = iota
	bodyNotJSON  // the JSON, if any, is in an element
	bodyDeclared // the content type says JSON; not checked yet
	bodyChecked  // no JSON content type, but the body is valid JSON
)

// isJSONBody reports whether the response itself is the JSON document.
func (p *page) isJSONBody() bool {
	if p.bodyKind == bodyUnknown {
		p.bodyKind = bodyNotJSON
		if strings.Contains(p.contentType, "json") {
			p.bodyKind = bodyDeclared
		} else if b := bytes.TrimLeft(p.body, " \t\r\n\ufeff"); len(b) > 0 && (b[0] == '{' || b[0] == '[') && validJSON(b) {
			p.bodyKind = bodyChecked
		}
	}
	return p.bodyKind != bodyNotJSON
}

// jsonDocument returns the page's JSON document, checked to be valid JSON:
// the body when it is JSON, else the text of the element src selects.
func (p *page) jsonDocument(src *jsonSource) ([]byte, error) {
	d := p.locateJSON(src)
	if !d.validated {
		d.validated = true
		if !validJSON(d.raw) {
			d.err = invalidJSON(src, p.isJSONBody())
		}
		p.jsonDocs[jsonKey(src)] = d
	}
	return d.raw, d.err
}

// locateJSON finds the page's JSON document (once per source) without
// checking it: jsonDocument checks it, or a walk does as it reads it, and
// records the verdict with setJSONVerdict.
func (p *page) locateJSON(src *jsonSource) jsonDoc {
	key := jsonKey(src)
	if d, ok := p.jsonDocs[key]; ok {
		return d
	}
	raw, err := p.findJSON(src)
	if p.jsonDocs == nil {
		p.jsonDocs = map[string]jsonDoc{}
	}
	// A body taken for JSON by its content was checked on the way.
	d := jsonDoc{raw: raw, err: err, validated: err != nil || p.bodyKind == bodyChecked}
	p.jsonDocs[key] = d
	return d
}

// setJSONVerdict records whether the document of src is valid JSON, as a
// walk found.
func (p *page) setJSONVerdict(src *jsonSource, valid bool) error {
	key := jsonKey(src)
	d := p.jsonDocs[key]
	d.validated = true
	if !valid {
		d.err = invalidJSON(src, p.isJSONBody())
	}
	p.jsonDocs[key] = d
	return d.err
}

// validJSON is gjson.ValidBytes without its recursion, which a document
// nested deeply enough turns into a stack overflow.
func validJSON(b []byte) bool {
	return jsonplan.Valid(unsafe.String(unsafe.SliceData(b), len(b)))
}

// modifierDepthOK fails the page when the document of src nests too deeply
// for the paths with gjson modifiers that read it (see maxModifierDepth).
func (p *page) modifierDepthOK(src *jsonSource) error {
	d := p.locateJSON(src)
	if d.err != nil || d.depthChecked {
		if d.tooDeep {
			return &PageError{Reason: fmt.Sprintf("unexpected page: JSON nested deeper than %d levels, which paths with gjson modifiers do not read", maxModifierDepth)}
		}
		return d.err
	}
	d.depthChecked = true
	d.tooDeep = deeperThan(unsafe.String(unsafe.SliceData(d.raw), len(d.raw)), maxModifierDepth)
	p.jsonDocs[jsonKey(src)] = d
	return p.modifierDepthOK(src)
}

func jsonKey(src *jsonSource) string {
	if src == nil {
		return ""
	}
	return src.sel
}

func invalidJSON(src *jsonSource, body bool) error {
	if body || src == nil {
		return &PageError{Reason: "unexpected page: the body is not valid JSON"}
	}
	return &PageError{Reason: "unexpected page: the text of " + src.sel + " is not valid JSON"}
}

func (p *page) findJSON(src *jsonSource) ([]byte, error) {
	if p.isJSONBody() {
		return p.body, nil
	}
	if src == nil {
		return nil, &PageError{Reason: "unexpected page: the body is not JSON and the item has no json_from selector"}
	}
	var raw []byte
	found := false
	if p.root == nil && src.quick {
		raw, found = scanElementText(p.b, p.body, src.tag, src.id)
	} else {
		if err := p.parseDOM(); err != nil {
			return nil, &PageError{Reason: fmt.Sprintf("unparsable HTML: %v", err)}
		}
		if n := cascadia.Query(p.root, src.css); n != nil {
			raw, found = []byte(rawText(n)), true
		}
	}
	if !found {
		return nil, &PageError{Reason: "unexpected page: no match for " + src.sel}
	}
	return bytes.TrimSpace(raw), nil
}

// rawText concatenates the text children of n, as written (script content
// is not HTML-escaped).
func rawText(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// scanElementText finds the element with the given id (and tag, if set) and
// returns its raw text, using the tokenizer only from where the id appears:
// far cheaper than parsing a 400 KB page into a tree to read one script.
// Each byte is searched for '<' and tokenized about once, however often the
// id appears: a page of nothing but the id must not take quadratic time.
func scanElementText(bg *budget, body []byte, tag, id string) ([]byte, bool) {
	needle := []byte(id)
	// lastLT is the last '<' in body[:searched]; covered is where the last
	// token read from a '<' ended: an id before it is inside that token,
	// whose element was not the one.
	lastLT, searched, covered, tried := -1, 0, 0, -1
	for off := 0; off < len(body); {
		bg.tick()
		i := bytes.Index(body[off:], needle)
		if i < 0 {
			return nil, false
		}
		at := off + i
		off = at + len(needle)
		if at < covered {
			continue
		}
		if j := bytes.LastIndexByte(body[searched:at], '<'); j >= 0 {
			lastLT = searched + j
		}
		searched = at
		lt := lastLT
		if lt < 0 || lt == tried {
			continue
		}
		tried = lt
		z := html.NewTokenizer(bytes.NewReader(body[lt:]))
		tt := z.Next()
		tagLen := len(z.Raw())
		covered = lt + tagLen
		if tt != html.StartTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if tag != "" && string(name) != tag {
			continue
		}
		ok := false
		for hasAttr {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			if string(k) == "id" && string(v) == id {
				ok = true
				break
			}
		}
		if !ok {
			continue
		}
		if a := atom.Lookup(name); a == atom.Script || a == atom.Style || a == atom.Textarea || a == atom.Title {
			// Raw-text elements: the content runs to the closing tag.
			start := lt + tagLen
			end := bytes.Index(body[start:], []byte("</"+string(name)))
			if end < 0 {
				return body[start:], true
			}
			return body[start : start+end], true
		}
		var b bytes.Buffer
		depth := 1
		for depth > 0 {
			switch z.Next() {
			case html.ErrorToken:
				return b.Bytes(), true
			case html.TextToken:
				b.Write(z.Text())
			case html.StartTagToken:
				depth++
			case html.EndTagToken:
				depth--
			}
		}
		return b.Bytes(), true
	}
	return nil, false
}
