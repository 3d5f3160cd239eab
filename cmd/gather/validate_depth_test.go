package main

import (
	"strings"
	"testing"
)

// gather validate says how deep a follow crawl goes as max_depth counts
// it (the start pages are depth 1), and says unlimited as unlimited.
func TestValidate_SaysDepthAsWritten(t *testing.T) {
	for _, c := range []struct{ depth, extra, want string }{
		{"20", "", "follow    up to 20 pages deep, counting the start pages (max_depth 20): a[href]"},
		{"2", "", "follow    the start pages and the pages they link to (max_depth 2): a[href]"},
		{"unlimited", "  allowed_domains: [docs.example]\n", "follow    links at any depth, within allowed_domains: a[href]"},
		{"3", "  hub_refresh_after: 6h\n", "hubs      start pages and hub pages fetched again once stored more than 6h0m0s ago"},
	} {
		dir := t.TempDir()
		cfg := writeFile(t, dir, "d.yaml", `database: d.db
crawl:
  start: {urls: ["https://docs.example/"]}
  max_depth: `+c.depth+`
  follow: [{css: "a[href]"}]
`+c.extra+`items:
  pages:
    fields:
      title: h1
`)
		code, out, errOut := runGather(t, "validate", "-c", cfg)
		if code != exitOK || !strings.Contains(out, c.want) {
			t.Errorf("max_depth %s: exit %d\n%s%s\nwant %q", c.depth, code, out, errOut, c.want)
		}
	}
}
