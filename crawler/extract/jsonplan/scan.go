package jsonplan

import (
	"encoding/binary"
	"math/bits"
	"strings"

	"github.com/tidwall/gjson"
)

// Scanning primitives for the JSON walker. They check the grammar as they
// go, exactly as gjson.Valid does (standard JSON; bytes of strings other
// than control characters are not checked), so that the walk is also the
// page's validation: one pass over the document instead of two. A scanner
// meeting anything else panics with ErrInvalid, which Walk returns.

// scanner reads one document. b views the bytes of s, for the loads of
// eight bytes at a time in str; nothing writes through it.
type scanner struct {
	b    []byte
	s    string
	open []byte // container's stack of closing brackets, kept for reuse
}

func invalid() { panic(ErrInvalid) }

// at returns the byte at i, or 0 past the end: no grammar rule accepts a
// 0, so a document cut short is invalid wherever it stops.
func (sc *scanner) at(i int) byte {
	if i < len(sc.s) {
		return sc.s[i]
	}
	return 0
}

// ws returns the index of the first byte at or after i that is not JSON
// white space.
func (sc *scanner) ws(i int) int {
	for i < len(sc.s) {
		switch sc.s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special flags, in the high bit of each byte, the bytes of x that end a
// run of plain string bytes: '"', '\\' and control characters. Only the
// lowest flag is exact (borrows can flag bytes above a true one), which is
// all the caller uses.
func special(x uint64) uint64 {
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return ((x-ones*0x20)&^x | (q-ones)&^q | (bs-ones)&^bs) & highs
}

// str returns the index just past the string that opens at s[i].
func (sc *scanner) str(i int) int {
	i++
	for {
		for i+8 <= len(sc.b) {
			m := special(binary.LittleEndian.Uint64(sc.b[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
			break
		}
		switch c := sc.at(i); {
		case c == '"':
			return i + 1
		case c == '\\':
			switch sc.at(i + 1) {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if !ishex(sc.at(k)) {
						invalid()
					}
				}
				i += 6
			default:
				invalid()
			}
		case c < ' ':
			invalid() // a control character, or the end of the document
		default:
			i++
		}
	}
}

func ishex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// num returns the index just past the number that starts at s[i].
func (sc *scanner) num(i int) int {
	if sc.at(i) == '-' {
		i++
	}
	switch c := sc.at(i); {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i = sc.digits(i + 1)
	default:
		invalid()
	}
	if sc.at(i) == '.' {
		if !isDigit(sc.at(i + 1)) {
			invalid()
		}
		i = sc.digits(i + 2)
	}
	if c := sc.at(i); c == 'e' || c == 'E' {
		i++
		if c := sc.at(i); c == '+' || c == '-' {
			i++
		}
		if !isDigit(sc.at(i)) {
			invalid()
		}
		i = sc.digits(i + 1)
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (sc *scanner) digits(i int) int {
	for isDigit(sc.at(i)) {
		i++
	}
	return i
}

// word returns the index just past the literal w, which must be at s[i].
func (sc *scanner) word(i int, w string) int {
	if len(sc.s)-i < len(w) || sc.s[i:i+len(w)] != w {
		invalid()
	}
	return i + len(w)
}

// skip returns the index just past the value that starts at s[i].
func (sc *scanner) skip(i int) int {
	switch c := sc.at(i); c {
	case '"':
		return sc.str(i)
	case '{', '[':
		return sc.container(i)
	case 't':
		return sc.word(i, "true")
	case 'f':
		return sc.word(i, "false")
	case 'n':
		return sc.word(i, "null")
	default:
		if c == '-' || isDigit(c) {
			return sc.num(i)
		}
	}
	invalid()
	return 0
}

// container skips the object or array that opens at s[i]. It is skip
// without recursion: a loop over the grammar's three places (before a
// value, after one, before a member name) with a stack of the open
// brackets, which measured half again as fast as recursive descent.
func (sc *scanner) container(i int) int {
	const (
		beforeValue = iota
		afterValue
		beforeKey
	)
	open := sc.open[:0]
	state := beforeValue
	for {
		switch state {
		case beforeValue:
			switch c := sc.at(i); c {
			case '{', '[':
				closing, first := byte('}'), beforeKey
				if c == '[' {
					closing, first = ']', beforeValue
				}
				i = sc.ws(i + 1)
				if sc.at(i) == closing {
					i++
					state = afterValue
				} else {
					open = append(open, closing)
					state = first
				}
				continue
			case '"':
				i = sc.str(i)
			case 't':
				i = sc.word(i, "true")
			case 'f':
				i = sc.word(i, "false")
			case 'n':
				i = sc.word(i, "null")
			default:
				if c != '-' && !isDigit(c) {
					invalid()
				}
				i = sc.num(i)
			}
			state = afterValue
		case afterValue:
			if len(open) == 0 {
				sc.open = open
				return i
			}
			i = sc.ws(i)
			switch c := sc.at(i); {
			case c == ',':
				i = sc.ws(i + 1)
				if open[len(open)-1] == '}' {
					state = beforeKey
				} else {
					state = beforeValue
				}
			case c == open[len(open)-1]:
				i++
				open = open[:len(open)-1]
			default:
				invalid()
			}
		case beforeKey:
			i = sc.member(i)
			state = beforeValue
		}
	}
}

// member reads the member name that opens at s[i] and the colon after it,
// and returns the index of the member's value.
func (sc *scanner) member(i int) int {
	if sc.at(i) != '"' {
		invalid()
	}
	c := sc.ws(sc.str(i))
	if sc.at(c) != ':' {
		invalid()
	}
	return sc.ws(c + 1)
}

// key is member that also returns the name, unescaped.
func (sc *scanner) key(i int) (string, int) {
	if sc.at(i) != '"' {
		invalid()
	}
	end := sc.str(i)
	c := sc.ws(end)
	if sc.at(c) != ':' {
		invalid()
	}
	key := sc.s[i+1 : end-1]
	if strings.IndexByte(key, '\\') >= 0 {
		key = gjson.Parse(sc.s[i:end]).Str
	}
	return key, sc.ws(c + 1)
}

// next reads what follows a member or element that ended at i: a comma,
// and then it returns the start of the next one, or the closing bracket,
// and then it returns the index past it and false.
func (sc *scanner) next(i int, closing byte) (int, bool) {
	i = sc.ws(i)
	switch sc.at(i) {
	case ',':
		return sc.ws(i + 1), true
	case closing:
		return i + 1, false
	}
	invalid()
	return 0, false
}
