package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A field with all: true, and one of type json, come out of gather query's
// JSON formats as JSON values, not strings holding JSON; CSV keeps their
// text.
func TestQuery_ListsAreLists(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><body><h1>T</h1><ul><li>a</li><li>b "c"</li></ul><p class="price">Price: £1,051.77</p><p class="tags">Poetry; Classics</p><script id="d" type="application/json">{"k": [1, 2]}</script></body></html>`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "lists.yaml", fmt.Sprintf(`database: lists.db
crawl:
  start: {urls: ["%s/"]}
items:
  page:
    fields:
      title: h1
      cells: {css: li, all: true}
      data: {css: "script#d", type: json}
      price: {css: .price, process: [number]}
      tags: {css: .tags, process: [{split: ";"}, lower]}
`, srv.URL))
	if code, out, errOut := runGather(t, "crawl", "-c", cfgPath); code != exitOK {
		t.Fatalf("crawl: %d\n%s\n%s", code, out, errOut)
	}
	q := "SELECT title, cells, data FROM page"
	for _, format := range []string{"json", "jsonl"} {
		code, out, errOut := runGather(t, "query", "-c", cfgPath, "--format", format, q)
		if code != exitOK {
			t.Fatalf("%s: %d %s", format, code, errOut)
		}
		out = strings.TrimSpace(out)
		if format == "json" {
			out = strings.TrimSuffix(strings.TrimPrefix(out, "["), "]")
		}
		var row map[string]any
		if err := json.Unmarshal([]byte(out), &row); err != nil {
			t.Fatalf("%s: %v\n%s", format, err, out)
		}
		cells, ok := row["cells"].([]any)
		if !ok || len(cells) != 2 || cells[1] != `b "c"` {
			t.Errorf("%s: cells is %#v, want a JSON array: %s", format, row["cells"], out)
		}
		if data, ok := row["data"].(map[string]any); !ok || len(data["k"].([]any)) != 2 {
			t.Errorf("%s: data is %#v, want a JSON object: %s", format, row["data"], out)
		}
		if row["title"] != "T" {
			t.Errorf("%s: title %#v", format, row["title"])
		}
	}
	// Value processors: the crawl stored what gather try shows.
	code, out, errOut := runGather(t, "query", "-c", cfgPath, "--format", "jsonl", "SELECT price, tags FROM page")
	if code != exitOK || strings.TrimSpace(out) != `{"price":1051.77,"tags":["poetry","classics"]}` {
		t.Errorf("processed values stored as %s %s", out, errOut)
	}
	code, tryOut, _ := runGather(t, "try", "-c", cfgPath, "--format", "json", srv.URL+"/")
	var tried struct {
		Items map[string][]map[string]any `json:"items"`
	}
	if code != exitOK || json.Unmarshal([]byte(tryOut), &tried) != nil || len(tried.Items["page"]) != 1 {
		t.Fatalf("try: %d %s", code, tryOut)
	}
	if rec := tried.Items["page"][0]; rec["price"] != 1051.77 || fmt.Sprint(rec["tags"]) != "[poetry classics]" {
		t.Errorf("try shows %v, the crawl stored %s", rec, out)
	}
	code, out, _ = runGather(t, "query", "-c", cfgPath, "--format", "csv", q)
	if code != exitOK || !strings.Contains(out, `"[""a"",""b \""c\""""]"`) {
		t.Errorf("csv: %d %q", code, out)
	}
}
