package extract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler/extract/jsonplan"
)

// rawValue is one match before conversion: text from HTML or a URL, or a
// JSON value.
type rawValue struct {
	text   string
	isText bool
	json   gjson.Result
}

// stable returns r with its text copied out of the page's text buffer,
// for values kept while the next ones are read.
func (r rawValue) stable() rawValue {
	r.text = strings.Clone(r.text)
	return r
}

// convert applies the regex modifier and the field's type. It returns nil
// when there is no value, with a warning when a value did not convert.
func (f *field) convert(r rawValue, w *itemWarnings) any {
	if !r.isText && !r.json.Exists() {
		return nil
	}
	if !r.isText && f.regex == nil {
		return f.fromJSON(r.json, w)
	}
	s := r.text
	if !r.isText {
		s = jsonText(r.json)
	}
	t, ok := f.matchText(s)
	if !ok {
		return nil
	}
	return f.fromText(t, w)
}

// matchText is s through the field's regex (its first group, else the
// whole match), trimmed; false when the regex does not match.
func (f *field) matchText(s string) (string, bool) {
	if f.regex != nil {
		m := f.regex.FindStringSubmatch(s)
		if m == nil {
			return "", false
		}
		s = firstGroup(m)
	}
	return strings.TrimSpace(s), true
}

// digitSeparators are dropped from numbers: 1,000 and 1_000 are 1000.
var digitSeparators = strings.NewReplacer(",", "", "_", "", " ", "")

func (f *field) fromText(s string, w *itemWarnings) any {
	if s == "" && f.typ != config.TypeURL {
		return nil
	}
	switch f.typ {
	case config.TypeURL:
		// An empty reference is the page itself, as a browser reads it.
		if u, ok := w.page.resolve(s); ok {
			return u
		}
	case config.TypeInteger:
		t := digitSeparators.Replace(s)
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return n
		}
		if x, err := strconv.ParseFloat(t, 64); err == nil && x == float64(int64(x)) {
			return int64(x)
		}
	case config.TypeReal:
		t := digitSeparators.Replace(s)
		if x, err := strconv.ParseFloat(t, 64); err == nil {
			return x
		}
	case config.TypeBoolean:
		switch strings.ToLower(s) {
		case "true", "yes", "y", "1", "on":
			return true
		case "false", "no", "n", "0", "off":
			return false
		}
	case config.TypeJSON:
		if jsonplan.Valid(s) {
			return compactJSON(s)
		}
	default:
		return s
	}
	w.badValue(f, quoteShort(s), fmt.Sprintf("%s: %s is not %s", f.name, quoteShort(s), article(f.typ)))
	return nil
}

func (f *field) fromJSON(r gjson.Result, w *itemWarnings) any {
	switch r.Type {
	case gjson.Null:
		return nil
	case gjson.String:
		if f.typ == config.TypeJSON {
			return r.Raw
		}
		return f.fromText(r.Str, w)
	case gjson.Number:
		switch f.typ {
		case config.TypeInteger:
			if x := r.Float(); x == float64(int64(x)) {
				return int64(x)
			}
			w.badValue(f, r.Raw, fmt.Sprintf("%s: %s is not an integer", f.name, r.Raw))
			return nil
		case config.TypeReal:
			return r.Float()
		case config.TypeBoolean:
			return r.Float() != 0
		case config.TypeJSON:
			return r.Raw
		}
		return r.Raw
	case gjson.True, gjson.False:
		switch f.typ {
		case config.TypeBoolean:
			return r.Bool()
		case config.TypeInteger:
			if r.Bool() {
				return int64(1)
			}
			return int64(0)
		case config.TypeJSON:
			return r.Raw
		}
		return strconv.FormatBool(r.Bool())
	}
	// Objects and arrays.
	if f.typ == config.TypeJSON || f.typ == config.TypeText {
		return compactJSON(r.Raw)
	}
	w.badValue(f, quoteShort(r.Raw), fmt.Sprintf("%s: a JSON %s is not %s", f.name, jsonKind(r), article(f.typ)))
	return nil
}

func (f *field) defaultValue() any {
	if f.def == nil {
		return nil
	}
	switch f.typ {
	case config.TypeInteger:
		switch d := f.def.(type) {
		case int:
			return int64(d)
		case float64:
			return int64(d)
		}
	case config.TypeReal:
		switch d := f.def.(type) {
		case int:
			return float64(d)
		case int64:
			return float64(d)
		}
	case config.TypeJSON:
		b, _ := json.Marshal(f.def)
		return string(b)
	case config.TypeText, config.TypeURL:
		return fmt.Sprint(f.def)
	}
	return f.def
}

func jsonText(r gjson.Result) string {
	if r.Type == gjson.String {
		return r.Str
	}
	return r.Raw
}

// jsonArray renders the values of an `all` field as a JSON array.
func jsonArray(vals []any, typ string) string {
	parts := make([]json.RawMessage, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok && typ == config.TypeJSON {
			parts[i] = json.RawMessage(s)
			continue
		}
		b, _ := json.Marshal(v)
		parts[i] = b
	}
	b, _ := json.Marshal(parts)
	return string(b)
}

func compactJSON(s string) string {
	if isCompact(s) {
		return s
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return s
	}
	return b.String()
}

// isCompact reports whether the JSON text s has no white space outside its
// strings, as pages' embedded JSON almost always has not.
func isCompact(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			return false
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		}
	}
	return true
}

func jsonKind(r gjson.Result) string {
	if r.IsArray() {
		return "array"
	}
	return "object"
}

func article(typ string) string {
	switch typ {
	case config.TypeInteger:
		return "an integer"
	case config.TypeReal:
		return "a number"
	case config.TypeBoolean:
		return "a boolean"
	case config.TypeJSON:
		return "valid JSON"
	case config.TypeURL:
		return "a URL"
	}
	return typ
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}
