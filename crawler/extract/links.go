package extract

import (
	"net/url"

	"github.com/andybalholm/cascadia"
)

// links returns the absolute URLs the follow rules select, once each, in
// page order, without fragments.
func (e *Extractor) links(p *page) []string {
	if len(e.follow) == 0 || p.root == nil {
		return nil
	}
	base, err := url.Parse(p.url)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range e.follow {
		for _, n := range cascadia.QueryAll(p.root, r.css) {
			href := ""
			for _, a := range n.Attr {
				if a.Key == "href" {
					href = a.Val
				}
			}
			if href == "" {
				continue
			}
			u, err := base.Parse(href)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				continue
			}
			u.Fragment = ""
			s := u.String()
			if seen[s] || (r.match != nil && !r.match.MatchString(s)) {
				continue
			}
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
