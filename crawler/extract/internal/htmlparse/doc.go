// Package htmlparse is golang.org/x/net/html's HTML5 parser (v0.61.0:
// parse.go, token.go and what they need; LICENSE is x/net's), copied so
// that building a page's tree costs dozens of allocations instead of
// thousands. It builds the same *html.Node trees as html.Parse:
// TestParse_AsXNetHTML and FuzzParse hold it to that, on the html5lib
// tree-construction documents x/net ships, the demo's pages and IMDB's.
//
// gather calls Parse only; the fragment parser and the tokenizer's other
// methods are kept as upstream wrote them. What differs from upstream,
// and why, is said where it differs (comments starting "gather:"), so
// that a diff against a later x/net shows what to carry over.
package htmlparse
