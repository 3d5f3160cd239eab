package crawler

import (
	"fmt"
	"strconv"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler/extract"
)

// silences tallies over a run what makes a crawl store less than its config
// says without any page failing: a follow rule that never matched a link,
// an each that never selected anything, an item whose url pattern matched
// no page, records dropped for a missing required or key field. Each is
// said once at the end of the run, with an example, so that a config
// mistake shows in the summary instead of in a table that stays small.
type silences struct {
	cfg    *config.Config
	pages  int64  // pages extracted
	anyURL string // the first of them
	items  []itemSilence
	follow []followSilence
	// onePage is set for gather try, which says itself which items'
	// url patterns do not match its page.
	onePage bool
	// hasRows, when set, says whether an item's table holds rows from any
	// run: a re-run that fetched only hub pages stores nothing for an item
	// of leaf pages, and its url pattern is not why.
	hasRows func(item string) bool
}

type itemSilence struct {
	// inactive is the first page the item's url pattern did not match.
	inactive string
	// eachPages counts the pages the item's each was tried on, eachSeen
	// what it selected on them; eachEmpty is a page where it found none.
	eachPages, eachSeen int64
	eachEmpty           string
	// first is the first page the item was read on.
	first string
	// per field: records dropped, the pages they were on, and the first.
	dropped, dropPages []int64
	dropURL            []string
}

type followSilence struct {
	pages                  int64 // pages the rule was tried on
	seen, matched, kept    int64
	unmatched, denied, url string
}

func newSilences(cfg *config.Config) *silences {
	s := &silences{cfg: cfg, follow: make([]followSilence, len(cfg.Crawl.Follow))}
	for _, name := range cfg.ItemOrder {
		n := len(cfg.Items[name].FieldOrder)
		s.items = append(s.items, itemSilence{dropped: make([]int64, n), dropPages: make([]int64, n), dropURL: make([]string, n)})
	}
	return s
}

// add counts one extracted page; the caller holds the report's lock.
func (s *silences) add(pageURL string, res *extract.Result) {
	s.pages++
	if s.anyURL == "" {
		s.anyURL = pageURL
	}
	for i, ir := range res.Items {
		if i >= len(s.items) {
			break
		}
		it := &s.items[i]
		if !ir.Active {
			if it.inactive == "" {
				it.inactive = pageURL
			}
			continue
		}
		if it.first == "" {
			it.first = pageURL
		}
		if !s.cfg.Items[ir.Name].Each.IsZero() {
			it.eachPages++
			it.eachSeen += int64(ir.EachMatched)
			if ir.EachMatched == 0 && it.eachEmpty == "" {
				it.eachEmpty = pageURL
			}
		}
		for j, st := range ir.Fields {
			if st.Dropped == 0 || j >= len(it.dropped) {
				continue
			}
			if it.dropped[j] == 0 {
				it.dropURL[j] = pageURL
			}
			it.dropped[j] += int64(st.Dropped)
			it.dropPages[j]++
		}
	}
	for i, st := range res.Follow {
		if i >= len(s.follow) {
			break
		}
		f := &s.follow[i]
		f.pages++
		f.seen += int64(st.Seen)
		f.matched += int64(st.Matched)
		f.kept += int64(st.Kept)
		if f.url == "" {
			f.url = pageURL
		}
		if f.unmatched == "" {
			f.unmatched = st.Unmatched
		}
		if f.denied == "" {
			f.denied = st.Denied
		}
	}
}

// itemWarnings says what stopped item i from storing records: its url
// pattern or its each (quiet reports that the field warnings would only
// repeat it), and the records dropped for a missing field.
func (s *silences) itemWarnings(i int, name string) (out []string, quiet bool) {
	spec := s.cfg.Items[name]
	it := &s.items[i]
	base := "items." + name
	if spec.URL != "" && it.first == "" && s.pages > 0 {
		if s.onePage || (s.hasRows != nil && s.hasRows(name)) {
			return nil, true
		}
		out = append(out, fmt.Sprintf("%s.url: %s matched none of the %d %s extracted (e.g. %s), so the item stored nothing — the pattern is a regular expression on the page's absolute URL",
			base, strconv.Quote(spec.URL), s.pages, pagesWord(s.pages), it.inactive))
		return out, true
	}
	if it.eachPages > 0 && it.eachSeen == 0 {
		key, sel := eachKey(spec.Each)
		out = append(out, fmt.Sprintf("%s.each.%s: %s selected nothing on any of the %d %s the item was read on (e.g. %s), so the item stored nothing — check the selector",
			base, key, strconv.Quote(sel), it.eachPages, pagesWord(it.eachPages), it.eachEmpty))
		quiet = true
	}
	for j, f := range spec.FieldOrder {
		if j >= len(it.dropped) || it.dropped[j] == 0 {
			continue
		}
		why := "required"
		if !spec.Fields[f].Required {
			why = "key"
		}
		out = append(out, fmt.Sprintf("%s.fields.%s: %d record%s dropped for lacking this %s field, on %d %s (e.g. %s)",
			base, f, it.dropped[j], plural(int(it.dropped[j])), why, it.dropPages[j], pagesWord(it.dropPages[j]), it.dropURL[j]))
	}
	return out, quiet
}

// emptyFieldHint is what a field that matched on none of an item's pages
// is told to check: with a url pattern, the pattern may pick the wrong
// pages as much as the selector may be wrong.
func (s *silences) emptyFieldHint(i int, name string) string {
	spec := s.cfg.Items[name]
	if spec.URL == "" {
		return "check the selector"
	}
	return fmt.Sprintf("check the selector, and that items.%s.url (%s) picks the pages that have it (e.g. %s)", name, strconv.Quote(spec.URL), s.items[i].first)
}

// followWarnings names each follow rule that kept no link on any page it
// was tried on, with what it saw, so that a match anchored to the path
// (links are matched as absolute URLs) is plain.
func (s *silences) followWarnings() []string {
	var out []string
	for i, f := range s.follow {
		if f.pages == 0 || f.kept > 0 || i >= len(s.cfg.Crawl.Follow) {
			continue
		}
		rule := s.cfg.Crawl.Follow[i]
		key := fmt.Sprintf("crawl.follow[%d]", i)
		on := fmt.Sprintf("on the %d %s it was tried on (e.g. %s)", f.pages, pagesWord(f.pages), f.url)
		switch {
		case f.seen == 0:
			out = append(out, fmt.Sprintf("%s.css: %s selected no link (an element with an http(s) href) %s, so nothing was followed — check the selector",
				key, strconv.Quote(rule.CSS), on))
		case f.matched == 0:
			out = append(out, fmt.Sprintf("%s.match: %s matched none of the %d links its css selected %s, so nothing was followed; e.g. %s does not match — match is a regular expression on the absolute URL, so ^/path never matches",
				key, strconv.Quote(rule.Match), f.seen, on, strconv.Quote(f.unmatched)))
		default:
			out = append(out, fmt.Sprintf("%s.deny: refused all %d links the rule matched %s, so nothing was followed (e.g. %s)",
				key, f.matched, on, strconv.Quote(f.denied)))
		}
	}
	return out
}

func eachKey(e config.Each) (string, string) {
	switch {
	case e.CSS != "":
		return "css", e.CSS
	case e.XPath != "":
		return "xpath", e.XPath
	}
	return "json", e.JSON
}

func pagesWord(n int64) string {
	if n == 1 {
		return "page"
	}
	return "pages"
}

// onePage is the report's warnings for gather try, which read one page:
// which items' url patterns do not match it, try says itself.
func (r *report) onePage() []string {
	r.mu.Lock()
	r.quiet.onePage = true
	r.mu.Unlock()
	return r.warnings()
}

// droppedFor reports whether item i's field j dropped records: the drops'
// line then says that it never matched, and better.
func (s *silences) droppedFor(i, j int) bool {
	return i < len(s.items) && j < len(s.items[i].dropped) && s.items[i].dropped[j] > 0
}
