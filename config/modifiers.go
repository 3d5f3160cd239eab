package config

import (
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
)

// gjson modifiers run inside gjson, where gather can neither time them out
// nor stop them: a page can only be kept from making one run away by
// refusing, at validation, the modifiers whose cost grows faster than the
// document. The others (safeModifiers) read the value they are given once,
// without recursion, and return at most a few times its size.
var safeModifiers = map[string]bool{
	"this": true, "reverse": true, "ugly": true, "flatten": true, "join": true,
	"keys": true, "values": true, "tostr": true, "fromstr": true,
}

// unsafeModifiers says why each refused modifier of gjson v1.20 is refused.
// A modifier gjson gains later is refused until it is judged (see
// JSONModifierProblem).
var unsafeModifiers = map[string]string{
	"pretty": "it recurses once per level of nesting (a stack overflow on a document nested a million deep) " +
		"and its output grows with depth times size (a 40 KB page made an 800 MB value); type: json stores the value compacted",
	"dig": "it searches the whole value again at every level (10 minutes of CPU on a 10 MB page) and recurses once per level of nesting; " +
		"write the path to the values instead",
	"group": "its output repeats each key once per element of its array (a 3 MB page could make terabytes)",
	"valid": "it recurses once per level of nesting, and gather already checks that every document is valid JSON",
}

// flattenDeep says why @flatten with {"deep":true} is refused; @flatten
// without it reads one level.
const flattenDeep = "with deep it recurses once per level of nesting and copies every level again; " +
	"flatten one level (no deep), or write the path to the values instead"

// JSONModifierProblem returns an error naming the first gjson modifier in
// path that a page could make run away (and why), or nil. A key that merely
// starts with @ (JSON-LD's @type) is no modifier and passes; so does one
// written \@pretty.
func JSONModifierProblem(path string) error {
	var err error
	eachModifier(path, func(name, rest string) bool {
		err = judgeModifier(name, rest)
		return err == nil
	})
	return err
}

// HasJSONModifier reports whether path applies a gjson modifier.
func HasJSONModifier(path string) bool {
	found := false
	eachModifier(path, func(string, string) bool {
		found = true
		return false
	})
	return found
}

// eachModifier calls f with the name of each gjson modifier path applies,
// and the path after the name, until f returns false.
func eachModifier(path string, f func(name, rest string) bool) {
	inQuote := false
	prevSep := true // a modifier starts a path component
	for i := 0; i < len(path); i++ {
		ch := path[i]
		switch {
		case ch == '\\':
			i++
			prevSep = false
			continue
		case inQuote:
			inQuote = ch != '"'
			continue
		case ch == '"':
			inQuote = true
		case ch == '@' && prevSep:
			name, rest := modifierName(path[i+1:])
			if name != "" && gjson.ModifierExists(name, nil) && !f(name, rest) {
				return
			}
		}
		prevSep = strings.IndexByte(".|[{,:(#!=<>%~ ", ch) >= 0
	}
}

// modifierName splits what follows an @ into the modifier's name and the
// rest of the path, as gjson ends a name: at its argument, the next
// component, or the end of a multipath member or query operand.
func modifierName(s string) (name, rest string) {
	end := strings.IndexAny(s, ":|.,]})=!<>%~\" ")
	if end < 0 {
		return s, ""
	}
	return s[:end], s[end:]
}

func judgeModifier(name, rest string) error {
	if safeModifiers[name] && name != "flatten" {
		return nil
	}
	if why, ok := unsafeModifiers[name]; ok {
		return fmt.Errorf("the gjson modifier @%s is not allowed: %s", name, why)
	}
	if name != "flatten" {
		return fmt.Errorf("the gjson modifier @%s is not allowed: gather does not know whether its cost stays in proportion to the page", name)
	}
	arg, ok := strings.CutPrefix(rest, ":")
	if !ok || !strings.HasPrefix(arg, "{") {
		return nil
	}
	// The argument as gjson's @flatten reads it: the last "deep" wins.
	deep := false
	gjson.Parse(jsonValuePrefix(arg)).ForEach(func(k, v gjson.Result) bool {
		if k.String() == "deep" {
			deep = v.Bool()
		}
		return true
	})
	if deep {
		return fmt.Errorf("the gjson modifier @flatten is not allowed %s", flattenDeep)
	}
	return nil
}

// jsonValuePrefix returns the object or array that s starts with (all of s
// if it is not closed).
func jsonValuePrefix(s string) string {
	depth, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case inQuote:
			inQuote = c != '"'
		case c == '"':
			inQuote = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth == 0 {
				return s[:i+1]
			}
		}
	}
	return s
}
