package extract

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/demo"
)

// trickyConfig reads the generated documents below through every kind of
// path the planner takes, and some it leaves to gjson.
const trickyConfig = `
database: t.db
crawl:
  name: t
  start: {urls: ["http://127.0.0.1/x"]}
items:
  page:
    fields:
      a:      {json: a}
      ab:     {json: a.b}
      first:  {json: list.0}
      second: {json: list.1.name}
      q:      {json: 'list.#(name=="x").v'}
      qn:     {json: 'list.#(v==2).name'}
      qne:    {json: 'list.#(name!="x").v'}
      qsp:    {json: 'list.#( name == "y" ).v'}
      qtrue:  {json: 'list.#(v=="true").name'}
      esc:    {json: 'k\.dot'}
      mod:    {json: 'list.@reverse'}
      cnt:    {json: 'list.#'}
      mapped: {json: 'list.#.name'}
      num:    {json: n, type: integer}
      flt:    {json: n, type: real}
      flag:   {json: flag, type: boolean}
      js:     {json: obj, type: json}
      all:    {json: list, all: true}
      zero:   {json: "0"}
  elems:
    each: {json: list}
    fields:
      name:     {json: name}
      v:        {json: v, type: integer}
      deep:     {json: d.e.f}
      tag:      {json: tags}
      tagsall:  {json: tags, all: true}
      tagsjson: {json: tags, type: json}
      tag1:     {json: tags.1}
      rx:       {json: name, regex: "^(.)"}
  objeach:
    each: {json: obj}
    fields:
      x: {json: x}
  allq:
    each: {json: 'list.#(v!=2)#'}
    fields:
      name: {json: name}
  allqrest:
    each: {json: 'groups.#(kind=="a")#.members'}
    fields:
      id: {json: id}
  nested:
    each: {json: groups, items: members}
    fields:
      gid:   {json: ^.id}
      gkind: {json: ^.kind}
      tag:   {json: ^.meta.tag}
      gq:    {json: '^.members.#(id=="m1").id'}
      id:    {json: id}
  nestedq:
    each: {json: 'groups.#(kind!="a")#', items: members}
    fields:
      gid: {json: ^.id}
      id:  {json: id, required: true}
  firstq:
    each: {json: 'groups.#(kind=="b").members'}
    fields:
      id: {json: id}
  unplanned:
    each: {json: 'groups.#.members'}
    fields:
      id: {json: id}
`

func trickyExtractor(t testing.TB) *Extractor {
	t.Helper()
	cfg, err := config.Parse("tricky.yaml", []byte(trickyConfig), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// extractBoth runs ex on the page with its plans and without, and fails
// the test when they disagree.
func extractBoth(t testing.TB, ex *Extractor, url string, body []byte, contentType string) *Result {
	t.Helper()
	bugs := walkBugs.Load()
	defer func() {
		if walkBugs.Load() != bugs {
			t.Fatalf("the walk panicked on document %s", body)
		}
	}()
	ex.noPlan = false
	got, gotErr := ex.Extract(url, body, contentType, false)
	ex.noPlan = true
	want, wantErr := ex.Extract(url, body, contentType, false)
	ex.noPlan = false
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("document %s\nerror with plans %v, without %v", body, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		for i := range want.Items {
			if !reflect.DeepEqual(got.Items[i], want.Items[i]) {
				t.Errorf("item %s\n  with plans %v\n  gjson only %v", want.Items[i].Name, got.Items[i].Records, want.Items[i].Records)
			}
		}
		if !reflect.DeepEqual(got.Warnings, want.Warnings) {
			t.Errorf("warnings\n  with plans %q\n  gjson only %q", got.Warnings, want.Warnings)
		}
		t.Fatalf("document %s", body)
	}
	return got
}

func TestJSONPlan_SameAsGJSON_HandWritten(t *testing.T) {
	ex := trickyExtractor(t)
	docs := []string{
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
	for _, d := range docs {
		extractBoth(t, ex, "http://127.0.0.1/x", []byte(d), "application/json")
		// Without a JSON content type the body is taken for JSON by its look.
		extractBoth(t, ex, "http://127.0.0.1/x", []byte(d), "text/plain")
	}
}

func TestJSONPlan_SameAsGJSON_Generated(t *testing.T) {
	ex := trickyExtractor(t)
	n := 3000
	if testing.Short() {
		n = 300
	}
	for seed := range n {
		doc := genDoc(rand.New(rand.NewPCG(uint64(seed), 7)))
		extractBoth(t, ex, "http://127.0.0.1/x", []byte(doc), "application/json")
	}
}

func TestJSONPlan_SameAsGJSON_ShippedConfigs(t *testing.T) {
	root := filepath.Join("..", "..")
	cfg, err := config.Load(filepath.Join(root, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 40; i++ {
		m := demo.MovieFor(demo.ID(i), i%3)
		res := extractBoth(t, ex, demo.PageURL("http://127.0.0.1:1", m.ID), demo.RenderNextData(m), "text/html")
		if n := len(res.Items[1].Records); n != len(m.Cast) {
			t.Fatalf("%s: %d cast records, want %d", m.ID, n, len(m.Cast))
		}
	}
	dir := os.Getenv("GATHER_FIXTURES")
	if dir == "" {
		dir = filepath.Join(root, "..", "shared", "fixtures")
	}
	for _, name := range []string{"imdb-nextdata-tt0120338-fullcredits.json", "imdb-nextdata-tt0101002-fullcredits.json"} {
		js, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			if os.Getenv("GATHER_REQUIRE_FIXTURES") != "" {
				t.Fatal(err)
			}
			t.Skipf("fixture %s not available: %v", name, err)
		}
		id := strings.Split(name, "-")[2]
		page := `<html><body><script id="__NEXT_DATA__" type="application/json">` + string(js) + `</script></body></html>`
		extractBoth(t, ex, "https://www.imdb.com/title/"+id+"/fullcredits", []byte(page), "text/html")
	}
}

func FuzzJSONPlan(f *testing.F) {
	for seed := range 20 {
		f.Add(uint64(seed), []byte(nil))
	}
	f.Add(uint64(0), []byte(`{"list":[{"name":"x","v":2}],"groups":[{"kind":"a","members":[{"id":"m"}]}]}`))
	f.Add(uint64(0), []byte(`{"list":[{"name":"x","v":2},]}`))
	f.Add(uint64(0), []byte(`{"list":[{"name":"\x"}]}`))
	f.Add(uint64(0), []byte(`{"n":01}`))
	ex := trickyExtractor(f)
	f.Fuzz(func(t *testing.T, seed uint64, raw []byte) {
		doc := raw
		if len(raw) == 0 {
			doc = []byte(genDoc(rand.New(rand.NewPCG(seed, 7))))
		}
		checkValidation(t, ex, doc)
		extractBoth(t, ex, "http://127.0.0.1/x", doc, "application/json")
	})
}

// checkValidation fails the test when a walk of doc does not judge its
// validity as gjson.Valid does (unless the walk gave the page up).
func checkValidation(t *testing.T, ex *Extractor, doc []byte) {
	t.Helper()
	plan := ex.plans.get(ex, "", 1<<len(ex.items)-1)
	w := new(walk)
	w.reset(plan, doc)
	res := w.run(plan)
	if res == walkGaveUp {
		return
	}
	if valid := gjson.ValidBytes(doc); valid != (res == walkDone) {
		t.Fatalf("gjson.Valid says %v, the walk %v, of %q", valid, res, doc)
	}
}

func TestJSONPlan_InvalidJSON(t *testing.T) {
	ex := trickyExtractor(t)
	for _, d := range []string{
		`{"list":[1,]}`, `{"list":[1 2]}`, `{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`,
		`{"a":tru}`, `{"a":nul}`, `{"a":"\x"}`, `{"a":"\u12g4"}`, "{\"a\":\"tab\there\"}", `{"a":"unterminated}`,
		`{"a":1} x`, `{"a":1}}`, `{"list":[{"name":"x"}`, `[`, `{`, `{"a":[}`, `{"a":{]}`, `{'a':1}`, `{"a":1,"b"}`,
	} {
		res := extractBoth(t, ex, "http://127.0.0.1/x", []byte(d), "application/json")
		if res != nil {
			t.Errorf("%s: extracted %v, want the page to fail as invalid JSON", d, res.Items)
		}
	}
	body := []byte(`<html><body><script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":[}}</script></body></html>`)
	cfg, err := config.Load(filepath.Join("..", "..", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = shipped.Extract("https://www.imdb.com/title/tt0120338/fullcredits", body, "text/html", false)
	if want := "unexpected page: the text of script#__NEXT_DATA__ is not valid JSON"; fmt.Sprint(err) != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// genDoc writes a random document shaped like what trickyConfig reads, with
// missing, duplicated, escaped and mistyped members, in random order and
// spacing.
func genDoc(r *rand.Rand) string {
	var b strings.Builder
	g := docGen{r: r, b: &b}
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

type docGen struct {
	r *rand.Rand
	b *strings.Builder
}

func (g *docGen) ws() {
	if g.r.IntN(4) == 0 {
		g.b.WriteString([]string{" ", "\n", "\t ", "\r\n  "}[g.r.IntN(4)])
	}
}

// key writes a member name, sometimes with an escape gjson must undo.
func (g *docGen) key(k string) {
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

func (g *docGen) object(depth int, members map[string]func(int)) {
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
		// a planned path hands the whole page back to gjson.
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

func (g *docGen) array(depth int, elem func(int)) {
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

func (g *docGen) listElem(d int) {
	g.object(d, map[string]func(int){
		"name": func(int) { g.pick(`"x"`, `"y"`, `"z"`, `""`, `"q\"x"`, `"\u0078"`, `2`, `null`) },
		"v":    func(int) { g.pick(`1`, `2`, `2.0`, `"2"`, `true`, `false`, `"true"`, `null`, `-3e2`) },
		"d":    g.any,
		"tags": func(d int) { g.array(d, g.scalar) },
	})
}

func (g *docGen) group(d int) {
	g.object(d, map[string]func(int){
		"kind":    func(int) { g.pick(`"a"`, `"b"`, `"c"`, `1`, `null`) },
		"id":      g.scalar,
		"meta":    func(d int) { g.object(d, map[string]func(int){"tag": g.scalar}) },
		"members": func(d int) { g.array(d, func(d int) { g.object(d, map[string]func(int){"id": g.scalar, "x": g.any}) }) },
	})
}

func (g *docGen) pick(vals ...string) { g.b.WriteString(vals[g.r.IntN(len(vals))]) }

func (g *docGen) scalar(int) {
	g.pick(`"m1"`, `"m2"`, `"g1"`, `"a"`, `"b"`, `7`, `0`, `-1.5`, `true`, `false`, `null`, `"t,}]"`, `"é\n"`, `"\\"`)
}

func (g *docGen) any(d int) {
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

// A document nested a million deep is walked with a stack of brackets,
// not a million nested calls.
func TestJSONPlan_DeepNesting(t *testing.T) {
	ex := trickyExtractor(t)
	const depth = 1_000_000
	doc := `{"list":[{"name":"x","d":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}],"n":1}`
	bugs := walkBugs.Load()
	res, err := ex.Extract("http://127.0.0.1/x", []byte(doc), "application/json", false)
	if err != nil {
		t.Fatal(err)
	}
	if walkBugs.Load() != bugs {
		t.Fatal("the walk panicked")
	}
	if got := res.Items[1].Records; len(got) != 1 || got[0].Values[0] != "x" {
		t.Errorf("elems: %v", got)
	}
	_, err = ex.Extract("http://127.0.0.1/x", []byte(doc[:len(doc)-10]), "application/json", false)
	if want := "unexpected page: the body is not valid JSON"; fmt.Sprint(err) != want {
		t.Errorf("cut short: error %v, want %q", err, want)
	}
}
