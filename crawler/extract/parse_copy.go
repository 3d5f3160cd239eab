//go:build !xnethtml

package extract

import "github.com/gather-crawler/gather/crawler/extract/internal/htmlparse"

// parseHTML builds a page's tree. htmlparse builds what html.Parse builds
// (its differential tests hold it to that) with far fewer allocations;
// build with -tags xnethtml to use x/net's own parser instead, e.g. when
// an x/net release changes the parser and the copy has not caught up
// (internal/htmlparse/doc.go).
var parseHTML = htmlparse.Parse
