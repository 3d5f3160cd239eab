package extract

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/andybalholm/cascadia"

	"github.com/gather-crawler/gather/config"
)

type sourceKind int

const (
	srcCSS sourceKind = iota
	srcXPath
	srcJSON
	srcURL
	// srcSelf reads the each element itself (a field without a source).
	srcSelf
)

type field struct {
	name     string
	idx      int // position in the item's fields
	kind     sourceKind
	src      string // the selector, path or pattern as written, for messages
	css      cascadia.SelectorGroup
	xpath    *xpathExpr
	json     string
	parent   bool // json path starts with "^.": read from the outer each match
	urlRe    *regexp.Regexp
	attr     string
	regex    *regexp.Regexp
	typ      string
	all      bool
	required bool
	def      any
	// plainText: a JSON string becomes the value as it is (type text, no
	// regex, not all).
	plainText bool
	// domText: a text field read from the DOM, first match only.
	domText bool
	// steps are the field's process list; list is set when its value is
	// a JSON array (all, or split without a later join or first).
	steps []step
	list  bool
	// sameCSS is the index of the item's first field with the same CSS
	// selector (its own index if none comes before): a record matches a
	// selector once, however many fields read the element.
	sameCSS int
}

// jsonSource locates the page's JSON document inside HTML. When the
// selector is a plain tag#id (e.g. script#__NEXT_DATA__) the element is
// found with the tokenizer, without building a tree.
type jsonSource struct {
	sel   string
	css   cascadia.SelectorGroup
	tag   string // "" matches any tag
	id    string // set when the fast path applies
	quick bool
}

var simpleIDSel = regexp.MustCompile(`^([a-z][a-z0-9]*)?(?:#([A-Za-z_][-A-Za-z0-9_]*)|\[id=["']?([-A-Za-z0-9_]+)["']?\])$`)

func compileJSONSource(sel string) (*jsonSource, error) {
	g, err := cascadia.ParseGroup(sel)
	if err != nil {
		return nil, err
	}
	js := &jsonSource{sel: sel, css: g}
	if m := simpleIDSel.FindStringSubmatch(strings.TrimSpace(sel)); m != nil {
		js.tag, js.id, js.quick = m[1], m[2]+m[3], true
	}
	return js, nil
}

func compileItem(name string, spec config.Item) (*item, error) {
	it := &item{name: name, expectS: spec.Expect}
	var err error
	if spec.URL != "" {
		if it.urlRe, err = regexp.Compile(spec.URL); err != nil {
			return nil, fmt.Errorf("url: %w", err)
		}
	}
	if spec.Expect != "" {
		if it.expect, err = cascadia.ParseGroup(spec.Expect); err != nil {
			return nil, fmt.Errorf("expect: %w", err)
		}
		it.needsDOM = true
	}
	if spec.JSONFrom != "" {
		if it.jsonFrom, err = compileJSONSource(spec.JSONFrom); err != nil {
			return nil, fmt.Errorf("json_from: %w", err)
		}
		if !it.jsonFrom.quick {
			it.needsDOM = true
		}
	}
	switch {
	case spec.Each.CSS != "":
		it.each = eachRule{kind: eachCSS, src: spec.Each.CSS}
		if it.each.css, err = cascadia.ParseGroup(spec.Each.CSS); err != nil {
			return nil, fmt.Errorf("each.css: %w", err)
		}
		it.needsDOM = true
	case spec.Each.XPath != "":
		it.each = eachRule{kind: eachXPath, src: spec.Each.XPath}
		if it.each.xpath, err = compileXPath(spec.Each.XPath); err != nil {
			return nil, fmt.Errorf("each.xpath: %w", err)
		}
		it.needsDOM = true
	case spec.Each.JSON != "":
		it.each = eachRule{kind: eachJSON, src: spec.Each.JSON, json: spec.Each.JSON, inner: spec.Each.Items}
		it.needJSON = true
	}
	for _, p := range []struct{ key, path string }{{"each.json", spec.Each.JSON}, {"each.items", spec.Each.Items}} {
		if err := config.JSONModifierProblem(p.path); err != nil {
			return nil, fmt.Errorf("%s: %w", p.key, err)
		}
		it.modifiers = it.modifiers || config.HasJSONModifier(p.path)
	}
	for _, fname := range spec.FieldOrder {
		f, err := compileField(fname, spec.Fields[fname])
		if err != nil {
			return nil, fmt.Errorf("fields.%s: %w", fname, err)
		}
		f.idx = len(it.fields)
		switch f.kind {
		case srcCSS, srcXPath:
			it.needsDOM = true
		case srcSelf:
			if it.each.kind != eachCSS && it.each.kind != eachXPath {
				return nil, fmt.Errorf("fields.%s: no source, and no each element to read", fname)
			}
		case srcJSON:
			it.needJSON = true
			it.modifiers = it.modifiers || config.HasJSONModifier(f.json)
		}
		it.fields = append(it.fields, f)
	}
	if it.each.kind == eachJSON {
		for i, f := range it.fields {
			if f.kind == srcJSON && !f.parent && !strings.ContainsAny(f.json, ".#@*?|\\(),[]{}!=<>%") {
				it.simpleJSON = append(it.simpleJSON, i)
			}
		}
	}
	for i, f := range it.fields {
		f.sameCSS = i
		if f.kind != srcCSS || f.all {
			continue
		}
		for j, g := range it.fields[:i] {
			if g.kind == srcCSS && !g.all && g.src == f.src {
				f.sameCSS, it.sharedCSS = j, true
				break
			}
		}
	}
	for _, k := range spec.Key {
		if k == config.KeyIndex {
			it.keyHasIndex = true
		}
		for i, f := range it.fields {
			if f.name == k {
				it.keyIdx = append(it.keyIdx, i)
			}
		}
	}
	return it, nil
}

func compileField(name string, spec config.Field) (*field, error) {
	f := &field{name: name, attr: spec.Attr, typ: spec.Type, all: spec.All, required: spec.Required, def: spec.Default}
	if f.typ == "" {
		f.typ = config.TypeText
	}
	var err error
	switch {
	case spec.CSS != "":
		f.kind, f.src = srcCSS, spec.CSS
		f.css, err = cascadia.ParseGroup(spec.CSS)
	case spec.XPath != "":
		f.kind, f.src = srcXPath, spec.XPath
		f.xpath, err = compileXPath(spec.XPath)
	case spec.JSON != "":
		f.kind, f.src = srcJSON, spec.JSON
		f.json = spec.JSON
		// Validation refuses these; a Config built in code may not have
		// been validated.
		err = config.JSONModifierProblem(spec.JSON)
		if rest, ok := strings.CutPrefix(spec.JSON, "^."); ok {
			f.json, f.parent = rest, true
		}
	case spec.URL != "":
		f.kind, f.src = srcURL, spec.URL
		f.urlRe, err = regexp.Compile(spec.URL)
	default:
		f.kind, f.src = srcSelf, "the each element"
	}
	if err != nil {
		return nil, err
	}
	if spec.Regex != "" {
		if f.regex, err = regexp.Compile(spec.Regex); err != nil {
			return nil, fmt.Errorf("regex: %w", err)
		}
	}
	if f.steps, err = compileSteps(spec.Process); err != nil {
		return nil, err
	}
	f.list = spec.IsList()
	f.plainText = f.kind == srcJSON && f.typ == config.TypeText && f.regex == nil && !f.all && f.steps == nil
	f.domText = (f.kind == srcCSS || f.kind == srcXPath || f.kind == srcSelf) && f.typ == config.TypeText && !f.all && f.steps == nil
	return f, nil
}
