package jsonplan

import "unsafe"

// Valid reports whether doc is valid JSON, exactly as gjson.Valid judges it,
// with the walker's scanner: without recursion, so that a document nested
// millions deep costs a byte of heap per level instead of the stack
// gjson.Valid needs (it overflowed Go's 1 GB stack limit at 8 million).
func Valid(doc string) (ok bool) {
	sc := scanner{s: doc, b: unsafe.Slice(unsafe.StringData(doc), len(doc))}
	defer func() {
		if v := recover(); v != nil {
			if v != ErrInvalid {
				panic(v)
			}
			ok = false
		}
	}()
	return sc.ws(sc.skip(sc.ws(0))) == len(doc)
}
