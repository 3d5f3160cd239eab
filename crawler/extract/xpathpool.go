package extract

import (
	"sync"

	"github.com/antchfx/htmlquery"
	"github.com/antchfx/xpath"
	"golang.org/x/net/html"
)

// xpathExpr is a compiled XPath expression usable from many goroutines at
// once. An *xpath.Expr keeps iteration state in its query tree, so
// concurrent evaluations of one Expr race; each page takes its own copy
// from a pool instead of compiling it again.
type xpathExpr struct {
	pool sync.Pool
}

func compileXPath(src string) (*xpathExpr, error) {
	e, err := xpath.Compile(src)
	if err != nil {
		return nil, err
	}
	x := &xpathExpr{}
	x.pool.New = func() any { return xpath.MustCompile(src) }
	x.pool.Put(e)
	return x, nil
}

// evaluate runs the expression with base as its context node and hands the
// result to f before the expression goes back to the pool. An evaluation
// that b stops (by panicking) leaves the expression mid-iteration: it is
// dropped, not pooled.
func (x *xpathExpr) evaluate(b *budget, base *html.Node, f func(any)) {
	e := x.pool.Get().(*xpath.Expr)
	f(e.Evaluate(newNav(b, base)))
	x.pool.Put(e)
}

// selectAll returns the nodes the expression selects under base, as
// htmlquery.QuerySelectorAll does.
func (x *xpathExpr) selectAll(b *budget, base *html.Node) []*html.Node {
	e := x.pool.Get().(*xpath.Expr)
	var out []*html.Node
	for t := e.Select(newNav(b, base)); t.MoveNext(); {
		nav := htmlNav(t.Current())
		if nav == nil {
			continue
		}
		n := nav.Current()
		if nav.NodeType() == xpath.AttributeNode {
			// An attribute stands as an element of its name holding its
			// value, as htmlquery makes it.
			text := &html.Node{Type: html.TextNode, Data: nav.Value()}
			n = &html.Node{Type: html.ElementNode, Data: nav.LocalName(), FirstChild: text, LastChild: text}
		}
		out = append(out, n)
	}
	x.pool.Put(e)
	return out
}

// nav is htmlquery's navigator, ticking a page's budget at every move: an
// XPath expression can take time quadratic in the page (//a/following::a),
// and its moves are where that time goes.
type nav struct {
	// By value, so that Copy costs one allocation, as htmlquery's does.
	htmlquery.NodeNavigator
	b *budget
}

func newNav(b *budget, n *html.Node) *nav {
	return &nav{NodeNavigator: *htmlquery.CreateXPathNavigator(n), b: b}
}

// htmlNav is the htmlquery navigator of an XPath result (nil if it has
// none).
func htmlNav(n xpath.NodeNavigator) *htmlquery.NodeNavigator {
	switch v := n.(type) {
	case *nav:
		return &v.NodeNavigator
	case *htmlquery.NodeNavigator:
		return v
	}
	return nil
}

func (n *nav) Copy() xpath.NodeNavigator {
	c := *n
	return &c
}

func (n *nav) MoveTo(other xpath.NodeNavigator) bool {
	if o, ok := other.(*nav); ok {
		other = &o.NodeNavigator
	}
	return n.NodeNavigator.MoveTo(other)
}

func (n *nav) MoveToRoot() {
	n.b.tick()
	n.NodeNavigator.MoveToRoot()
}

func (n *nav) MoveToParent() bool {
	n.b.tick()
	return n.NodeNavigator.MoveToParent()
}

func (n *nav) MoveToNextAttribute() bool {
	n.b.tick()
	return n.NodeNavigator.MoveToNextAttribute()
}

func (n *nav) MoveToChild() bool {
	n.b.tick()
	return n.NodeNavigator.MoveToChild()
}

func (n *nav) MoveToFirst() bool {
	n.b.tick()
	return n.NodeNavigator.MoveToFirst()
}

func (n *nav) MoveToNext() bool {
	n.b.tick()
	return n.NodeNavigator.MoveToNext()
}

func (n *nav) MoveToPrevious() bool {
	n.b.tick()
	return n.NodeNavigator.MoveToPrevious()
}
