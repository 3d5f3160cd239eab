// Package jsonplantest makes JSON documents for the differential tests of
// jsonplan and of the code that uses it: documents shaped like what those
// tests' specs read, with missing, repeated, escaped and mistyped members,
// so that every branch of the walk meets gjson's answer.
//
// The documents have members a, list (of objects with name, v, d, tags),
// groups (of objects with kind, id, meta.tag, members (of objects with id
// and x)), obj (with x and y), n, flag, "0" and "k.dot".
package jsonplantest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// HandWritten returns documents that each probe a corner of gjson's
// reading: repeated keys, escaped keys, mistyped query values, white space
// everywhere, documents that are not objects.
func HandWritten() []string {
	return []string{
		`{}`, `[]`, `"s"`, `null`, `3`,
		`{"a":1,"a":2,"list":[{"name":"x","v":1},{"name":"y","v":2},{"name":"x","v":3}]}`,
		`{"list":[{"v":2,"name":"late"},{"name":"x","v":"2"},{"name":"x"},7,"x",null,[1,2]]}`,
		`{"list":{"name":"x"},"obj":[1,2],"groups":{"kind":"a"}}`,
		`{"n\u0061me":"esc","list":[{"n\u0061me":"x","v":1}],"k.dot":"dotted"}`,
		`{"groups":[{"members":[{"id":"m1"},{"id":"m2"}],"kind":"a","id":"g1","meta":{"tag":"t"}},{"kind":"b","members":[{"id":"m3"}],"id":2},{"kind":"b","members":[]},{"id":"g4","members":[{"x":1},{"id":null},"str",{"id":"m5"}]}]}`,
		`{"groups":[{"kind":"a","members":"notarray"},{"kind":"a","members":{"p":{"id":"o1"},"q":{"id":"o2"}}},{"kind":"a"},{"kind":"a","members":null}]}`,
		`{"list":[{"name":"x","v":true},{"name":"y","v":false},{"name":"z","v":"true"},{"name":"w","v":2.0},{"name":"u","v":2e0}]}`,
		"{ \"list\" : [ { \"name\" : \"x\" , \"v\" : 1 , \"tags\" : [ \"t1\" , \"t2\" ] } , { \"tags\" : [ ] } ] ,\n\t\"obj\" : { \"x\" : [1, {\"y\": \"}\"}] , \"x\": 2 } }",
		`{"list":[{"name":"q\"uote\\","v":-0,"d":{"e":{"f":"deep"}},"tags":"single"},{"name":"","d":{"e":[{"f":1}]}}]}`,
		`{"0":"zero-key","list":[["nested"]],"n":12345678901234567890,"flag":"yes"}`,
		`{"n":1.5,"flag":1,"obj":{"x":{"y":[1,2,{"z":null}]}},"a":{"b":[1]}}`,
		`{"list":[],"groups":[]}`,
	}
}

// Invalid returns documents that gjson.Valid rejects, each breaking one
// rule of the grammar.
func Invalid() []string {
	return []string{
		`{"list":[1,]}`, `{"list":[1 2]}`, `{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`,
		`{"a":tru}`, `{"a":nul}`, `{"a":"\x"}`, `{"a":"\u12g4"}`, "{\"a\":\"tab\there\"}", `{"a":"unterminated}`,
		`{"a":1} x`, `{"a":1}}`, `{"list":[{"name":"x"}`, `[`, `{`, `{"a":[}`, `{"a":{]}`, `{'a':1}`, `{"a":1,"b"}`,
	}
}

// Doc writes a random document, in random member order and spacing.
func Doc(r *rand.Rand) string {
	var b strings.Builder
	g := gen{r: r, b: &b}
	g.object(0, map[string]func(int){
		"a":      g.any,
		"list":   func(d int) { g.array(d, g.listElem) },
		"groups": func(d int) { g.array(d, g.group) },
		"obj":    func(d int) { g.object(d, map[string]func(int){"x": g.any, "y": g.any}) },
		"n":      g.scalar,
		"flag":   g.scalar,
		"0":      g.scalar,
		"k.dot":  g.scalar,
	})
	return b.String()
}

type gen struct {
	r *rand.Rand
	b *strings.Builder
}

func (g *gen) ws() {
	if g.r.IntN(4) == 0 {
		g.b.WriteString([]string{" ", "\n", "\t ", "\r\n  "}[g.r.IntN(4)])
	}
}

// key writes a member name, sometimes with an escape gjson must undo.
func (g *gen) key(k string) {
	g.ws()
	if len(k) > 1 && g.r.IntN(10) == 0 {
		fmt.Fprintf(g.b, `"\u%04x%s"`, k[0], k[1:])
	} else {
		fmt.Fprintf(g.b, "%q", k)
	}
	g.ws()
	g.b.WriteByte(':')
	g.ws()
}

func (g *gen) object(depth int, members map[string]func(int)) {
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	// Map order is random but not seeded: sort, then shuffle with r.
	slices.Sort(keys)
	g.r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	g.b.WriteByte('{')
	n := 0
	for _, k := range keys {
		// Missing members are common; repeated ones rare, since a repeat on
		// a planned path hands the whole document back to gjson.
		reps := 1
		switch r := g.r.IntN(60); {
		case r < 8:
			reps = 0
		case r == 8:
			reps = 2
		}
		for range reps {
			if n > 0 {
				g.b.WriteByte(',')
			}
			n++
			g.key(k)
			if g.r.IntN(12) == 0 {
				g.any(depth + 1)
			} else {
				members[k](depth + 1)
			}
			g.ws()
		}
	}
	if g.r.IntN(5) == 0 {
		if n > 0 {
			g.b.WriteByte(',')
		}
		g.key("extra")
		g.any(depth + 1)
	}
	g.b.WriteByte('}')
}

func (g *gen) array(depth int, elem func(int)) {
	g.b.WriteByte('[')
	for i := range g.r.IntN(6) {
		if i > 0 {
			g.b.WriteByte(',')
		}
		g.ws()
		if g.r.IntN(10) == 0 {
			g.any(depth + 1)
		} else {
			elem(depth + 1)
		}
		g.ws()
	}
	g.b.WriteByte(']')
}

func (g *gen) listElem(d int) {
	g.object(d, map[string]func(int){
		"name": func(int) { g.pick(`"x"`, `"y"`, `"z"`, `""`, `"q\"x"`, `"\u0078"`, `2`, `null`) },
		"v":    func(int) { g.pick(`1`, `2`, `2.0`, `"2"`, `true`, `false`, `"true"`, `null`, `-3e2`) },
		"d":    g.any,
		"tags": func(d int) { g.array(d, g.scalar) },
	})
}

func (g *gen) group(d int) {
	g.object(d, map[string]func(int){
		"kind":    func(int) { g.pick(`"a"`, `"b"`, `"c"`, `1`, `null`) },
		"id":      g.scalar,
		"meta":    func(d int) { g.object(d, map[string]func(int){"tag": g.scalar}) },
		"members": func(d int) { g.array(d, func(d int) { g.object(d, map[string]func(int){"id": g.scalar, "x": g.any}) }) },
	})
}

func (g *gen) pick(vals ...string) { g.b.WriteString(vals[g.r.IntN(len(vals))]) }

func (g *gen) scalar(int) {
	g.pick(`"m1"`, `"m2"`, `"g1"`, `"a"`, `"b"`, `7`, `0`, `-1.5`, `true`, `false`, `null`, `"t,}]"`, `"é\n"`, `"\\"`)
}

func (g *gen) any(d int) {
	if d > 5 {
		g.scalar(d)
		return
	}
	switch g.r.IntN(4) {
	case 0:
		g.array(d, g.any)
	case 1:
		g.object(d, map[string]func(int){"name": g.scalar, "id": g.scalar, "f": g.any, "e": g.any})
	default:
		g.scalar(d)
	}
}
