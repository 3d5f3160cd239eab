package jsonplan

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/gather-crawler/gather/crawler/extract/jsonplan/jsonplantest"
)

// Valid judges every document as gjson.Valid does: hand-written corners,
// broken ones, random ones, and whatever the fuzzer finds.
func FuzzValid(f *testing.F) {
	for _, d := range append(jsonplantest.HandWritten(), jsonplantest.Invalid()...) {
		f.Add(d)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		f.Add(jsonplantest.Doc(r))
	}
	for _, d := range []string{"", " ", " 1 ", "-", "1 2", `"\ud800"`, "\ufeff{}", "[1,[2,[3]]]", "{\"a\":\"\x01\"}", "\"\xff\"", "tru", "[]]"} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		if got, want := Valid(doc), gjson.Valid(doc); got != want {
			t.Errorf("Valid(%q) = %v, gjson.Valid says %v", doc, got, want)
		}
	})
}

// A document nested ten million deep is judged without recursion: gjson.Valid
// overflows the stack on it.
func TestValid_DeepNesting(t *testing.T) {
	const depth = 10_000_000
	doc := strings.Repeat("[", depth) + strings.Repeat("]", depth)
	if !Valid(doc) {
		t.Error("valid deep document judged invalid")
	}
	if Valid(doc[:len(doc)-1]) {
		t.Error("unclosed deep document judged valid")
	}
	if Valid(strings.Repeat("[", 2*depth)) {
		t.Error("all-open document judged valid")
	}
}
