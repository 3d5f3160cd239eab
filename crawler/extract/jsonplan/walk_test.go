package jsonplan

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/gather-crawler/gather/crawler/extract/jsonplan/jsonplantest"
)

// trickySpecs read jsonplantest's documents through every kind of path the
// planner takes, and some it leaves to gjson.
var trickySpecs = []Spec{
	{Fields: []string{"a", "a.b", "list.0", "list.1.name", `list.#(name=="x").v`, `list.#(v==2).name`,
		`list.#(name!="x").v`, `list.#( name == "y" ).v`, `list.#(v=="true").name`, `k\.dot`, "list.@reverse",
		"list.#", "list.#.name", "n", "flag", "obj", "list", "0", "", "^.a"}},
	{Each: "list", Fields: []string{"name", "v", "d.e.f", "tags", "tags.1", "", "^.name"}},
	{Each: "obj", Fields: []string{"x"}},
	{Each: `list.#(v!=2)#`, Fields: []string{"name"}},
	{Each: `groups.#(kind=="a")#.members`, Fields: []string{"id"}},
	{Each: "groups", Items: "members", Fields: []string{"^.id", "^.kind", "^.meta.tag", `^.members.#(id=="m1").id`, "id"}},
	{Each: `groups.#(kind!="a")#`, Items: "members", Fields: []string{"^.id", "id"}},
	{Each: `groups.#(kind=="b").members`, Fields: []string{"id"}},
	{Each: "groups.#.members", Fields: []string{"id"}},
}

func mustCompile(t testing.TB, specs []Spec) *Plan {
	t.Helper()
	p := Compile(specs)
	if p == nil {
		t.Fatal("nothing planned")
	}
	return p
}

// want is one record as gjson finds it, path by path.
type want struct {
	elem, outer gjson.Result
	fields      []gjson.Result
}

// gjsonRecords reads spec s from doc with gjson alone, as the plan's user
// reads what the plan leaves out.
func gjsonRecords(s Spec, doc string) []want {
	get := func(elem, outer gjson.Result) want {
		w := want{elem: elem, outer: outer, fields: make([]gjson.Result, len(s.Fields))}
		for i, f := range s.Fields {
			if path, up := strings.CutPrefix(f, "^."); up && outer.Exists() {
				w.fields[i] = outer.Get(path)
			} else if f != "" {
				w.fields[i] = elem.Get(f)
			}
		}
		return w
	}
	if s.Each == "" {
		return []want{get(gjson.Parse(doc), gjson.Result{})}
	}
	var out []want
	gjson.Get(doc, s.Each).ForEach(func(_, outer gjson.Result) bool {
		if s.Items == "" {
			out = append(out, get(outer, gjson.Result{}))
			return true
		}
		outer.Get(s.Items).ForEach(func(_, inner gjson.Result) bool {
			out = append(out, get(inner, outer))
			return true
		})
		return true
	})
	return out
}

// same reports whether two results hold the same value (their Index, the
// offset in what gjson was given, differs by design).
func same(a, b gjson.Result) bool {
	return a.Type == b.Type && a.Raw == b.Raw && a.Str == b.Str &&
		(a.Num == b.Num || math.IsNaN(a.Num) && math.IsNaN(b.Num))
}

// checkWalk walks doc with p and fails the test wherever the walk and
// gjson disagree: on the document's validity, and on every record and
// planned field. It reports whether the walk answered (no ErrFallback).
func checkWalk(t testing.TB, p *Plan, specs []Spec, doc string) bool {
	t.Helper()
	res, err := p.Walk(doc)
	switch {
	case errors.Is(err, ErrFallback):
		return false
	case errors.Is(err, ErrInvalid):
		if gjson.Valid(doc) {
			t.Fatalf("the walk says invalid, gjson.Valid says valid: %q", doc)
		}
		return true
	case err != nil:
		t.Fatalf("walk %q: %v", doc, err)
	case !gjson.Valid(doc):
		t.Fatalf("the walk says valid, gjson.Valid says invalid: %q", doc)
	}
	defer res.Release()
	for i, s := range specs {
		planned, ok := p.Planned(i)
		if !ok {
			if n := res.Len(i); n != 0 {
				t.Fatalf("spec %d was left out, yet made %d records", i, n)
			}
			continue
		}
		wants := gjsonRecords(s, doc)
		if n := res.Len(i); n != len(wants) {
			t.Fatalf("spec %d (each %q, items %q): %d records, gjson finds %d, in %s", i, s.Each, s.Items, n, len(wants), doc)
		}
		got := make([]gjson.Result, len(s.Fields))
		for n, w := range wants {
			elem, outer := res.Record(i, n, got)
			if s.Each != "" && elem != w.elem.Raw { // else the document, as given
				t.Fatalf("spec %d record %d: element %q, gjson %q, in %s", i, n, elem, w.elem.Raw, doc)
			}
			if outer != w.outer.Raw {
				t.Fatalf("spec %d record %d: outer %q, gjson %q, in %s", i, n, outer, w.outer.Raw, doc)
			}
			for f, path := range s.Fields {
				if !planned[f] {
					if got[f].Exists() {
						t.Fatalf("spec %d field %q is not planned, yet has %q", i, path, got[f].Raw)
					}
					continue
				}
				if !same(got[f], w.fields[f]) {
					t.Fatalf("spec %d record %d field %q: %#v, gjson %#v, in %s", i, n, path, got[f], w.fields[f], doc)
				}
			}
		}
	}
	return true
}

func TestWalk_SameAsGJSON_HandWritten(t *testing.T) {
	p := mustCompile(t, trickySpecs)
	for _, doc := range jsonplantest.HandWritten() {
		checkWalk(t, p, trickySpecs, doc)
	}
}

func TestWalk_SameAsGJSON_Generated(t *testing.T) {
	p := mustCompile(t, trickySpecs)
	n := 3000
	if testing.Short() {
		n = 300
	}
	answered := 0
	for seed := range n {
		if checkWalk(t, p, trickySpecs, jsonplantest.Doc(rand.New(rand.NewPCG(uint64(seed), 7)))) {
			answered++
		}
	}
	// A walk that handed every document back would pass the rest of this
	// test; repeated keys on planned paths are rare in these documents.
	if answered < n*3/4 {
		t.Errorf("the walk answered for %d documents of %d, want at least 3/4", answered, n)
	}
}

func TestWalk_Invalid(t *testing.T) {
	p := mustCompile(t, trickySpecs)
	for _, doc := range jsonplantest.Invalid() {
		if _, err := p.Walk(doc); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", doc, err)
		}
	}
}

// FuzzWalk is the package's contract: whatever the document, a walk judges
// its validity as gjson.Valid does and finds what gjson finds, or hands the
// document back. Fuzzed bytes are documents as they are; an empty input
// stands for a document generated from the seed.
func FuzzWalk(f *testing.F) {
	for seed := range 20 {
		f.Add(uint64(seed), []byte(nil))
	}
	f.Add(uint64(0), []byte(`{"list":[{"name":"x","v":2}],"groups":[{"kind":"a","members":[{"id":"m"}]}]}`))
	f.Add(uint64(0), []byte(`{"list":[{"name":"x","v":2},]}`))
	f.Add(uint64(0), []byte(`{"list":[{"name":"\x"}]}`))
	f.Add(uint64(0), []byte(`{"n":01}`))
	p := mustCompile(f, trickySpecs)
	f.Fuzz(func(t *testing.T, seed uint64, raw []byte) {
		doc := string(raw)
		if len(raw) == 0 {
			doc = jsonplantest.Doc(rand.New(rand.NewPCG(seed, 7)))
		}
		checkWalk(t, p, trickySpecs, doc)
	})
}

// A document nested a million deep is walked with a stack of brackets,
// not a million nested calls.
func TestWalk_DeepNesting(t *testing.T) {
	p := mustCompile(t, trickySpecs)
	const depth = 1_000_000
	doc := `{"list":[{"name":"x","d":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}],"n":1}`
	res, err := p.Walk(doc)
	if err != nil {
		t.Fatal(err)
	}
	fields := make([]gjson.Result, len(trickySpecs[1].Fields))
	res.Record(1, 0, fields)
	if n := res.Len(1); n != 1 || fields[0].Str != "x" {
		t.Errorf("list: %d records, the first named %q; want 1, x", n, fields[0].Raw)
	}
	res.Release()
	if _, err := p.Walk(doc[:len(doc)-10]); !errors.Is(err, ErrInvalid) {
		t.Errorf("cut short: error %v, want ErrInvalid", err)
	}
}

// The slices of a walk are reused: a released Result costs the next walk
// no allocations.
func TestWalk_ReusesResults(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	p := mustCompile(t, trickySpecs)
	doc := `{"list":[{"name":"x","v":2,"tags":["a","b"]},{"name":"y","v":1}],"groups":[{"kind":"a","id":"g","members":[{"id":"m1"},{"id":"m2"}]}],"n":3}`
	fields := make([]gjson.Result, len(trickySpecs[5].Fields))
	allocs := testing.AllocsPerRun(100, func() {
		res, err := p.Walk(doc)
		if err != nil {
			t.Fatal(err)
		}
		res.Record(5, 1, fields)
		res.Release()
	})
	if allocs > 0 {
		t.Errorf("%v allocations per walk, want none", allocs)
	}
}

// A panic inside the walker is a bug: outside tests Walk returns it, with
// the path it was walking, so that the caller reads the page with gjson and
// reports it; in a test binary it panics, so that the bug fails the test.
func TestWalk_BugIsSurfaced(t *testing.T) {
	p := mustCompile(t, []Spec{{Each: "list", Fields: []string{"name"}}})
	// Break the plan: the name slot points past the record's frame.
	elem := p.root.kids[0].node.sinks[0].elem
	elem.kids[0].node.caps[0] = 1 << 20
	doc := `{"list":[{"name":"x"}]}`

	p.strict = false
	_, err := p.Walk(doc)
	var bug *BugError
	if !errors.As(err, &bug) {
		t.Fatalf("error %v, want a *BugError", err)
	}
	if bug.Path != "list.#.name" || !errors.Is(err, ErrFallback) || len(bug.Stack) == 0 {
		t.Errorf("bug at %q (fallback %v, %d bytes of stack), want list.#.name, true, a stack",
			bug.Path, errors.Is(err, ErrFallback), len(bug.Stack))
	}

	p.strict = true
	defer func() {
		if b, ok := recover().(*BugError); !ok || b.Path != "list.#.name" {
			t.Errorf("panicked with %v, want the *BugError at list.#.name", b)
		}
	}()
	p.Walk(doc)
	t.Error("a strict walk did not panic")
}

// A fresh plan is strict in a test binary.
func TestCompile_StrictInTests(t *testing.T) {
	if !mustCompile(t, trickySpecs).strict {
		t.Error("not strict under go test")
	}
}
