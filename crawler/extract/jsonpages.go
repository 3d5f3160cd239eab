package extract

import (
	"sync"
	"unsafe"
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
		if active&(1<<i) != 0 && it.needJSON && it.jsonKey() == src && (it.each.kind == eachNone || it.each.kind == eachJSON) {
			items = append(items, it)
		}
	}
	p := newJSONPlan(items)
	v, _ := ps.m.LoadOrStore(k, p)
	return v.(*jsonPlan)
}

func (it *item) jsonKey() string {
	if it.jsonFrom == nil {
		return ""
	}
	return it.jsonFrom.sel
}

var walkPool = sync.Pool{New: func() any { return new(walk) }}

// pageWalk is a plan walked over one page's document.
type pageWalk struct {
	plan *jsonPlan
	w    *walk // nil when the walk gave up; the items then use gjson
}

// walked returns the walk that holds it's records on this page, with its
// index among the plan's items, or nil when it is not planned.
func (p *page) walked(it *item, doc []byte) (*walk, *jsonPlan, int) {
	if p.ex == nil || p.ex.noPlan || len(p.ex.items) > 64 {
		return nil, nil, -1
	}
	src := it.jsonKey()
	pw, ok := p.walks[src]
	if !ok {
		pw.plan = p.ex.plans.get(p.ex, src, p.active)
		if pw.plan != nil {
			w := walkPool.Get().(*walk)
			w.reset(pw.plan, unsafe.String(unsafe.SliceData(doc), len(doc)))
			if w.run(pw.plan) {
				pw.w = w
			} else {
				walkPool.Put(w)
			}
		}
		if p.walks == nil {
			p.walks = map[string]pageWalk{}
		}
		p.walks[src] = pw
	}
	if pw.w == nil {
		return nil, nil, -1
	}
	for i, pit := range pw.plan.items {
		if pit == it {
			return pw.w, pw.plan, i
		}
	}
	return nil, nil, -1
}

// release hands the page's walks back to the pool once its records hold
// copies of everything they read.
func (p *page) release() {
	for _, pw := range p.walks {
		if pw.w != nil {
			pw.w.doc = ""
			walkPool.Put(pw.w)
		}
	}
	p.walks = nil
}
