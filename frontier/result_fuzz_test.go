package frontier

import (
	"reflect"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// An outcome comes back from Redis, where anything may have written it:
// decoding must not panic, and what decodes must encode and decode again
// to the same page and links (the sink stores exactly what a worker sent).
func FuzzDecodeResult(f *testing.F) {
	seed := storage.Page{URL: "http://h/p", Status: storage.PageOK, HTTPStatus: 200, Attempts: 1, Bytes: 10,
		FetchedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), FetchedBy: "http",
		Items: []storage.ItemRows{{Table: "t", Rows: []storage.Row{{Values: []any{"a", int64(2), 1.5, true, nil}, Index: 1}}}}}
	if b, err := encodeResult(seed, []crawler.Link{{URL: "http://h/q", Depth: 1}}); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"url":"http://h/x","status":"failed","error":"HTTP 500"}`))
	f.Add([]byte(`{"items":[{"table":"t","rows":[{"values":["s:x","i:notanumber"]}]}]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, links, err := decodeResult(b)
		if err != nil {
			return
		}
		again, err := encodeResult(p, links)
		if err != nil {
			return // a value the wire cannot carry (NaN): refused, not mangled
		}
		p2, links2, err := decodeResult(again)
		if err != nil {
			t.Fatalf("an outcome gather encoded does not decode: %v", err)
		}
		if !reflect.DeepEqual(p, p2) || !reflect.DeepEqual(links, links2) {
			t.Fatalf("a round trip changed the outcome:\n%#v\n%#v", p, p2)
		}
	})
}
