package extract

import (
	"errors"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/tidwall/gjson"
)

// span is where a value lies in the document; s < 0 means no value.
type span struct{ s, e int }

// walkRecord is one element a sink made a record of.
type walkRecord struct {
	frame      int // offset of its field slots in walk.spans
	start, end int // the element
	outer      int // index into walk.outers, or -1
}

// walkOuter is one outer match of an each with items.
type walkOuter struct {
	frame      int
	start, end int
}

// walk is one pass of a plan over a document. Its slices are reused from
// page to page (see walkPool), so a page costs no allocations here.
type walk struct {
	scanner
	spans  []span
	recs   [][]walkRecord // per plan item
	outers []walkOuter
	cur    int // frame of the plan region being walked
	outer  int
	conds  []condValue
}

// condValue caches, for one array element, the value a query key has.
type condValue struct {
	key string
	res gjson.Result
}

func (w *walk) reset(p *jsonPlan, doc []byte) {
	w.b, w.s = doc, unsafe.String(unsafe.SliceData(doc), len(doc))
	w.spans = w.spans[:0]
	w.outers = w.outers[:0]
	if cap(w.recs) < len(p.items) {
		w.recs = make([][]walkRecord, len(p.items))
	}
	w.recs = w.recs[:len(p.items)]
	for i := range w.recs {
		w.recs[i] = w.recs[i][:0]
	}
	w.cur, w.outer = w.frame(p.pageSlots), -1
}

// release returns the walk to walkPool, holding nothing of the page.
func (w *walk) release() {
	w.b, w.s = nil, ""
	clear(w.conds[:cap(w.conds)])
	w.conds = w.conds[:0]
	walkPool.Put(w)
}

// walkResult is how a walk ended.
type walkResult int

const (
	walkDone    walkResult = iota
	walkInvalid            // the document is not valid JSON
	walkGaveUp             // the walk cannot answer for this document
)

// walkBugs counts walks that panicked for another reason than invalid
// JSON or a repeated key: a bug, which tests check never happens. The page
// is then read with gjson, so the crawl still gets the right records.
var walkBugs atomic.Int64

// run walks the document, checking as it goes that it is valid JSON.
func (w *walk) run(p *jsonPlan) (res walkResult) {
	defer func() {
		if r := recover(); r != nil {
			switch r {
			case errInvalidJSON:
				res = walkInvalid
			case errDuplicateKey:
				res = walkGaveUp
			default:
				walkBugs.Add(1)
				res = walkGaveUp
			}
		}
	}()
	// gjson reads paths into a bare string or number in ways of its own;
	// such documents (never a page's data) are left to it.
	i := w.ws(0)
	if c := w.at(i); c != '{' && c != '[' {
		return walkGaveUp
	}
	if w.ws(w.value(i, p.root)) != len(w.s) {
		return walkInvalid
	}
	return walkDone
}

func (w *walk) frame(n int) int {
	off := len(w.spans)
	for i := 0; i < n; i++ {
		w.spans = append(w.spans, span{-1, -1})
	}
	return off
}

// value walks the value at doc[i] with plan node n and returns its end.
func (w *walk) value(i int, n *jnode) int {
	end := -1
	if len(n.kids) > 0 || len(n.queries) > 0 {
		switch w.at(i) {
		case '{':
			end = w.object(i, n)
		case '[':
			end = w.array(i, n)
		}
	}
	for _, sk := range n.sinks {
		end = w.sink(i, sk)
	}
	if end < 0 {
		end = w.skip(i)
	}
	for _, slot := range n.caps {
		w.spans[w.cur+slot] = span{i, end}
	}
	return end
}

// object walks the members of an object, following the first member of
// each key the node names, as gjson's Get does for the last key of a path.
// For a key in the middle of a path, gjson goes on to a later member of
// the same name when the rest of the path is not under the first; the
// walk does not follow that, and gives the page back to gjson instead.
func (w *walk) object(i int, n *jnode) int {
	var found uint64
	i = w.ws(i + 1)
	if w.at(i) == '}' {
		return i + 1
	}
	for {
		key, v := w.key(i)
		k := -1
		for j := range n.kids {
			if n.kids[j].key == key {
				k = j
				break
			}
		}
		var end int
		switch {
		case k < 0:
			end = w.skip(v)
		case found&(1<<k) == 0:
			found |= 1 << k
			end = w.value(v, n.kids[k].node)
		case len(n.kids[k].node.kids) > 0 || len(n.kids[k].node.queries) > 0:
			panic(errDuplicateKey)
		default:
			end = w.skip(v)
		}
		var more bool
		if i, more = w.next(end, '}'); !more {
			return i
		}
	}
}

// errDuplicateKey stops a walk that met a repeated key in the middle of a
// planned path (see object).
var errDuplicateKey = errors.New("duplicate key on a planned path")

// array walks the elements of an array: those an index names, and those a
// query matches (a first-match query only until it has matched once).
func (w *walk) array(i int, n *jnode) int {
	var done uint64
	// Elements walked below run arrays of their own; each keeps its
	// cached query keys above base.
	base := len(w.conds)
	defer func() { w.conds = w.conds[:base] }()
	i = w.ws(i + 1)
	if w.at(i) == ']' {
		return i + 1
	}
	for idx := 0; ; idx++ {
		end := -1
		for _, k := range n.kids {
			if k.idx == idx {
				end = w.value(i, k.node)
			}
		}
		w.conds = w.conds[:base]
		for qi, q := range n.queries {
			if !q.q.all && done&(1<<qi) != 0 {
				continue
			}
			v, e := w.cond(i, q.q.key, base)
			if e > 0 {
				end = e
			}
			if matches(&q.q, v) {
				if !q.q.all {
					done |= 1 << qi
				}
				end = w.value(i, q.node)
			}
		}
		if end < 0 {
			end = w.skip(i)
		}
		var more bool
		if i, more = w.next(end, ']'); !more {
			return i
		}
	}
}

// cond returns the value of key in the object at doc[i], reading only as
// far as that key; when the key is absent it also returns the object's end.
func (w *walk) cond(i int, key string, base int) (gjson.Result, int) {
	for _, c := range w.conds[base:] {
		if c.key == key {
			return c.res, -1
		}
	}
	var res gjson.Result
	end := -1
	if w.at(i) == '{' {
		j := w.ws(i + 1)
		if w.at(j) == '}' {
			end = j + 1
		}
		for end < 0 {
			k, v := w.key(j)
			e := w.skip(v)
			if k == key {
				res = gjson.Parse(w.s[v:e])
				break
			}
			var more bool
			if j, more = w.next(e, '}'); !more {
				end = j
			}
		}
	}
	w.conds = append(w.conds, condValue{key, res})
	return res, end
}

// matches compares as gjson's queryMatches does for == and !=.
func matches(q *pathQuery, v gjson.Result) bool {
	if !v.Exists() {
		return false
	}
	var eq bool
	switch v.Type {
	case gjson.String:
		eq = v.Str == q.lit
	case gjson.Number:
		eq = v.Num == q.num
	case gjson.True:
		eq = q.lit == "true"
	case gjson.False:
		eq = q.lit == "false"
	default:
		return false
	}
	return eq != q.neg
}

// sink makes records of the value at doc[i] and returns its end.
func (w *walk) sink(i int, sk *jsink) int {
	if sk.perMatch {
		return w.element(i, sk)
	}
	c := w.at(i)
	if c != '[' && c != '{' {
		return w.element(i, sk)
	}
	closing := byte(']')
	if c == '{' {
		closing = '}'
	}
	i = w.ws(i + 1)
	if w.at(i) == closing {
		return i + 1
	}
	for more := true; more; {
		v := i
		if closing == '}' {
			v = w.member(i) // the elements of an object are its values
		}
		i, more = w.next(w.element(v, sk), closing)
	}
	return i
}

// element walks one element of a sink: an outer match (each with items),
// whose inner sink makes the records, or a record's element.
func (w *walk) element(i int, sk *jsink) int {
	cur, outer := w.cur, w.outer
	var end int
	if sk.outer != nil {
		o := len(w.outers)
		w.outers = append(w.outers, walkOuter{frame: w.frame(sk.slots), start: i})
		w.cur, w.outer = w.outers[o].frame, o
		end = w.value(i, sk.outer)
		w.outers[o].end = end
	} else {
		fr := w.frame(sk.slots)
		w.cur = fr
		end = w.value(i, sk.elem)
		w.recs[sk.item] = append(w.recs[sk.item], walkRecord{frame: fr, start: i, end: end, outer: outer})
	}
	w.cur, w.outer = cur, outer
	return end
}

// result returns the value a span holds, as gjson would have found it.
func (w *walk) result(sp span) gjson.Result {
	if sp.s < 0 {
		return gjson.Result{}
	}
	raw := w.s[sp.s:sp.e]
	if raw[0] == '"' && strings.IndexByte(raw, '\\') < 0 {
		return gjson.Result{Type: gjson.String, Raw: raw, Str: raw[1 : len(raw)-1]}
	}
	return gjson.Parse(raw)
}
