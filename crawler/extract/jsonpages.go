package extract

import (
	"sync"
)

// planKey names the plan for the items of one JSON source that are active
// on a page (their url pattern matches it).
type planKey struct {
	src    string
	active uint64
}

// plans compiles a plan the first time a set of active items asks for one
// and keeps it: a config has few distinct sets.
type plans struct {
	m sync.Map // planKey → *jsonPlan (nil when nothing could be planned)
}

func (ps *plans) get(e *Extractor, src string, active uint64) *jsonPlan {
	k := planKey{src, active}
	if v, ok := ps.m.Load(k); ok {
		return v.(*jsonPlan)
	}
	var items []*item
	for i, it := range e.items {
		if active&(1<<i) != 0 && it.needJSON && jsonKey(it.jsonFrom) == src && (it.each.kind == eachNone || it.each.kind == eachJSON) {
			items = append(items, it)
		}
	}
	p := newJSONPlan(items)
	v, _ := ps.m.LoadOrStore(k, p)
	return v.(*jsonPlan)
}

var walkPool = sync.Pool{New: func() any { return new(walk) }}

// pageWalk is a plan walked over one page's document.
type pageWalk struct {
	plan *jsonPlan
	w    *walk // nil when the walk gave up; the items then use gjson
}

// walked returns the walk that holds the records of it on this page, with
// its index among the plan's items. The walk is also the check that the page's
// JSON document is valid, so its error is the page's when it is not; when
// no walk answers for it (nil, nil), the item reads the page with gjson.
func (p *page) walked(it *item) (*walk, *jsonPlan, int, error) {
	if p.ex == nil || p.ex.noPlan || len(p.ex.items) > 64 {
		return nil, nil, -1, nil
	}
	src := jsonKey(it.jsonFrom)
	pw, ok := p.walks[src]
	if !ok {
		pw.plan = p.ex.plans.get(p.ex, src, p.active)
		if pw.plan != nil {
			doc := p.locateJSON(it.jsonFrom)
			if doc.err != nil {
				return nil, nil, -1, doc.err
			}
			w := walkPool.Get().(*walk)
			w.reset(pw.plan, doc.raw)
			switch w.run(pw.plan) {
			case walkDone:
				pw.w = w
				p.setJSONVerdict(it.jsonFrom, true)
			case walkInvalid:
				w.release()
				return nil, nil, -1, p.setJSONVerdict(it.jsonFrom, false)
			default:
				w.release()
			}
		}
		if p.walks == nil {
			p.walks = map[string]pageWalk{}
		}
		p.walks[src] = pw
	}
	if pw.w == nil {
		return nil, nil, -1, nil
	}
	for i, pit := range pw.plan.items {
		if pit == it {
			return pw.w, pw.plan, i, nil
		}
	}
	return nil, nil, -1, nil
}

// release hands the page's walks back to the pool once its records hold
// copies of everything they read.
func (p *page) release() {
	for _, pw := range p.walks {
		if pw.w != nil {
			pw.w.release()
		}
	}
	p.walks = nil
}
