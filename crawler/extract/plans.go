package extract

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/gather-crawler/gather/crawler/extract/jsonplan"
)

// planKey names the plan for the items of one JSON source that are active
// on a page (their url pattern matches it).
type planKey struct {
	src    string
	active uint64
}

// sourcePlan is the JSON plan of a set of items reading one document.
type sourcePlan struct {
	*jsonplan.Plan
	items []*item // spec i of the plan is items[i]
	// logged holds the paths of the walker bugs already logged, so that a
	// bug met on every page of a crawl is one line in its log, not one per
	// page.
	logged sync.Map
}

// plans compiles a plan the first time a set of active items asks for one
// and keeps it: a config has few distinct sets.
type plans struct {
	m sync.Map // planKey → *sourcePlan (nil when nothing could be planned)
}

func (ps *plans) get(e *Extractor, src string, active uint64) *sourcePlan {
	k := planKey{src, active}
	if v, ok := ps.m.Load(k); ok {
		return v.(*sourcePlan)
	}
	sp := &sourcePlan{}
	var specs []jsonplan.Spec
	for i, it := range e.items {
		if active&(1<<i) != 0 && it.needJSON && jsonKey(it.jsonFrom) == src && (it.each.kind == eachNone || it.each.kind == eachJSON) {
			sp.items = append(sp.items, it)
			specs = append(specs, it.planSpec())
		}
	}
	if sp.Plan = jsonplan.Compile(specs); sp.Plan == nil {
		sp = nil
	}
	v, _ := ps.m.LoadOrStore(k, sp)
	return v.(*sourcePlan)
}

// planSpec is what the item reads from its JSON document, for a plan.
func (it *item) planSpec() jsonplan.Spec {
	s := jsonplan.Spec{Fields: make([]string, len(it.fields))}
	if it.each.kind == eachJSON {
		s.Each, s.Items = it.each.json, it.each.inner
	}
	for i, f := range it.fields {
		switch {
		case f.kind != srcJSON:
		case f.parent:
			s.Fields[i] = "^." + f.json
		default:
			s.Fields[i] = f.json
		}
	}
	return s
}

// pageWalk is a plan walked over one page's document.
type pageWalk struct {
	plan *sourcePlan
	res  *jsonplan.Result // nil when the walk gave up; the items then use gjson
}

// itemWalk is the part of a page's walk that holds one item's records.
type itemWalk struct {
	res     *jsonplan.Result
	spec    int    // the item's place in the plan
	planned []bool // the fields the plan read
}

// walked returns the walk that holds the records of it on this page. The
// walk is also the check that the page's JSON document is valid, so its
// error is the page's when it is not; when no walk answers for the item
// (ok false), it reads the page with gjson.
func (p *page) walked(it *item) (iw itemWalk, ok bool, err error) {
	if p.ex == nil || p.ex.noPlan || len(p.ex.items) > 64 {
		return iw, false, nil
	}
	src := jsonKey(it.jsonFrom)
	pw, seen := p.walks[src]
	if !seen {
		pw.plan = p.ex.plans.get(p.ex, src, p.active)
		if pw.plan != nil {
			doc := p.locateJSON(it.jsonFrom)
			if doc.err != nil {
				return iw, false, doc.err
			}
			// The body is never modified once it arrived, and records copy
			// what they keep (see arena): viewing it as a string is safe.
			res, err := pw.plan.Walk(unsafe.String(unsafe.SliceData(doc.raw), len(doc.raw)))
			switch {
			case err == nil:
				pw.res = res
				p.setJSONVerdict(it.jsonFrom, true)
			case errors.Is(err, jsonplan.ErrInvalid):
				return iw, false, p.setJSONVerdict(it.jsonFrom, false)
			default: // jsonplan.ErrFallback: the items read the page with gjson
				p.ex.logBug(pw.plan, p.url, err)
			}
		}
		if p.walks == nil {
			p.walks = map[string]pageWalk{}
		}
		p.walks[src] = pw
	}
	if pw.res == nil {
		return iw, false, nil
	}
	for i, pit := range pw.plan.items {
		if pit == it {
			planned, ok := pw.plan.Planned(i)
			return itemWalk{res: pw.res, spec: i, planned: planned}, ok, nil
		}
	}
	return iw, false, nil
}

// logBug logs err when it is a bug of the JSON walker (not a document the
// walk hands back to gjson), once per plan and path. The page that met it
// is read with gjson, so the crawl loses nothing but speed.
func (e *Extractor) logBug(sp *sourcePlan, pageURL string, err error) {
	var bug *jsonplan.BugError
	if !errors.As(err, &bug) {
		return
	}
	if _, dup := sp.logged.LoadOrStore(bug.Path, true); dup {
		return
	}
	e.log.Error("bug in the JSON walker: pages meeting it are read with gjson, more slowly",
		"path", bug.Path, "url", pageURL, "panic", fmt.Sprint(bug.Value), "stack", string(bug.Stack))
}

// release hands the page's walks back to their plans once its records hold
// copies of everything they read.
func (p *page) release() {
	for _, pw := range p.walks {
		if pw.res != nil {
			pw.res.Release()
		}
	}
	p.walks = nil
}
