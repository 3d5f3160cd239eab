package extract

import (
	"strconv"
	"strings"
)

// A JSON plan merges the gjson paths of every JSON item of a page into one
// tree, so that the page's document is walked once, whatever the number of
// items and fields, instead of once per path plus once per each element
// and field. Paths outside the subset below are left to gjson, so a plan
// changes how fast values are found, never which values.
//
// The subset: plain keys and array indexes, and queries of the form
// #(key=="text"), #(key!="text") or with a number, first match or all (#).
// A field path may not hold an all-query (gjson builds a new array for
// it); an each path may hold one, and then each match is one element.

// pathStep is one component of a path.
type pathStep struct {
	key   string // a plain key; also an array index when idx >= 0
	idx   int
	query *pathQuery
}

// pathQuery is #(key==lit) or #(key!=lit), optionally followed by # (all).
type pathQuery struct {
	key string
	neg bool
	lit string  // the literal, unquoted
	num float64 // the literal read as a number, as gjson compares numbers
	all bool
}

const maxPlanFanout = 64 // children per node, tracked in a uint64

// parsePath splits a gjson path into steps, or reports false when the path
// uses anything outside the planned subset.
func parsePath(p string) ([]pathStep, bool) {
	var steps []pathStep
	for len(p) > 0 {
		var st pathStep
		if strings.HasPrefix(p, "#(") {
			q, rest, ok := parseQuery(p)
			if !ok {
				return nil, false
			}
			st, p = pathStep{query: q, idx: -1}, rest
		} else {
			end := strings.IndexByte(p, '.')
			if end < 0 {
				end = len(p)
			}
			key := p[:end]
			if !plainKey(key) {
				return nil, false
			}
			st = pathStep{key: key, idx: -1}
			if n, err := strconv.Atoi(key); err == nil && n >= 0 && key[0] != '+' {
				st.idx = n
			}
			p = p[end:]
		}
		steps = append(steps, st)
		if p == "" {
			break
		}
		if p[0] != '.' || len(p) == 1 {
			return nil, false
		}
		p = p[1:]
	}
	return steps, len(steps) > 0
}

// plainKey reports whether gjson reads k literally as one key: no
// wildcards, escapes, modifiers, pipes, queries or multipaths.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || strings.IndexByte(".*?#@|\\!=<>%()[]{}~,\"'`", c) >= 0 {
			return false
		}
	}
	return true
}

// parseQuery reads a #(key op lit) component, with an optional trailing #,
// from the start of p and returns what follows it.
func parseQuery(p string) (*pathQuery, string, bool) {
	inQuote := false
	end := -1
	for i := 2; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			return nil, "", false
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == '(' || c == '[' || c == ')'):
			if c != ')' {
				return nil, "", false
			}
			end = i
		}
		if end >= 0 {
			break
		}
	}
	if end < 0 {
		return nil, "", false
	}
	body, rest := p[2:end], p[end+1:]
	q := &pathQuery{}
	if strings.HasPrefix(rest, "#") {
		q.all, rest = true, rest[1:]
	}
	op := strings.IndexAny(body, "!=<>%")
	if op < 0 {
		return nil, "", false
	}
	q.key = strings.TrimSpace(body[:op])
	val := body[op:]
	switch {
	case strings.HasPrefix(val, "!="):
		q.neg, val = true, val[2:]
	case strings.HasPrefix(val, "=="):
		val = val[2:]
	case strings.HasPrefix(val, "=") && !strings.HasPrefix(val, "=~"):
		val = val[1:]
	default:
		return nil, "", false
	}
	val = strings.TrimSpace(val)
	if !plainKey(q.key) || val == "" || val[0] == '~' {
		return nil, "", false
	}
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
		q.lit = val[1 : len(val)-1]
		if strings.IndexByte(q.lit, '"') >= 0 {
			return nil, "", false
		}
	} else {
		// Unquoted: only a number is planned (gjson also takes bare words).
		if _, err := strconv.ParseFloat(val, 64); err != nil {
			return nil, "", false
		}
		q.lit = val
	}
	q.num, _ = strconv.ParseFloat(q.lit, 64)
	return q, rest, true
}

// allQueries counts the all-match queries (#(...)#) among steps.
func allQueries(steps []pathStep) int {
	n := 0
	for _, s := range steps {
		if s.query != nil && s.query.all {
			n++
		}
	}
	return n
}

// jnode is one place in the document that the plan visits.
type jnode struct {
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
	item     int // index into the plan's items
	perMatch bool
	elem     *jnode // plan over a record's element; caps are field slots
	// outer, with each.items, is the plan over each outer match: its caps
	// are the "^." field slots and it holds the inner sink.
	outer *jnode
	slots int // frame size: the item's field count
}

// insert adds the path to the tree under n and returns its end node. It
// reports false when a node would exceed maxPlanFanout children.
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
				if len(n.queries) >= maxPlanFanout {
					return nil, false
				}
				next = &jnode{}
				n.queries = append(n.queries, &jquery{q: *st.query, node: next})
			}
		} else {
			for _, k := range n.kids {
				if k.key == st.key {
					next = k.node
				}
			}
			if next == nil {
				if len(n.kids) >= maxPlanFanout {
					return nil, false
				}
				next = &jnode{}
				n.kids = append(n.kids, jkid{key: st.key, idx: st.idx, node: next})
			}
		}
		n = next
	}
	return n, true
}

// jsonPlan is the merged plan of a set of items over one JSON document.
type jsonPlan struct {
	root  *jnode
	items []*item
	// pageSlot[i] is where item i's page-level field slots start in the
	// page frame (items without each); pageSlots is the frame's size.
	pageSlot  []int
	pageSlots int
	// planned[i][f] tells whether field f of item i is read by the plan;
	// the others are evaluated with gjson on the record's element.
	planned [][]bool
}

// planItem describes how one JSON item fits a plan, or reports false when
// its each path is outside the subset (the item then runs on gjson alone).
func planItem(it *item) (each, inner []pathStep, fields [][]pathStep, ok bool) {
	if it.each.kind == eachJSON {
		if each, ok = parsePath(it.each.json); !ok || allQueries(each) > 1 {
			return nil, nil, nil, false
		}
		if it.each.inner != "" {
			if inner, ok = parsePath(it.each.inner); !ok || allQueries(inner) > 0 {
				return nil, nil, nil, false
			}
		}
	}
	fields = make([][]pathStep, len(it.fields))
	for i, f := range it.fields {
		if f.kind != srcJSON || (f.parent && it.each.inner == "") {
			continue
		}
		if steps, ok := parsePath(f.json); ok && allQueries(steps) == 0 {
			fields[i] = steps
		}
	}
	return each, inner, fields, true
}

// newJSONPlan builds the plan for items, all reading the same document.
// Items whose each path cannot be planned are left out; the caller runs
// them on gjson. It returns nil when no item could be planned.
func newJSONPlan(items []*item) *jsonPlan {
	p := &jsonPlan{root: &jnode{}}
	for _, it := range items {
		each, inner, fields, ok := planItem(it)
		if !ok {
			continue
		}
		if !p.add(it, each, inner, fields) {
			return nil
		}
	}
	if len(p.items) == 0 {
		return nil
	}
	return p
}

func (p *jsonPlan) add(it *item, each, inner []pathStep, fields [][]pathStep) bool {
	planned := make([]bool, len(it.fields))
	idx := len(p.items)
	if it.each.kind != eachJSON {
		base := p.pageSlots
		for i, steps := range fields {
			if steps == nil {
				continue
			}
			n, ok := p.root.insert(steps)
			if !ok {
				return false
			}
			n.caps = append(n.caps, base+i)
			planned[i] = true
		}
		p.pageSlot = append(p.pageSlot, base)
		p.pageSlots += len(it.fields)
	} else {
		sk := &jsink{item: idx, perMatch: allQueries(each) > 0, elem: &jnode{}, slots: len(it.fields)}
		for i, steps := range fields {
			if steps == nil || it.fields[i].parent {
				continue
			}
			n, ok := sk.elem.insert(steps)
			if !ok {
				return false
			}
			n.caps = append(n.caps, i)
			planned[i] = true
		}
		top := sk
		if inner != nil {
			outer := &jnode{}
			for i, steps := range fields {
				if steps == nil || !it.fields[i].parent {
					continue
				}
				n, ok := outer.insert(steps)
				if !ok {
					return false
				}
				n.caps = append(n.caps, i)
				planned[i] = true
			}
			n, ok := outer.insert(inner)
			if !ok {
				return false
			}
			n.sinks = append(n.sinks, sk)
			sk.perMatch = false
			top = &jsink{item: idx, perMatch: allQueries(each) > 0, outer: outer, slots: len(it.fields)}
		}
		n, ok := p.root.insert(each)
		if !ok {
			return false
		}
		n.sinks = append(n.sinks, top)
		p.pageSlot = append(p.pageSlot, -1)
	}
	p.items = append(p.items, it)
	p.planned = append(p.planned, planned)
	return true
}
