//go:build xnethtml

package extract

import "golang.org/x/net/html"

// parseHTML is x/net's parser: the switch back to upstream (see
// parse_copy.go). Everything else is the same; pages cost more
// allocations to parse.
var parseHTML = html.Parse
