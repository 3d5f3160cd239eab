package jsonplan

import (
	"strings"

	"github.com/tidwall/gjson"
)

// Len returns how many records spec item made: one for a spec without
// Each, none for a spec the plan left out.
func (r *Result) Len(item int) int {
	if r.plan.pageSlot[item] >= 0 {
		return 1
	}
	return len(r.recs[item])
}

// Record returns record n (0 ≤ n < Len) of spec item: the JSON text of the
// element it was made of (the document itself for a spec without Each)
// and, for a spec with Items, of the match of Each it came from (else "").
// It sets fields[f], one slot per field of the spec, to the value of field
// f as gjson would have found it: the zero Result when the field has no
// value there, or when the plan does not read it (see Plan.Planned).
func (r *Result) Record(item, n int, fields []gjson.Result) (elem, outer string) {
	frame, outerFrame := r.plan.pageSlot[item], -1
	if frame >= 0 {
		elem = r.s
	} else {
		rec := &r.recs[item][n]
		frame = rec.frame
		elem = r.s[rec.start:rec.end]
		if rec.outer >= 0 {
			o := &r.outers[rec.outer]
			outerFrame = o.frame
			outer = r.s[o.start:o.end]
		}
	}
	for f, from := range r.plan.from[item] {
		switch from {
		case fromRecord:
			fields[f] = r.result(r.spans[frame+f])
		case fromOuter:
			fields[f] = r.result(r.spans[outerFrame+f])
		default:
			fields[f] = gjson.Result{}
		}
	}
	return elem, outer
}

// result returns the value a span holds, as gjson would have found it.
func (r *Result) result(sp span) gjson.Result {
	if sp.s < 0 {
		return gjson.Result{}
	}
	raw := r.s[sp.s:sp.e]
	if raw[0] == '"' && strings.IndexByte(raw, '\\') < 0 {
		return gjson.Result{Type: gjson.String, Raw: raw, Str: raw[1 : len(raw)-1]}
	}
	return gjson.Parse(raw)
}
