package jsonplan

import (
	"fmt"
	"testing"
)

// Compile plans what its subset holds and leaves the rest to gjson.
func TestCompile_Planned(t *testing.T) {
	p := mustCompile(t, trickySpecs)
	want := []string{
		// page: escapes, modifiers, counts and maps are gjson's; so are a
		// field that is not JSON and a "^." path without Items.
		"[true true true true true true true true true false false false false true true true true true false false]",
		"[true true true true true false false]",
		"[true]",
		"[true]",
		"[true]",
		"[true true true true true]",
		"[true true]",
		"[true]",
		"left out", // groups.#.members maps over elements
	}
	for i, w := range want {
		got := "left out"
		if fields, ok := p.Planned(i); ok {
			got = fmt.Sprint(fields)
		}
		if got != w {
			t.Errorf("spec %d (each %q): planned %s, want %s", i, trickySpecs[i].Each, got, w)
		}
	}
	if Compile([]Spec{{Each: "groups.#.members", Fields: []string{"id"}}}) != nil {
		t.Error("a plan with nothing planned, want nil")
	}
}

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"a", true}, {"a.b.0", true}, {`list.#(name=="x").v`, true}, {`list.#(v==2)#`, true},
		{`list.#( name == "y" )`, true}, {`list.#(name!="x")`, true},
		{"", false}, {"a.", false}, {`k\.dot`, false}, {"list.#", false}, {"list.@reverse", false},
		{"a*", false}, {"a|b", false}, {`list.#(name%"x*")`, false}, {`list.#(name=~"x")`, false},
		{`list.#(name==bare)`, false}, {`list.#(a.b=="x")`, false}, {`list.#(name=="a\"b")`, false},
	} {
		if _, ok := parsePath(tc.path); ok != tc.ok {
			t.Errorf("parsePath(%q) ok = %v, want %v", tc.path, ok, tc.ok)
		}
	}
}
