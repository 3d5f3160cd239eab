// Package htmlparse is golang.org/x/net/html's HTML5 parser (v0.62.0:
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
//
// Keeping it in step: TestCopyFollowsTheXNetInUse compares the content
// (SHA-256) of the x/net/html files the copy follows, in the x/net go.mod
// uses, with what they were when the copy was last ported. Most x/net
// releases leave them alone and the bump needs nothing; when one changes
// them (v0.62.0's fix for quadratic text coalescing was one, carried over
// here), diff the two releases' files, apply the change to this copy,
// and update upstream and upstreamSums in upstream_test.go.
//
// Dropping it: build with -tags xnethtml and extraction parses with
// x/net's html.Parse instead (crawler/extract/parse_xnet.go): the same
// trees, more allocations. That is the way out while a change upstream
// waits to be ported.
package htmlparse
