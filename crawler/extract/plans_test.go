package extract

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler/extract/jsonplan"
	"github.com/gather-crawler/gather/crawler/extract/jsonplan/jsonplantest"
	"github.com/gather-crawler/gather/demo"
)

// These tests check that an extractor finds the same records, values and
// warnings with its JSON plans as without (gjson path by path). A bug of
// the walker panics in tests (see jsonplan.BugError), so it fails them.

// trickyConfig reads jsonplantest's documents through every kind of path
// the planner takes, and some it leaves to gjson.
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
	ex, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// extractBoth runs ex on the page with its plans and without, and fails
// the test when they disagree.
func extractBoth(t testing.TB, ex *Extractor, url string, body []byte, contentType string) *Result {
	t.Helper()
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
	for _, d := range jsonplantest.HandWritten() {
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
		doc := jsonplantest.Doc(rand.New(rand.NewPCG(uint64(seed), 7)))
		extractBoth(t, ex, "http://127.0.0.1/x", []byte(doc), "application/json")
	}
}

func TestJSONPlan_SameAsGJSON_ShippedConfigs(t *testing.T) {
	root := filepath.Join("..", "..")
	cfg, err := config.Load(filepath.Join(root, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(cfg, nil)
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

func TestJSONPlan_InvalidJSON(t *testing.T) {
	ex := trickyExtractor(t)
	for _, d := range jsonplantest.Invalid() {
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
	shipped, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = shipped.Extract("https://www.imdb.com/title/tt0120338/fullcredits", body, "text/html", false)
	if want := "unexpected page: the text of script#__NEXT_DATA__ is not valid JSON"; fmt.Sprint(err) != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// A document nested a million deep is walked with a stack of brackets,
// not a million nested calls; only items with gjson modifiers refuse it
// (see maxModifierDepth).
func TestJSONPlan_DeepNesting(t *testing.T) {
	const depth = 1_000_000
	doc := `{"list":[{"name":"x","d":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}],"n":1}`
	_, err := trickyExtractor(t).Extract("http://127.0.0.1/x", []byte(doc), "application/json", false)
	if want := "unexpected page: JSON nested deeper than 1000 levels, which paths with gjson modifiers do not read"; fmt.Sprint(err) != want {
		t.Errorf("with a modifier: error %v, want %q", err, want)
	}
	cfg, err := config.Parse("tricky.yaml", []byte(strings.Replace(trickyConfig, "mod:    {json: 'list.@reverse'}", "mod:    {json: 'list'}", 1)),
		func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Extract("http://127.0.0.1/x", []byte(doc), "application/json", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Items[1].Records; len(got) != 1 || got[0].Values[0] != "x" {
		t.Errorf("elems: %v", got)
	}
	_, err = ex.Extract("http://127.0.0.1/x", []byte(doc[:len(doc)-10]), "application/json", false)
	if want := "unexpected page: the body is not valid JSON"; fmt.Sprint(err) != want {
		t.Errorf("cut short: error %v, want %q", err, want)
	}
}

// A walker bug is logged once per plan and path, with the path and the
// page, however many pages meet it; a document handed back is not a bug.
func TestExtractor_WalkerBugLoggedOncePerPath(t *testing.T) {
	ex := trickyExtractor(t)
	var buf bytes.Buffer
	ex.log = slog.New(slog.NewTextHandler(&buf, nil))
	all := ex.plans.get(ex, "", 1<<len(ex.items)-1)
	some := ex.plans.get(ex, "", 1)
	bug := func(path string) *jsonplan.BugError {
		return &jsonplan.BugError{Path: path, Value: "boom", Stack: []byte("stack")}
	}
	ex.logBug(all, "http://127.0.0.1/1", bug("list.#.name"))
	ex.logBug(all, "http://127.0.0.1/2", bug("list.#.name"))
	ex.logBug(all, "http://127.0.0.1/3", bug("groups.#.id"))
	ex.logBug(some, "http://127.0.0.1/4", bug("list.#.name"))
	ex.logBug(some, "http://127.0.0.1/5", jsonplan.ErrFallback) // a document, not a bug
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines logged, want 3:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{"path=list.#.name url=http://127.0.0.1/1", "path=groups.#.id url=http://127.0.0.1/3",
		"path=list.#.name url=http://127.0.0.1/4"} {
		if !strings.Contains(lines[i], "level=ERROR") || !strings.Contains(lines[i], want) {
			t.Errorf("line %d: %s\nwant an error with %s", i, lines[i], want)
		}
	}
}
