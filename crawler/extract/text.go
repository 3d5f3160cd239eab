package extract

import (
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/net/html"
)

// textBuf collects elements' text, one at a time, into a buffer a page
// reuses for all of them: building a string with a space after every text
// node and then splitting and joining it cost three allocations and three
// passes per value.
type textBuf struct {
	b []byte
	// gap is set when white space was seen since the last word.
	gap bool
}

// nodeText returns n's text with runs of white space (including
// non-breaking spaces) collapsed to one space and trimmed, as
// strings.Join(strings.Fields(t), " ") does to t, the text nodes of n each
// followed by a space. The string shares t's buffer: it is good until the
// next call, and whoever keeps it copies it.
func (t *textBuf) nodeText(n *html.Node) string {
	t.b, t.gap = t.b[:0], false
	t.walk(n)
	return unsafe.String(unsafe.SliceData(t.b), len(t.b))
}

func (t *textBuf) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		t.add(n.Data)
	case html.CommentNode:
	default:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			t.walk(c)
		}
	}
}

// add appends the words of s, a space before each but the first.
func (t *textBuf) add(s string) {
	for i := 0; i < len(s); {
		c := s[i]
		size := 1
		if c < utf8.RuneSelf {
			if asciiSpace[c] {
				t.gap = true
				i++
				continue
			}
		} else {
			var r rune
			// Invalid UTF-8 decodes as one byte of RuneError, which is not
			// space, so it stays in its word as strings.Fields leaves it.
			r, size = utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) {
				t.gap = true
				i += size
				continue
			}
		}
		if t.gap && len(t.b) > 0 {
			t.b = append(t.b, ' ')
		}
		t.gap = false
		t.b = append(t.b, s[i:i+size]...)
		i += size
	}
	// The space that used to follow every text node: words of adjacent
	// nodes stay apart.
	t.gap = true
}

// asciiSpace is unicode.IsSpace below utf8.RuneSelf.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}
