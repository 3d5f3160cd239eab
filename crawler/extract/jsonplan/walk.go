package jsonplan

import (
	"errors"
	"fmt"
	"runtime/debug"
	"unsafe"

	"github.com/tidwall/gjson"
)

var (
	// ErrInvalid is the walk's verdict that the document is not valid JSON,
	// exactly where gjson.Valid would say so.
	ErrInvalid = errors.New("invalid JSON")
	// ErrFallback says the walk cannot answer for this document, which is
	// then for the caller to read with gjson: it repeats a key in the
	// middle of a planned path (gjson may then follow the later member), or
	// it is not an object or an array (gjson reads paths into a bare string
	// or number in ways of its own).
	ErrFallback = errors.New("document left to gjson")
)

// BugError is a panic of the walker that the document does not explain: a
// bug in this package. Walk returns it instead of crashing the crawl, so
// that the page can still be read with gjson (errors.Is(err, ErrFallback)
// holds); the caller should report it. In test binaries Walk panics with
// it instead, so that the test that met the bug fails.
type BugError struct {
	// Path is the planned path being walked when the walker panicked, in
	// gjson's syntax (list.#.name: the name of each element of list);
	// "@this" is the document itself.
	Path  string
	Value any    // what the walker panicked with
	Stack []byte // where
}

// Error names the path and what the walker panicked with; the stack is
// for whoever reports the bug.
func (e *BugError) Error() string {
	return fmt.Sprintf("jsonplan: walker bug at %s: %v", e.Path, e.Value)
}

// Unwrap makes a bug read as ErrFallback: the page is read with gjson.
func (e *BugError) Unwrap() error { return ErrFallback }

// span is where a value lies in the document; s < 0 means no value.
type span struct{ s, e int }

// record is one element a sink made a record of.
type record struct {
	frame      int // offset of its field slots in Result.spans
	start, end int // the element
	outer      int // index into Result.outers, or -1
}

// outerMatch is one match of Each, for a spec with Items.
type outerMatch struct {
	frame      int
	start, end int
}

// Result is one walk of a plan over a document: the records of each spec
// and the spans of their planned fields. Its slices are reused from walk to
// walk (see Release), so that a page costs no allocations here.
type Result struct {
	scanner
	plan   *Plan
	spans  []span
	recs   [][]record // per spec
	outers []outerMatch
	cur    int    // frame of the plan region being walked
	outer  int    // the outer match being walked, or -1
	node   *jnode // the node being walked, for a BugError's path
	conds  []condValue
}

// condValue caches, for one array element, the value a query key has.
type condValue struct {
	key string
	res gjson.Result
}

// Walk reads doc once with the plan. It returns ErrInvalid when doc is not
// valid JSON, and ErrFallback (possibly as a *BugError) when the caller
// must read doc with gjson instead. The Result points into doc, which must
// not change until it is released.
func (p *Plan) Walk(doc string) (*Result, error) {
	r := p.pool.Get().(*Result)
	r.reset(doc)
	if err := r.run(); err != nil {
		r.Release()
		return nil, err
	}
	return r, nil
}

// Release hands r back to its plan for another walk. Values read from r
// stay valid (they point into the document); r itself must not be used.
func (r *Result) Release() {
	r.b, r.s = nil, ""
	clear(r.conds[:cap(r.conds)])
	r.conds = r.conds[:0]
	r.node = nil
	r.plan.pool.Put(r)
}

func (r *Result) reset(doc string) {
	r.s = doc
	// A read-only view, so that strings are scanned eight bytes at a time.
	r.b = unsafe.Slice(unsafe.StringData(doc), len(doc))
	r.spans = r.spans[:0]
	r.outers = r.outers[:0]
	n := len(r.plan.planned)
	if cap(r.recs) < n {
		r.recs = make([][]record, n)
	}
	r.recs = r.recs[:n]
	for i := range r.recs {
		r.recs[i] = r.recs[i][:0]
	}
	r.cur, r.outer = r.frame(r.plan.pageSlots), -1
	r.node = nil
}

// run walks the document, checking as it goes that it is valid JSON. The
// scanner and the walk stop by panicking with ErrInvalid or ErrFallback;
// any other panic is a bug.
func (r *Result) run() (err error) {
	defer func() {
		switch v := recover(); v {
		case nil:
		case ErrInvalid, ErrFallback:
			err = v.(error)
		default:
			err = r.bug(v)
		}
	}()
	i := r.ws(0)
	if c := r.at(i); c != '{' && c != '[' {
		return ErrFallback
	}
	if r.ws(r.value(i, r.plan.root)) != len(r.s) {
		return ErrInvalid
	}
	return nil
}

// bug makes a BugError of the panic v, or panics with it in a test binary.
func (r *Result) bug(v any) error {
	path := "@this"
	if r.node != nil && r.node.path != "" {
		path = r.node.path
	}
	b := &BugError{Path: path, Value: v, Stack: debug.Stack()}
	if r.plan.strict {
		panic(b)
	}
	return b
}

func (r *Result) frame(n int) int {
	off := len(r.spans)
	for i := 0; i < n; i++ {
		r.spans = append(r.spans, span{-1, -1})
	}
	return off
}

// value walks the value at doc[i] with plan node n and returns its end.
func (r *Result) value(i int, n *jnode) int {
	up := r.node
	r.node = n
	end := -1
	if len(n.kids) > 0 || len(n.queries) > 0 {
		switch r.at(i) {
		case '{':
			end = r.object(i, n)
		case '[':
			end = r.array(i, n)
		}
	}
	for _, sk := range n.sinks {
		end = r.sink(i, sk)
	}
	if end < 0 {
		end = r.skip(i)
	}
	for _, slot := range n.caps {
		r.spans[r.cur+slot] = span{i, end}
	}
	r.node = up
	return end
}

// object walks the members of an object, following the first member of
// each key the node names, as gjson's Get does for the last key of a path.
// For a key in the middle of a path, gjson goes on to a later member of
// the same name when the rest of the path is not under the first; the
// walk does not follow that, and gives the document back to gjson instead.
func (r *Result) object(i int, n *jnode) int {
	var found uint64
	i = r.ws(i + 1)
	if r.at(i) == '}' {
		return i + 1
	}
	for {
		key, v := r.key(i)
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
			end = r.skip(v)
		case found&(1<<k) == 0:
			found |= 1 << k
			end = r.value(v, n.kids[k].node)
		case len(n.kids[k].node.kids) > 0 || len(n.kids[k].node.queries) > 0:
			panic(ErrFallback) // a repeated key in the middle of a path
		default:
			end = r.skip(v)
		}
		var more bool
		if i, more = r.next(end, '}'); !more {
			return i
		}
	}
}

// array walks the elements of an array: those an index names, and those a
// query matches (a first-match query only until it has matched once).
func (r *Result) array(i int, n *jnode) int {
	var done uint64
	// Elements walked below run arrays of their own; each keeps its
	// cached query keys above base.
	base := len(r.conds)
	defer func() { r.conds = r.conds[:base] }()
	i = r.ws(i + 1)
	if r.at(i) == ']' {
		return i + 1
	}
	for idx := 0; ; idx++ {
		end := -1
		for _, k := range n.kids {
			if k.idx == idx {
				end = r.value(i, k.node)
			}
		}
		r.conds = r.conds[:base]
		for qi, q := range n.queries {
			if !q.q.all && done&(1<<qi) != 0 {
				continue
			}
			v, e := r.cond(i, q.q.key, base)
			if e > 0 {
				end = e
			}
			if matches(&q.q, v) {
				if !q.q.all {
					done |= 1 << qi
				}
				end = r.value(i, q.node)
			}
		}
		if end < 0 {
			end = r.skip(i)
		}
		var more bool
		if i, more = r.next(end, ']'); !more {
			return i
		}
	}
}

// cond returns the value of key in the object at doc[i], reading only as
// far as that key; when the key is absent it also returns the object's end.
func (r *Result) cond(i int, key string, base int) (gjson.Result, int) {
	for _, c := range r.conds[base:] {
		if c.key == key {
			return c.res, -1
		}
	}
	var res gjson.Result
	end := -1
	if r.at(i) == '{' {
		j := r.ws(i + 1)
		if r.at(j) == '}' {
			end = j + 1
		}
		for end < 0 {
			k, v := r.key(j)
			e := r.skip(v)
			if k == key {
				res = gjson.Parse(r.s[v:e])
				break
			}
			var more bool
			if j, more = r.next(e, '}'); !more {
				end = j
			}
		}
	}
	r.conds = append(r.conds, condValue{key, res})
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
func (r *Result) sink(i int, sk *jsink) int {
	if sk.perMatch {
		return r.element(i, sk)
	}
	c := r.at(i)
	if c != '[' && c != '{' {
		return r.element(i, sk)
	}
	closing := byte(']')
	if c == '{' {
		closing = '}'
	}
	i = r.ws(i + 1)
	if r.at(i) == closing {
		return i + 1
	}
	for more := true; more; {
		v := i
		if closing == '}' {
			v = r.member(i) // the elements of an object are its values
		}
		i, more = r.next(r.element(v, sk), closing)
	}
	return i
}

// element walks one element of a sink: an outer match (Each with Items),
// whose inner sink makes the records, or a record's element.
func (r *Result) element(i int, sk *jsink) int {
	cur, outer := r.cur, r.outer
	var end int
	if sk.outer != nil {
		o := len(r.outers)
		r.outers = append(r.outers, outerMatch{frame: r.frame(sk.slots), start: i})
		r.cur, r.outer = r.outers[o].frame, o
		end = r.value(i, sk.outer)
		r.outers[o].end = end
	} else {
		fr := r.frame(sk.slots)
		r.cur = fr
		end = r.value(i, sk.elem)
		r.recs[sk.item] = append(r.recs[sk.item], record{frame: fr, start: i, end: end, outer: outer})
	}
	r.cur, r.outer = cur, outer
	return end
}
