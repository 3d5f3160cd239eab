package crawler

import (
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/gather-crawler/gather/config"
)

// canonical gives a URL the one identity its page is stored under:
// scheme and host in lower case, no fragment, and the query rewritten as
// crawl.canonical says (tracking parameters dropped, the rest sorted), so
// that ?utm_source=a and ?utm_source=b are one page, not two.
type canonical struct {
	drop []string // globs of parameter names
	sort bool
}

func newCanonical(c config.Canonical) canonical {
	return canonical{drop: c.DropQuery, sort: c.SortQuery}
}

// url returns raw in canonical form; raw itself when it does not parse.
func (c canonical) url(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	// A default port is dropped, as the URL parser colly sends requests
	// through drops it: the page is stored under the URL fetched.
	if p := u.Port(); (p == "80" && u.Scheme == "http") || (p == "443" && u.Scheme == "https") {
		u.Host = strings.TrimSuffix(u.Host, ":"+p)
	}
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" && (len(c.drop) > 0 || c.sort) {
		u.RawQuery = c.query(u.RawQuery)
	}
	return u.String()
}

// query rewrites a raw query, keeping each kept parameter's encoding as
// written (re-encoding could change what the server reads).
func (c canonical) query(raw string) string {
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, p := range parts {
		if p == "" {
			continue
		}
		name, _, _ := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if !c.dropped(name) {
			kept = append(kept, p)
		}
	}
	if c.sort {
		// Stable: repeated parameters keep their order, which can matter.
		slices.SortStableFunc(kept, func(a, b string) int {
			an, _, _ := strings.Cut(a, "=")
			bn, _, _ := strings.Cut(b, "=")
			return strings.Compare(an, bn)
		})
	}
	return strings.Join(kept, "&")
}

func (c canonical) dropped(name string) bool {
	for _, g := range c.drop {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}
