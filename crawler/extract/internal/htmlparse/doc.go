// Package htmlparse is golang.org/x/net/html's HTML5 parser (v0.61.0:
// parse.go, token.go and what they need), copied so that building a page's
// tree costs fewer allocations. It builds the same *html.Node trees as
// html.Parse: TestParse_AsXNetHTML and FuzzParse hold it to that, on the
// html5lib tree-construction tests, the demo's pages and IMDB's.
//
// What differs from upstream, and why, is said where it differs; the rest
// is left as it was written there, so that a diff against a later x/net
// shows what to carry over.
package htmlparse
