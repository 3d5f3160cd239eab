package extract

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/andybalholm/cascadia"
	"github.com/antchfx/xpath"
	"github.com/tidwall/gjson"
	"golang.org/x/net/html"
)

// scope is what a field is evaluated against: the each match (an HTML
// element for css and xpath fields alike, a JSON value for json fields),
// else the whole page.
type scope struct {
	node   *html.Node    // the each element (css/xpath each), else nil
	elem   *gjson.Result // the each element (json each), else nil
	parent *gjson.Result // the outer match when each.items is used
	doc    string        // the page's JSON document, when the item needs it
	// pre holds, per field, the value read in one pass over a JSON each
	// element (set where pre[i].Exists()), or by a JSON plan for the
	// fields it planned (all set where planned[i]).
	pre     []gjson.Result
	planned []bool
	// consts holds the values of fields that depend on the page alone (url
	// sources), computed once per page instead of once per record.
	consts []any
	isCon  []bool
}

// itemWarnings counts problems per kind so that a page with 200 bad rows
// yields one line, not 200.
type itemWarnings struct {
	item string
	// page is the page being read, for conversions that depend on it
	// (type url resolves against its base URL).
	page   *page
	counts map[string]int
	order  []string
	// stats has, per field, whether it yielded a value and the values
	// that did not convert to its type.
	stats []FieldStats
	// each counts what the item's each selected: a run says when that
	// was nothing on every page.
	each int
	// stepDefault is set when the value just made came from a default
	// step, the source having matched nothing: the field did not match.
	stepDefault bool
}

// badValue records a value that did not convert to f's type: counted for
// the run's report, with the first one as its example, and warned on the
// page.
func (w *itemWarnings) badValue(f *field, shown, msg string) {
	st := &w.stats[f.idx]
	if st.Failed == 0 {
		st.Example = shown
	}
	st.Failed++
	w.add(msg)
}

// fits reports whether a value of n bytes is within max_value_size; a
// larger one is dropped, before it is copied, with a page warning (the field
// did match: the run's report must not say it never does).
func (w *itemWarnings) fits(f *field, n int) bool {
	b := w.page.b
	if !b.tooLarge(n) {
		return true
	}
	w.stats[f.idx].Matched = true
	w.add(b.tooLargeMsg(f))
	return false
}

func (w *itemWarnings) add(msg string) {
	if w.counts == nil {
		w.counts = map[string]int{}
	}
	if w.counts[msg] == 0 {
		w.order = append(w.order, msg)
	}
	w.counts[msg]++
}

func (w *itemWarnings) list() []string {
	var out []string
	for _, m := range w.order {
		if n := w.counts[m]; n > 1 {
			out = append(out, fmt.Sprintf("%s: %s (%d times)", w.item, m, n))
		} else {
			out = append(out, fmt.Sprintf("%s: %s", w.item, m))
		}
	}
	return out
}

// extract makes the item's records from one page, with the page's
// warnings about them; w also holds how many elements each selected.
func (it *item) extract(p *page, stats []FieldStats) ([]Record, []string, *itemWarnings, error) {
	w := &itemWarnings{item: it.name, page: p, stats: stats}
	if it.expect != nil && !p.expected(it) {
		return nil, nil, w, &PageError{Reason: "unexpected page: no match for " + it.expectS}
	}
	var sc scope
	if it.each.kind != eachNone {
		sc.consts, sc.isCon = make([]any, len(it.fields)), make([]bool, len(it.fields))
		for i, f := range it.fields {
			if f.kind == srcURL {
				sc.consts[i], sc.isCon[i] = f.value(p, sc, w), true
			}
		}
	}
	if it.needJSON {
		if it.modifiers {
			if err := p.modifierDepthOK(it.jsonFrom); err != nil {
				return nil, nil, w, err
			}
		}
		if it.each.kind == eachNone || it.each.kind == eachJSON {
			iw, ok, err := p.walked(it)
			if err != nil {
				return nil, nil, w, err
			}
			if ok {
				recs := it.fromWalk(p, sc, iw, w)
				return recs, w.list(), w, nil
			}
		}
		doc, err := p.jsonDocument(it.jsonFrom)
		if err != nil {
			return nil, nil, w, err
		}
		// gjson copies every result it takes from a []byte; over a string it
		// returns substrings. The body is never modified once it arrived, so
		// viewing it as a string is safe, and record copies what it keeps.
		sc.doc = unsafe.String(unsafe.SliceData(doc), len(doc))
	}
	if len(it.simpleJSON) > 0 {
		sc.pre = make([]gjson.Result, len(it.fields))
	}
	var recs []Record
	emit := func(s scope, index int) {
		w.each++
		if rec, ok := it.record(p, s, w); ok {
			rec.Index = index
			recs = append(recs, rec)
		}
	}
	switch it.each.kind {
	case eachNone:
		emit(sc, 0)
	case eachCSS:
		i := 0
		eachMatch(p.b, p.root, it.each.css, func(n *html.Node) {
			i++
			s := sc
			s.node = n
			emit(s, i)
		})
	case eachXPath:
		for i, n := range it.each.xpath.selectAll(p.b, p.root) {
			s := sc
			s.node = n
			emit(s, i+1)
		}
	case eachJSON:
		idx := 0
		gjson.Get(sc.doc, it.each.json).ForEach(func(_, outer gjson.Result) bool {
			if it.each.inner == "" {
				idx++
				s := sc
				s.elem = &outer
				it.prefetch(&s)
				emit(s, idx)
				return true
			}
			outer.Get(it.each.inner).ForEach(func(_, inner gjson.Result) bool {
				idx++
				s := sc
				in, out := inner, outer
				s.elem, s.parent = &in, &out
				it.prefetch(&s)
				emit(s, idx)
				return true
			})
			return true
		})
	}
	return recs, w.list(), w, nil
}

// record evaluates every field in one scope. It reports false, with a
// warning, when a required or key field has no value.
func (it *item) record(p *page, s scope, w *itemWarnings) (Record, bool) {
	shared := 0 // fields sharing a selector, or none to remember
	if it.sharedCSS {
		shared = len(it.fields)
	}
	p.matches.reset(shared)
	p.b.check()
	vals := make([]any, len(it.fields))
	for i, f := range it.fields {
		p.b.tick()
		var v any
		copied := false // v holds nothing of the page body
		w.stepDefault = false
		switch {
		case s.isCon != nil && s.isCon[i]:
			v, copied = s.consts[i], true
		case s.pre != nil && (s.planned != nil && s.planned[i] || s.pre[i].Exists()):
			// The common case, a JSON string kept as text, without the
			// detour through conversions that box it twice.
			if r := s.pre[i]; f.plainText && r.Type == gjson.String && r.Str != "" {
				if w.fits(f, len(r.Str)) {
					v, copied = p.arena.clone(r.Str), true
				}
			} else {
				v = f.fromResult(r, w)
			}
		case f.domText:
			if str, ok := f.firstText(p, s); ok && w.fits(f, len(str)) {
				v, copied = p.arena.clone(str), true
			}
		default:
			v = f.value(p, s, w)
		}
		if str, ok := v.(string); ok && !copied && !w.fits(f, len(str)) {
			v = nil
		}
		if v != nil && !w.stepDefault {
			w.stats[i].Matched = true
		}
		w.stepDefault = false
		if v == nil {
			v, copied = f.defaultValue(), true
		}
		if v == nil && (f.required || it.isKey(i)) {
			w.stats[i].Dropped++
			if f.required {
				w.add(fmt.Sprintf("record without required %s dropped", f.name))
			} else {
				w.add(fmt.Sprintf("record without key field %s dropped", f.name))
			}
			return Record{}, false
		}
		if str, ok := v.(string); ok {
			if !copied {
				v = p.arena.clone(str) // do not pin the whole page in memory
			}
			p.b.spend(len(str))
		}
		vals[i] = v
	}
	return Record{Values: vals}, true
}

func (it *item) isKey(i int) bool {
	for _, k := range it.keyIdx {
		if k == i {
			return true
		}
	}
	return false
}

// fromWalk makes the item's records from a walk of its JSON plan: planned
// fields from what the walk found, the others as before, against the
// record's element (and outer match).
func (it *item) fromWalk(p *page, sc scope, iw itemWalk, w *itemWarnings) []Record {
	sc.planned = iw.planned
	sc.pre = make([]gjson.Result, len(it.fields))
	if it.each.kind == eachNone {
		sc.doc, _ = iw.res.Record(iw.spec, 0, sc.pre) // the element is the document
		if rec, ok := it.record(p, sc, w); ok {
			return []Record{rec}
		}
		return nil
	}
	var elem, parent gjson.Result
	w.each += iw.res.Len(iw.spec)
	recs := make([]Record, 0, iw.res.Len(iw.spec))
	for n := range iw.res.Len(iw.spec) {
		s := sc
		el, outer := iw.res.Record(iw.spec, n, s.pre)
		elem = gjson.Parse(el)
		s.elem = &elem
		if outer != "" {
			parent = gjson.Parse(outer)
			s.parent = &parent
		}
		if rec, ok := it.record(p, s, w); ok {
			rec.Index = n + 1
			recs = append(recs, rec)
		}
	}
	if len(recs) == 0 {
		return nil // as the gjson path leaves it
	}
	return recs
}

// prefetch reads the element's simple-keyed fields in one pass over its
// keys: a record with five fields then costs one scan, not five.
func (it *item) prefetch(s *scope) {
	if s.pre == nil {
		return
	}
	for _, i := range it.simpleJSON {
		s.pre[i] = gjson.Result{}
	}
	left := len(it.simpleJSON)
	s.elem.ForEach(func(k, v gjson.Result) bool {
		for _, i := range it.simpleJSON {
			if !s.pre[i].Exists() && it.fields[i].json == k.Str {
				s.pre[i] = v
				left--
			}
		}
		return left > 0
	})
}

// fromResult turns a JSON match into the field's value (nil when there is
// none): arrays give their first element (or all, with all: true) unless
// the type is json.
func (f *field) fromResult(r gjson.Result, w *itemWarnings) any {
	if f.steps != nil {
		return f.processed(f.jsonTexts(r), w)
	}
	if !r.Exists() || r.Type == gjson.Null {
		return nil
	}
	if r.IsArray() && (f.all || f.typ != "json") {
		if !f.all {
			// The first element, converted (nothing when it does not).
			r = r.Get("0")
		} else {
			b := w.page.b
			var out []any
			size := 0
			r.ForEach(func(_, e gjson.Result) bool {
				b.tick()
				if v := f.convert(rawValue{json: e}, w); v != nil {
					out = append(out, v)
					size += valueSize(v)
				}
				return !b.tooLarge(size)
			})
			if len(out) == 0 || !w.fits(f, size) {
				return nil
			}
			return jsonArray(out, f.typ)
		}
	}
	return f.convert(rawValue{json: r}, w)
}

// value evaluates one field: raw matches, then regex, then type, then all
// or first; nil when that leaves nothing (record applies the default).
func (f *field) value(p *page, s scope, w *itemWarnings) any {
	var out []any
	var texts []string // with a process list: the matches' texts
	size := 0
	// add converts one match and reports whether to read more: with all,
	// until the array would exceed max_value_size.
	add := func(raw rawValue) bool {
		p.b.tick()
		if f.steps != nil {
			if t, ok := f.rawText(raw); ok {
				texts = append(texts, t)
				size += len(t)
			}
			return f.all && !p.b.tooLarge(size)
		}
		if v := f.convert(raw, w); v != nil {
			out = append(out, v)
			size += valueSize(v)
		}
		return f.all && !p.b.tooLarge(size)
	}
	switch f.kind {
	case srcURL:
		if m := f.urlRe.FindStringSubmatch(p.url); m != nil {
			add(rawValue{text: firstGroup(m), isText: true})
		}
	case srcCSS:
		base := p.root
		if s.node != nil {
			base = s.node
		}
		if f.all {
			for _, n := range cascadia.QueryAll(base, f.css) {
				if !add(f.nodeValue(p, n).stable()) {
					break
				}
			}
		} else if n := cascadia.Query(base, f.css); n != nil {
			add(f.nodeValue(p, n))
		}
	case srcXPath:
		base := p.root
		if s.node != nil {
			base = s.node
		}
		f.xpathValues(p, base, add)
	case srcSelf:
		add(f.nodeValue(p, s.node))
	case srcJSON:
		var r gjson.Result
		switch {
		case f.parent && s.parent != nil:
			r = s.parent.Get(f.json)
		case s.elem != nil:
			r = s.elem.Get(f.json)
		default:
			r = gjson.Get(s.doc, f.json)
		}
		return f.fromResult(r, w)
	}
	if f.steps != nil {
		return f.processed(texts, w)
	}
	if len(out) == 0 {
		return nil
	}
	if f.all {
		if !w.fits(f, size) {
			return nil
		}
		return jsonArray(out, f.typ)
	}
	return out[0]
}

// firstText is value for a text field read from the DOM, the common case
// of a table cell, without boxing the string on the way: the first
// match's text or attribute, through the regex, trimmed. It reports false
// when that leaves nothing. The string may be in the page's text buffer.
func (f *field) firstText(p *page, s scope) (string, bool) {
	base := p.root
	if s.node != nil {
		base = s.node
	}
	var raw rawValue
	switch f.kind {
	case srcCSS:
		n := p.matches.query(base, f)
		if n == nil {
			return "", false
		}
		raw = f.nodeValue(p, n)
	case srcSelf:
		raw = f.nodeValue(p, s.node)
	case srcXPath:
		f.xpathValues(p, base, func(r rawValue) bool {
			raw = r
			return false
		})
	}
	if !raw.isText {
		return "", false
	}
	t, ok := f.matchText(raw.text)
	return t, ok && t != ""
}

// nodeValue is the attribute or text of n. Text is in the page's text
// buffer, good until the next nodeValue: a value kept longer must be
// made stable.
func (f *field) nodeValue(p *page, n *html.Node) rawValue {
	if f.attr != "" {
		for _, a := range n.Attr {
			if a.Key == f.attr {
				return rawValue{text: a.Val, isText: true}
			}
		}
		return rawValue{}
	}
	return rawValue{text: p.text.nodeText(n), isText: true}
}

// xpathValues hands add the expression's results, while add asks for more.
func (f *field) xpathValues(p *page, base *html.Node, add func(rawValue) bool) {
	f.xpath.evaluate(p.b, base, func(res any) {
		switch v := res.(type) {
		case string:
			add(rawValue{text: v, isText: true})
		case float64:
			add(rawValue{text: strconv.FormatFloat(v, 'f', -1, 64), isText: true})
		case bool:
			add(rawValue{text: strconv.FormatBool(v), isText: true})
		case *xpath.NodeIterator:
			for v.MoveNext() {
				nav := htmlNav(v.Current())
				if nav == nil {
					continue
				}
				more := false
				if nav.NodeType() == xpath.AttributeNode {
					more = add(rawValue{text: nav.Value(), isText: true})
				} else if f.all {
					more = add(f.nodeValue(p, nav.Current()).stable())
				} else {
					more = add(f.nodeValue(p, nav.Current()))
				}
				if !more {
					return
				}
			}
		}
	})
}

func firstGroup(m []string) string {
	if len(m) > 1 {
		return m[1]
	}
	return m[0]
}

// duplicateKeys counts the records whose key an earlier record of the
// page already had, and describes the first such key. Items keyed by
// _index (the default with each) cannot have any.
func (it *item) duplicateKeys(recs []Record) (int, string) {
	if it.keyHasIndex || len(recs) < 2 || len(it.keyIdx) == 0 {
		return 0, ""
	}
	seen := make(map[string]struct{}, len(recs))
	var b strings.Builder
	dups, example := 0, ""
	for _, r := range recs {
		b.Reset()
		for _, k := range it.keyIdx {
			fmt.Fprintf(&b, "%T\x00%v\x00", r.Values[k], r.Values[k])
		}
		key := b.String()
		if _, ok := seen[key]; !ok {
			seen[key] = struct{}{}
			continue
		}
		if dups++; example == "" {
			parts := make([]string, len(it.keyIdx))
			for i, k := range it.keyIdx {
				parts[i] = fmt.Sprintf("%s=%s", it.fields[k].name, quoteShort(fmt.Sprint(r.Values[k])))
			}
			example = strings.Join(parts, ", ")
		}
	}
	return dups, example
}
