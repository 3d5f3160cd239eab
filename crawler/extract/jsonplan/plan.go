// Package jsonplan reads the values of many gjson paths in one pass over a
// JSON document.
//
// gjson answers one path per call, each a scan of the document from its
// start: a page with a hundred records of five fields costs hundreds of
// scans. A Plan merges the paths of a set of items into one tree, so that
// Walk reads the document once, whatever the number of items and fields,
// and checks on the way that it is valid JSON (exactly as gjson.Valid
// judges it), replacing a second pass. The need is measured: see
// BenchmarkExtract in crawler/extract, which sets gather's extraction of a
// page beside what a plain colly program does with gjson.
//
// A plan changes how fast values are found, never which: a path outside
// the subset it walks is left to gjson by the caller (Planned says which),
// and a document the walk cannot answer for is handed back (ErrFallback).
// The differential tests and FuzzWalk, which compare every walk with what
// gjson finds path by path, are the package's contract.
//
// The walker reads the document through a byte view of its string (see
// scanner); that is the package's only use of unsafe.
package jsonplan

import (
	"strings"
	"sync"
	"testing"
)

// Spec is what one item reads from a document: its records, and the gjson
// paths of their fields.
type Spec struct {
	// Each is the path of the value whose elements become the records (the
	// values of an object, the value itself if it is neither an array nor
	// an object; with an all-query #(...)#, each match). "" makes one
	// record of the whole document.
	Each string
	// Items, with Each, is a path from each match of Each to the value
	// whose elements become the records instead; a field then reaches the
	// match of Each through a path that starts with "^.".
	Items string
	// Fields are the paths of the fields, from the record's element (from
	// the document when Each is ""). "" is a field not read from JSON; a
	// "^." path without Items is left to the caller.
	Fields []string
}

// Plan is the merged path tree of a set of specs. It is immutable once
// compiled and safe for concurrent use.
type Plan struct {
	root *jnode
	// planned[i][f] tells whether the plan reads field f of spec i; nil
	// when spec i was left out. from[i][f] says where the value is.
	planned [][]bool
	from    [][]fieldFrom
	// pageSlot[i] is where spec i's field slots start in the page frame
	// (specs without Each), -1 for the others; pageSlots is its size.
	pageSlots int
	pageSlot  []int
	// strict makes a walker bug panic instead of being returned as a
	// *BugError: it is set in test binaries (testing.Testing), so that a
	// bug fails the test that met it instead of being read around.
	strict bool
	// pool keeps Results, and the slices they grew, from page to page.
	pool sync.Pool
}

// fieldFrom is where a field's value is found: not by the plan, in its
// record's frame, or in the frame of the record's outer match ("^.").
type fieldFrom uint8

const (
	fromGJSON fieldFrom = iota
	fromRecord
	fromOuter
)

// maxFanout bounds the children of a node: they are tracked in a uint64.
const maxFanout = 64

// Compile merges the paths of specs into one plan. A spec whose Each or
// Items is outside the walked subset is left out, as is any field path
// outside it; Planned tells the caller what to read with gjson instead.
// Compile returns nil when no spec could be planned.
func Compile(specs []Spec) *Plan {
	p := &Plan{
		root:     &jnode{},
		planned:  make([][]bool, len(specs)),
		from:     make([][]fieldFrom, len(specs)),
		pageSlot: make([]int, len(specs)),
		strict:   testing.Testing(),
	}
	p.pool.New = func() any { return &Result{plan: p} }
	some := false
	for i, s := range specs {
		p.pageSlot[i] = -1
		ps, ok := parseSpec(s)
		if !ok {
			continue
		}
		if !p.add(i, ps) {
			return nil
		}
		some = true
	}
	if !some {
		return nil
	}
	return p
}

// Planned reports whether the plan reads spec item, and which of its
// fields: the others are for the caller to read with gjson, from the
// element and outer match that Result.Record returns. fields belongs to the
// plan; do not modify it.
func (p *Plan) Planned(item int) (fields []bool, ok bool) {
	return p.planned[item], p.planned[item] != nil
}

// parsedSpec is a spec split into steps; a nil field was not planned.
type parsedSpec struct {
	each, inner []pathStep
	fields      [][]pathStep
	up          []bool // the field is read from the outer match
}

// parseSpec splits the paths of s, or reports false when its Each or Items
// is outside the subset (at most one all-query in Each, none in Items).
// A field path with an all-query is not planned: gjson builds a new array
// for it.
func parseSpec(s Spec) (parsedSpec, bool) {
	var ps parsedSpec
	if s.Each != "" {
		var ok bool
		if ps.each, ok = parsePath(s.Each); !ok || allQueries(ps.each) > 1 {
			return ps, false
		}
		if s.Items != "" {
			if ps.inner, ok = parsePath(s.Items); !ok || allQueries(ps.inner) > 0 {
				return ps, false
			}
		}
	}
	ps.fields = make([][]pathStep, len(s.Fields))
	ps.up = make([]bool, len(s.Fields))
	for i, f := range s.Fields {
		path, up := strings.CutPrefix(f, "^.")
		if f == "" || up && ps.inner == nil {
			continue
		}
		if steps, ok := parsePath(path); ok && allQueries(steps) == 0 {
			ps.fields[i], ps.up[i] = steps, up
		}
	}
	return ps, true
}

// jnode is one place in the document that the plan visits.
type jnode struct {
	path    string // from the document's root, for the paths a BugError names
	kids    []jkid
	queries []*jquery
	caps    []int // slots of the current frame that take this value's span
	sinks   []*jsink
}

type jkid struct {
	key  string
	idx  int
	node *jnode
}

type jquery struct {
	q    pathQuery
	node *jnode
}

// jsink makes records of the value it is attached to: of each element of
// an array (each value of an object, the value itself if it is neither),
// or with perMatch of the value itself, once per match of an all-query.
type jsink struct {
	item     int // the spec
	perMatch bool
	elem     *jnode // plan over a record's element; caps are field slots
	// outer, with Items, is the plan over each outer match: its caps are
	// the "^." field slots and it holds the inner sink.
	outer *jnode
	slots int // frame size: the spec's field count
}

// insert adds the path to the tree under n and returns its end node. It
// reports false when a node would exceed maxFanout children.
func (n *jnode) insert(steps []pathStep) (*jnode, bool) {
	for _, st := range steps {
		var next *jnode
		if st.query != nil {
			for _, q := range n.queries {
				if q.q == *st.query {
					next = q.node
				}
			}
			if next == nil {
				if len(n.queries) >= maxFanout {
					return nil, false
				}
				next = &jnode{path: n.child(st)}
				n.queries = append(n.queries, &jquery{q: *st.query, node: next})
			}
		} else {
			for _, k := range n.kids {
				if k.key == st.key {
					next = k.node
				}
			}
			if next == nil {
				if len(n.kids) >= maxFanout {
					return nil, false
				}
				next = &jnode{path: n.child(st)}
				n.kids = append(n.kids, jkid{key: st.key, idx: st.idx, node: next})
			}
		}
		n = next
	}
	return n, true
}

func (n *jnode) child(st pathStep) string {
	if n.path == "" {
		return st.text
	}
	return n.path + "." + st.text
}

// add plans spec i; it reports false when the plan would grow a node past
// maxFanout children.
func (p *Plan) add(i int, ps parsedSpec) bool {
	planned := make([]bool, len(ps.fields))
	if ps.each == nil {
		base := p.pageSlots
		for f, steps := range ps.fields {
			if steps == nil {
				continue
			}
			n, ok := p.root.insert(steps)
			if !ok {
				return false
			}
			n.caps = append(n.caps, base+f)
			planned[f] = true
		}
		p.pageSlot[i] = base
		p.pageSlots += len(ps.fields)
		p.setPlanned(i, planned, ps.up)
		return true
	}
	at, ok := p.root.insert(ps.each)
	if !ok {
		return false
	}
	// Element paths read as gjson maps over elements: list.#.name.
	top := &jsink{item: i, perMatch: allQueries(ps.each) > 0, slots: len(ps.fields)}
	elemPath := at.path
	if !top.perMatch {
		elemPath += ".#"
	}
	elem := &jnode{path: elemPath}
	if ps.inner == nil {
		top.elem = elem
	} else {
		top.outer = &jnode{path: elemPath}
		for f, steps := range ps.fields {
			if steps == nil || !ps.up[f] {
				continue
			}
			n, ok := top.outer.insert(steps)
			if !ok {
				return false
			}
			n.caps = append(n.caps, f)
			planned[f] = true
		}
		n, ok := top.outer.insert(ps.inner)
		if !ok {
			return false
		}
		elem.path = n.path + ".#"
		n.sinks = append(n.sinks, &jsink{item: i, elem: elem, slots: len(ps.fields)})
	}
	for f, steps := range ps.fields {
		if steps == nil || ps.up[f] {
			continue
		}
		n, ok := elem.insert(steps)
		if !ok {
			return false
		}
		n.caps = append(n.caps, f)
		planned[f] = true
	}
	at.sinks = append(at.sinks, top)
	p.setPlanned(i, planned, ps.up)
	return true
}

func (p *Plan) setPlanned(i int, planned, up []bool) {
	from := make([]fieldFrom, len(planned))
	for f, ok := range planned {
		switch {
		case !ok:
		case up[f]:
			from[f] = fromOuter
		default:
			from[f] = fromRecord
		}
	}
	p.planned[i], p.from[i] = planned, from
}
