package extract

import (
	"strings"

	"github.com/tidwall/gjson"
)

// Scanning primitives for the JSON walker. They work on a document that
// gjson.Valid accepted, so they only find where values end; they never
// have to decide whether the text is JSON.

// skipWS returns the index of the first byte at or after i that is not
// JSON white space.
func skipWS(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string that opens at s[i].
// The closing quote is found with IndexByte (vectorized), then checked
// for an odd run of backslashes before it.
func skipString(s string, i int) int {
	i++
	for {
		j := strings.IndexByte(s[i:], '"')
		if j < 0 {
			return len(s)
		}
		i += j
		n := 0
		for k := i - 1; s[k] == '\\'; k-- {
			n++
		}
		i++
		if n%2 == 0 {
			return i
		}
	}
}

// skipValue returns the index just past the value that starts at s[i].
func skipValue(s string, i int) int {
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				i = skipString(s, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(s)
	}
	// A number or a literal runs to the next delimiter.
	for i < len(s) {
		switch s[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// objectKey reads the key that opens at s[i] and returns it (unescaped)
// with the index of its value.
func objectKey(s string, i int) (key string, value int) {
	end := skipString(s, i)
	key = s[i+1 : end-1]
	if strings.IndexByte(key, '\\') >= 0 {
		key = gjson.Parse(s[i:end]).Str
	}
	value = skipWS(s, end)
	return key, skipWS(s, value+1) // past the ':'
}

// nextMember moves past the comma after a member, if any, and returns the
// index of the next member or of the closing bracket.
func nextMember(s string, i int) int {
	i = skipWS(s, i)
	if i < len(s) && s[i] == ',' {
		i = skipWS(s, i+1)
	}
	return i
}
