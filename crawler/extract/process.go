package extract

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/gather-crawler/gather/config"
)

// A field's process list runs between the source (and its regex) and the
// field's type: every text the source yields goes through the steps in
// order, as a list, so that split, join and first can change how many
// values there are. It runs inside extraction, so gather try, crawls and
// re-extraction apply it alike.

// step is one compiled value processor.
type step struct {
	name string
	args []string
	// dateOnly: the date layout has no time of day, and the value is
	// written as 2006-01-02 rather than a full RFC 3339 time.
	dateOnly bool
}

func compileSteps(raw []any) ([]step, error) {
	if len(raw) == 0 {
		return nil, nil // no process list: the fast paths apply
	}
	specs, errs := config.ParseSteps(raw)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	out := make([]step, len(specs))
	for i, s := range specs {
		out[i] = step{name: s.Name, args: s.Args}
		if s.Name == "date" {
			ref := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
			out[i].dateOnly = ref.Format(s.Args[0]) == ref.Truncate(24*time.Hour).Format(s.Args[0])
		}
	}
	return out, nil
}

// rawText is a match's text through the field's regex, trimmed; false when
// there is none or the regex does not match it.
func (f *field) rawText(r rawValue) (string, bool) {
	if !r.isText {
		if !r.json.Exists() || r.json.Type == gjson.Null {
			return "", false
		}
		r.text = jsonText(r.json)
	}
	return f.matchText(r.text)
}

// jsonTexts are the texts a JSON match gives the steps: each element of an
// array with all (else the first), or the value itself.
func (f *field) jsonTexts(r gjson.Result) []string {
	if !r.Exists() || r.Type == gjson.Null {
		return nil
	}
	if r.IsArray() && (f.all || f.typ != config.TypeJSON) {
		var out []string
		r.ForEach(func(_, e gjson.Result) bool {
			if t, ok := f.rawText(rawValue{json: e}); ok {
				out = append(out, t)
			}
			return f.all
		})
		return out
	}
	if t, ok := f.rawText(rawValue{json: r}); ok {
		return []string{t}
	}
	return nil
}

// processed runs the steps over the texts and gives the field's value:
// a JSON array when the field is a list (all, or split without a later
// join or first), else the one value; nil when nothing is left.
func (f *field) processed(texts []string, w *itemWarnings) any {
	w.stepDefault = len(texts) == 0
	vals := texts
	for _, st := range f.steps {
		vals = st.apply(vals, f, w)
	}
	kept := vals[:0]
	for _, v := range vals {
		if v != "" {
			kept = append(kept, v)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	if !f.list {
		return f.fromText(kept[0], w)
	}
	out := make([]any, 0, len(kept))
	size := 0
	for _, v := range kept {
		if x := f.fromText(v, w); x != nil {
			out = append(out, x)
			size += valueSize(x)
		}
	}
	if len(out) == 0 || !w.fits(f, size) {
		return nil
	}
	return jsonArray(out, f.typ)
}

func (st step) apply(vals []string, f *field, w *itemWarnings) []string {
	switch st.name {
	case "split":
		sep := ","
		if len(st.args) == 1 {
			sep = st.args[0]
		}
		var out []string
		for _, v := range vals {
			for _, part := range strings.Split(v, sep) {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
		}
		return out
	case "join":
		sep := ", "
		if len(st.args) == 1 {
			sep = st.args[0]
		}
		var parts []string
		for _, v := range vals {
			if v != "" {
				parts = append(parts, v)
			}
		}
		if len(parts) == 0 {
			return nil
		}
		return []string{strings.Join(parts, sep)}
	case "first":
		for _, v := range vals {
			if v != "" {
				return []string{v}
			}
		}
		return nil
	case "default":
		for _, v := range vals {
			if v != "" {
				return vals
			}
		}
		return []string{st.args[0]}
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if v, ok := st.one(v, f, w); ok {
			out = append(out, v)
		}
	}
	return out
}

// one applies a step that maps each value on its own; false drops the
// value (it did not parse, with a warning).
func (st step) one(v string, f *field, w *itemWarnings) (string, bool) {
	switch st.name {
	case "trim":
		if len(st.args) == 1 {
			return strings.Trim(v, st.args[0]), true
		}
		return strings.TrimSpace(v), true
	case "replace":
		return strings.ReplaceAll(v, st.args[0], st.args[1]), true
	case "lower":
		return strings.ToLower(v), true
	case "upper":
		return strings.ToUpper(v), true
	case "number":
		dec := byte('.')
		if len(st.args) == 1 {
			dec = st.args[0][0]
		}
		if n, ok := parseNumber(v, dec); ok {
			return n, true
		}
		w.badValue(f, quoteShort(v), fmt.Sprintf("%s: %s has no number", f.name, quoteShort(v)))
		return "", false
	case "date":
		t, err := time.Parse(st.args[0], strings.TrimSpace(v))
		if err != nil {
			w.badValue(f, quoteShort(v), fmt.Sprintf("%s: %s is not a date like %q", f.name, quoteShort(v), st.args[0]))
			return "", false
		}
		if st.dateOnly {
			return t.Format(time.DateOnly), true
		}
		return t.Format(time.RFC3339), true
	}
	return v, true
}

// parseNumber finds the first number in s and writes it plainly: "£1,234.50"
// is 1234.50, "In stock (22 available)" is 22, "-€ 3" is -3; with dec ','
// "1.234,5" is 1234.5. Separators between digit groups (the other mark, a
// space, a thin space, an apostrophe, an underscore) are dropped; a minus
// sign (or U+2212) before the number or before a currency sign in front of
// it makes it negative.
func parseNumber(s string, dec byte) (string, bool) {
	start := strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' })
	if start < 0 {
		return "", false
	}
	neg := minusBefore(s[:start])
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	seenDec := false
	rest := s[start:]
	for i := 0; i < len(rest); {
		r, size := utf8.DecodeRuneInString(rest[i:])
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == rune(dec) && !seenDec && nextIsDigit(rest[i+size:]):
			b.WriteByte('.')
			seenDec = true
		case (r == ',' || r == '.' || r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\'' || r == '_' || r == '’') &&
			r != rune(dec) && !seenDec && nextIsDigit(rest[i+size:]):
			// a thousands separator
		default:
			return b.String(), true
		}
		i += size
	}
	return b.String(), true
}

func nextIsDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// minusBefore reports whether s, the text before a number, ends in a minus
// sign, perhaps followed by a currency sign or code and spaces ("-£ 5",
// "−USD 3"). A hyphen that follows a letter or digit ("ID-5") is not one.
func minusBefore(s string) bool {
	letters := 0
	for s != "" {
		r, size := utf8.DecodeLastRuneInString(s)
		switch {
		case r == '-' || r == '−':
			prev, _ := utf8.DecodeLastRuneInString(s[:len(s)-size])
			return s[:len(s)-size] == "" || !(unicode.IsLetter(prev) || unicode.IsDigit(prev))
		case unicode.IsSpace(r) || unicode.Is(unicode.Sc, r):
		case unicode.IsLetter(r) && letters < 3:
			letters++
		default:
			return false
		}
		s = s[:len(s)-size]
	}
	return false
}
