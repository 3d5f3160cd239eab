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
// result to f before the expression goes back to the pool.
func (x *xpathExpr) evaluate(base *html.Node, f func(any)) {
	e := x.pool.Get().(*xpath.Expr)
	defer x.pool.Put(e)
	f(e.Evaluate(htmlquery.CreateXPathNavigator(base)))
}

// selectAll returns the nodes the expression selects under base.
func (x *xpathExpr) selectAll(base *html.Node) []*html.Node {
	e := x.pool.Get().(*xpath.Expr)
	defer x.pool.Put(e)
	return htmlquery.QuerySelectorAll(base, e)
}
