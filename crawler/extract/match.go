package extract

import (
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// eachMatch calls f on every descendant of root that sel matches, in
// document order: cascadia.QueryAll without the slice, ticking b per node.
func eachMatch(b *budget, root *html.Node, sel cascadia.SelectorGroup, f func(*html.Node)) {
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		b.tick()
		if sel.Match(c) {
			f(c)
		}
		eachMatch(b, c, sel, f)
	}
}

// expected reports whether the page has a match for its expect selector,
// looked for once per page and selector (for the first 64 items).
func (p *page) expected(it *item) bool {
	i := it.expectIdx
	if i >= 64 {
		return cascadia.Query(p.root, it.expect) != nil
	}
	bit := uint64(1) << i
	if p.expectSeen&bit == 0 {
		p.expectSeen |= bit
		if cascadia.Query(p.root, it.expect) != nil {
			p.expectFound |= bit
		}
	}
	return p.expectFound&bit != 0
}

// matchMemo holds, for one record, the element each field's selector
// matched, so that fields sharing a selector match it once.
type matchMemo struct {
	nodes []*html.Node
	done  []bool
}

func (m *matchMemo) reset(fields int) {
	if cap(m.nodes) < fields {
		m.nodes, m.done = make([]*html.Node, fields), make([]bool, fields)
	}
	m.nodes, m.done = m.nodes[:fields], m.done[:fields]
	clear(m.done)
}

// query is cascadia.Query(base, f.css), remembered for the record when
// other fields share the selector.
func (m *matchMemo) query(base *html.Node, f *field) *html.Node {
	i := f.sameCSS
	if i >= len(m.done) {
		return cascadia.Query(base, f.css)
	}
	if !m.done[i] {
		m.nodes[i], m.done[i] = cascadia.Query(base, f.css), true
	}
	return m.nodes[i]
}
