package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// gather try names, with its key, what a crawl would store less of than
// the config says: a follow rule anchored to the path, an each selector
// with a typo, a record dropped for a missing required field. Its JSON
// keeps every key, and list values are arrays.
func TestTry_NamesSilences(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><body><h1>Index</h1><a href="/sql-select.html">SELECT</a>
<ul><li><b>x</b> one</li><li>two</li></ul></body></html>`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "docs.yaml", fmt.Sprintf(`database: out.db
crawl:
  start: {urls: ["%s/"]}
  max_depth: 2
  follow: [{css: "a[href]", match: '^/sql-.*'}]
items:
  rows:
    each: "ul > lj"
    fields:
      text: {}
  entries:
    each: "li"
    fields:
      bold: {css: b, required: true}
  page:
    fields:
      items: {css: li, all: true}
`, srv.URL))
	code, out, errOut := runGather(t, "try", "-c", cfgPath, srv.URL+"/")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		`crawl.follow[0].match: "^/sql-.*" matched none of the 1 links its css selected`,
		`"` + srv.URL + `/sql-select.html" does not match`,
		`items.rows.each.css: "ul > lj" selected nothing`,
		`items.entries.fields.bold: 1 record dropped for lacking this required field`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runGather(t, "try", "-c", cfgPath, "--format", "json", srv.URL+"/")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, k := range []string{"url", "status", "reason", "http_status", "bytes", "items", "fields", "warnings", "links"} {
		if _, ok := got[k]; !ok {
			t.Errorf("json lacks key %q:\n%s", k, out)
		}
	}
	if ws, _ := got["warnings"].([]any); len(ws) < 3 {
		t.Errorf("json warnings %v, want the three silences", got["warnings"])
	}
	page := got["items"].(map[string]any)["page"].([]any)[0].(map[string]any)
	if list, ok := page["items"].([]any); !ok || len(list) != 2 || list[0] != "x one" {
		t.Errorf("all: true value is %#v, want a JSON array", page["items"])
	}
}
