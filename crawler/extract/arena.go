package extract

import "unsafe"

// arena copies the strings of one page's records into shared chunks: one
// allocation per chunk instead of one per value, and the records still
// hold nothing of the page body, which can be collected once extracted.
// Bytes are only appended, never changed, so strings over them are sound.
type arena struct{ buf []byte }

const arenaChunk = 16 << 10

func (a *arena) clone(s string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > arenaChunk/4 {
		return string([]byte(s))
	}
	if cap(a.buf)-len(a.buf) < len(s) {
		a.buf = make([]byte, 0, arenaChunk)
	}
	off := len(a.buf)
	a.buf = append(a.buf, s...)
	return unsafe.String(&a.buf[off], len(s))
}
