package jsonplan

import (
	"strconv"
	"strings"
)

// The subset of gjson's path syntax that a plan walks: plain keys and
// array indexes, and queries of the form #(key=="text"), #(key!="text") or
// with a number, first match or all (#). Anything else is left to gjson.

// pathStep is one component of a path.
type pathStep struct {
	text  string // as written, for the paths a BugError names
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
			st, p = pathStep{text: p[:len(p)-len(rest)], query: q, idx: -1}, rest
		} else {
			end := strings.IndexByte(p, '.')
			if end < 0 {
				end = len(p)
			}
			key := p[:end]
			if !plainKey(key) {
				return nil, false
			}
			st = pathStep{text: key, key: key, idx: -1}
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
