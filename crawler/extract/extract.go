// Package extract turns item specs into compiled extractors and evaluates
// them on a page parsed once. Everything here is a pure function of the page
// URL and body, so it is tested without a network.
package extract

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"testing"

	"github.com/andybalholm/cascadia"

	"github.com/gather-crawler/gather/config"
)

// Extractor holds every item's compiled rules. It is safe for concurrent use.
type Extractor struct {
	items  []*item
	follow []followRule
	// needDOM is set when some rule can only be answered by an HTML tree;
	// otherwise pages are scanned with the tokenizer for their JSON alone.
	needDOM bool
	plans   plans
	// noPlan turns the JSON plans off, so tests can check that they find
	// exactly what gjson finds path by path.
	noPlan bool
	// log reports what the extractor worked around but someone must fix:
	// a bug of the JSON walker.
	log *slog.Logger
	// accept picks the responses that are extracted.
	accept accept
	// lim bounds each page's extraction (see bounds.go).
	lim limits
	// strict makes a panic of extraction crash instead of failing the page:
	// it is set in test binaries (testing.Testing), so that a bug fails the
	// test that met it instead of being read around.
	strict bool
}

// Result is what one page yielded.
type Result struct {
	// Items has one entry per item of the config, in config order; items
	// whose url pattern does not match the page have no records.
	Items []ItemRecords
	// Warnings are problems that did not fail the page, such as records
	// dropped for lacking a required field.
	Warnings []string
	// Links are absolute URLs matched by the follow rules (only when asked).
	Links []string
	// Hub says, per link of Links, that a follow rule with hub: true
	// selected it (nil when none did).
	Hub []bool
	// Follow says, per follow rule in config order, how it fared on the
	// page (only when links were asked for).
	Follow []FollowStats
}

// ItemRecords are the records one item took from a page.
type ItemRecords struct {
	Name    string
	Records []Record
	// Active is set when the item applied to the page (its url pattern
	// matched); Fields then says, per field in config order, how it fared.
	Active bool
	Fields []FieldStats
	// DuplicateKeys counts records that shared their key with an earlier
	// record of the page: the database keeps only the last of them.
	DuplicateKeys int
	// EachMatched counts what the item's each selected on the page (0
	// for an item without each).
	EachMatched int
}

// FieldStats is how one field fared on one page.
type FieldStats struct {
	// Matched is set when the field yielded a value (before any default)
	// for at least one record.
	Matched bool
	// Failed counts values that did not convert to the field's type;
	// Example is the first of them.
	Failed  int
	Example string
	// Dropped counts the records dropped because this field, required or
	// part of the key, had no value.
	Dropped int
}

// Record is one row: its field values in the item's field order, and for
// items with `each` the 1-based position of its element on the page.
type Record struct {
	Values []any
	Index  int
}

// PageError says why a page cannot be used; the page is recorded as failed
// with this reason and nothing it contained is stored.
type PageError struct{ Reason string }

func (e *PageError) Error() string { return e.Reason }

type item struct {
	name     string
	urlRe    *regexp.Regexp
	expect   cascadia.SelectorGroup
	expectS  string
	jsonFrom *jsonSource
	each     eachRule
	fields   []*field
	keyIdx   []int // field indexes that are part of the key
	// keyHasIndex: the key includes _index, so records of a page never
	// share it.
	keyHasIndex bool
	// simpleJSON are the fields read from a JSON each element by a plain
	// key (no dots, queries or modifiers), fetched in one pass.
	simpleJSON []int
	needsDOM   bool
	needJSON   bool
	// modifiers is set when a JSON path of the item applies a gjson
	// modifier: its documents are checked for depth (maxModifierDepth).
	modifiers bool
	// sharedCSS is set when fields share a selector (see field.sameCSS).
	sharedCSS bool
	// expectIdx is the index of the first item with the same expect
	// selector: a page is checked once for it, not once per item.
	expectIdx int
}

type eachKind int

const (
	eachNone eachKind = iota
	eachCSS
	eachXPath
	eachJSON
)

type eachRule struct {
	kind  eachKind
	src   string
	css   cascadia.SelectorGroup
	xpath *xpathExpr
	json  string
	// inner is an optional path, relative to each JSON match, to an array
	// whose elements become the records; fields reach the outer match
	// through paths starting with "^.".
	inner string
}

type followRule struct {
	hub   bool
	css   cascadia.SelectorGroup
	match *regexp.Regexp
	deny  []*regexp.Regexp
}

// New compiles the items and follow rules of cfg. cfg must be validated;
// errors here mean a rule that validation let through. log (nil: discard)
// gets the errors that do not fail a page but are bugs to fix.
func New(cfg *config.Config, log *slog.Logger) (*Extractor, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Extractor{log: log, lim: newLimits(cfg.Crawl), strict: testing.Testing()}
	for _, name := range cfg.ItemOrder {
		it, err := compileItem(name, cfg.Items[name])
		if err != nil {
			return nil, fmt.Errorf("items.%s: %w", name, err)
		}
		it.expectIdx = len(e.items)
		for j, other := range e.items {
			if it.expect != nil && other.expectS == it.expectS {
				it.expectIdx = j
				break
			}
		}
		e.items = append(e.items, it)
		if it.needsDOM {
			e.needDOM = true
		}
	}
	e.accept = newAccept(cfg, e.items)
	if cfg.Crawl.MaxDepth > 1 {
		for i, f := range cfg.Crawl.Follow {
			sel, err := cascadia.ParseGroup(f.CSS)
			if err != nil {
				return nil, fmt.Errorf("crawl.follow[%d].css: %w", i, err)
			}
			r := followRule{css: sel, hub: f.Hub}
			if f.Match != "" {
				if r.match, err = regexp.Compile(f.Match); err != nil {
					return nil, fmt.Errorf("crawl.follow[%d].match: %w", i, err)
				}
			}
			for j, d := range f.Deny {
				re, err := regexp.Compile(d)
				if err != nil {
					return nil, fmt.Errorf("crawl.follow[%d].deny[%d]: %w", i, j, err)
				}
				r.deny = append(r.deny, re)
			}
			e.follow = append(e.follow, r)
		}
	}
	return e, nil
}

// Extract is ExtractContext for a page extracted outside a run: it is
// bounded by crawl.extract_timeout alone.
func (e *Extractor) Extract(pageURL string, body []byte, contentType string, wantLinks bool) (*Result, error) {
	return e.ExtractContext(context.Background(), pageURL, body, contentType, wantLinks)
}

// ExtractContext evaluates every item on one page. wantLinks asks for the
// follow rules' links too. A *PageError means the page must fail: it is not
// what the items expect (no expected element, no JSON document), or it broke
// a bound of extraction (crawl.extract_timeout, what a page may yield; see
// bounds.go). When ctx is done the extraction stops and returns
// context.Cause(ctx): the page was not judged.
func (e *Extractor) ExtractContext(ctx context.Context, pageURL string, body []byte, contentType string, wantLinks bool) (res *Result, err error) {
	b := newBudget(ctx, e.lim)
	defer b.stop()
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		res = nil
		if a, ok := v.(abort); ok {
			err = a.err
			return
		}
		if e.strict {
			panic(v)
		}
		// A bug, met on this page: the page fails, the crawl goes on.
		e.log.Error("bug in extraction: the page fails", "url", pageURL, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		err = &PageError{Reason: fmt.Sprintf("extraction failed on a bug in gather (%v); please report it", v)}
	}()
	b.check()
	body, charsetWarning := decodeBody(body, contentType)
	p := newPage(pageURL, body, contentType)
	p.ex, p.b = e, b
	defer p.release()
	active := make([]bool, len(e.items))
	for i, it := range e.items {
		active[i] = it.urlRe == nil || it.urlRe.MatchString(pageURL)
		if active[i] && i < 64 {
			p.active |= 1 << i
		}
	}
	if e.needDOM || (wantLinks && len(e.follow) > 0) {
		if err := p.parseDOM(); err != nil {
			return nil, &PageError{Reason: fmt.Sprintf("unparsable HTML: %v", err)}
		}
	}
	res = &Result{Items: make([]ItemRecords, len(e.items))}
	if charsetWarning != "" {
		res.Warnings = append(res.Warnings, charsetWarning)
	}
	for i, it := range e.items {
		res.Items[i].Name = it.name
		if !active[i] {
			continue
		}
		b.check()
		stats := make([]FieldStats, len(it.fields))
		recs, warns, iw, err := it.extract(p, stats)
		if err != nil {
			return nil, err
		}
		res.Items[i].Records, res.Items[i].Active, res.Items[i].Fields = recs, true, stats
		if it.each.kind != eachNone {
			res.Items[i].EachMatched = iw.each
		}
		res.Warnings = append(res.Warnings, warns...)
		if dups, example := it.duplicateKeys(recs); dups > 0 {
			res.Items[i].DuplicateKeys = dups
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %d records share their key with another record of this page (%s); only the last of each is stored",
				it.name, dups, example))
		}
	}
	if wantLinks {
		b.check()
		res.Links, res.Hub, res.Follow = e.links(p)
	}
	return res, nil
}

// NeedsDOM reports whether pages are parsed into an HTML tree; when false
// only the JSON document is located, with the tokenizer.
func (e *Extractor) NeedsDOM() bool { return e.needDOM }

// FollowStats is how one follow rule fared on one page: the links (elements
// with an http(s) href) its css selected, those its match let through, and
// those deny then left. Unmatched and Denied are the first link match
// refused and the first link deny refused.
type FollowStats struct {
	Seen, Matched, Kept int
	Unmatched, Denied   string
}
