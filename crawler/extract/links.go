package extract

import (
	"net/url"
	"strings"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// links returns the absolute URLs the follow rules select, once each, in
// page order, without fragments. They resolve against the page's base URL,
// as a browser resolves them; an empty href is the page itself. stats says
// per rule what its selector found and what its match and deny let
// through, so that a rule that never matches can be told apart from a
// page without links.
func (e *Extractor) links(p *page) (out []string, hubs []bool, stats []FollowStats) {
	if len(e.follow) == 0 || p.root == nil {
		return nil, nil, nil
	}
	base := p.base()
	if base == nil {
		return nil, nil, nil
	}
	stats = make([]FollowStats, len(e.follow))
	seen := map[string]int{} // link → its index in out
	for i, r := range e.follow {
		st := &stats[i]
		for _, n := range cascadia.QueryAll(p.root, r.css) {
			p.b.tick()
			href, ok := attr(n, "href")
			if !ok {
				continue
			}
			u, err := base.Parse(cleanHref(href))
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				continue
			}
			u.Fragment, u.RawFragment = "", ""
			s := u.String()
			st.Seen++
			if r.match != nil && !r.match.MatchString(s) {
				if st.Unmatched == "" {
					st.Unmatched = s
				}
				continue
			}
			st.Matched++
			if r.denies(s) {
				if st.Denied == "" {
					st.Denied = s
				}
				continue
			}
			st.Kept++
			if i, ok := seen[s]; ok {
				if r.hub && hubs != nil {
					hubs[i] = true
				}
				continue
			}
			seen[s] = len(out)
			p.b.spend(len(s))
			out = append(out, s)
			if r.hub && hubs == nil {
				hubs = make([]bool, len(out)-1, cap(out))
			}
			if hubs != nil {
				hubs = append(hubs, r.hub)
			}
		}
	}
	return out, hubs, stats
}

// base returns the URL that relative references on the page resolve
// against: the href of the document's first <base> that has one, resolved
// against the page URL, else the page URL (nil if that is not a URL). A
// page read for its JSON alone is not parsed, and resolves against its URL.
func (p *page) base() *url.URL {
	if p.baseDone {
		return p.baseURL
	}
	p.baseDone = true
	u, err := url.Parse(p.url)
	if err != nil {
		return nil
	}
	p.baseURL = u
	if p.root == nil {
		return u
	}
	if b := firstBase(p.root); b != nil {
		if href, _ := attr(b, "href"); href != "" {
			if bu, err := u.Parse(cleanHref(href)); err == nil && (bu.Scheme == "http" || bu.Scheme == "https") {
				p.baseURL = bu
			}
		}
	}
	return p.baseURL
}

// firstBase finds the first base element with an href, in document order.
func firstBase(n *html.Node) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Base {
			if _, ok := attr(c, "href"); ok {
				return c
			}
		}
		if b := firstBase(c); b != nil {
			return b
		}
	}
	return nil
}

// resolve makes s an absolute URL against the page's base URL.
func (p *page) resolve(s string) (string, bool) {
	base := p.base()
	if base == nil {
		return "", false
	}
	u, err := base.Parse(cleanHref(s))
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// cleanHref drops what a browser's URL parser drops before it parses: white
// space at either end, and tabs and newlines anywhere.
func cleanHref(s string) string {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	}
	return s
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func (r followRule) denies(link string) bool {
	for _, d := range r.deny {
		if d.MatchString(link) {
			return true
		}
	}
	return false
}
