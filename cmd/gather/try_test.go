package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// gather try fetches one page as a crawl would, prints each item's rows,
// the fields that matched nothing and the links a crawl would follow, and
// writes no database.
func TestTry_URLAndFile(t *testing.T) {
	var robots atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			robots.Add(1)
			fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
		case "/docs/a.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<html><head><base href="/docs/"></head><body><h1>Title <em>one</em></h1>
<h2>First</h2><h2>Second</h2><p class="n">Index</p>
<a href="b.html">b</a> <a href="https://elsewhere.example/">out</a></body></html>`)
		case "/docs/style.css":
			w.Header().Set("Content-Type", "text/css")
			fmt.Fprint(w, "h1{}")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "docs.yaml", fmt.Sprintf(`database: out.db
crawl:
  name: docs
  start: {urls: ["%s/docs/a.html"]}
  max_depth: 2
  follow: [{css: "a"}]
items:
  pages:
    fields:
      title: {css: h1}
      typo: {css: h9}
      n: {css: p.n, type: integer}
  sections:
    each: h2
    fields:
      text: {}
`, srv.URL))

	code, out, errOut := runGather(t, "try", "-c", cfgPath, srv.URL+"/docs/a.html")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"fate  ok (HTTP 200",
		"pages: 1 record", "Title one",
		"field typo                 matched nothing — check items.pages.fields.typo",
		`field n                    1 values did not convert to integer (e.g. "Index")`,
		"sections: 2 records", "First", "Second",
		"links to follow: 1\n  " + srv.URL + "/docs/b.html\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if robots.Load() != 1 {
		t.Errorf("robots.txt fetched %d times, want once", robots.Load())
	}
	if _, err := os.Stat(filepath.Join(dir, "out.db")); !os.IsNotExist(err) {
		t.Errorf("try wrote a database: %v", err)
	}

	code, out, _ = runGather(t, "try", "-c", cfgPath, "--format", "json", srv.URL+"/docs/a.html")
	var got struct {
		Status string
		Items  map[string][]map[string]any
		Fields map[string]map[string]struct{ Matched bool }
		Links  []string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if got.Status != "ok" || got.Items["sections"][1]["text"] != "Second" || got.Fields["pages"]["typo"].Matched || !got.Fields["pages"]["title"].Matched {
		t.Errorf("json: %+v", got)
	}

	// A page robots.txt forbids, a stylesheet and a 404 are not stored:
	// exit 1 with the reason a crawl would record.
	for path, want := range map[string]string{
		"/private/x.html":  "skipped: disallowed by robots.txt",
		"/docs/style.css":  "skipped (HTTP 200, 4 bytes): content type text/css",
		"/docs/gone.html":  "failed (HTTP 404, 19 bytes): HTTP 404 Not Found",
		"/docs/../../etc/": "failed",
	} {
		code, out, _ := runGather(t, "try", "-c", cfgPath, srv.URL+path)
		if code != 1 || !strings.Contains(out, "fate  "+want) {
			t.Errorf("%s: exit %d, want 1 and fate %q:\n%s", path, code, want, out)
		}
	}

	// A saved page is read as if served from --url.
	saved := writeFile(t, dir, "a.html", `<html><body><h1>Saved</h1><h2>Only</h2><a href="c.html">c</a></body></html>`)
	code, out, _ = runGather(t, "try", "-c", cfgPath, "--url", srv.URL+"/docs/a.html", saved)
	if code != 0 || !strings.Contains(out, "Saved") || !strings.Contains(out, srv.URL+"/docs/c.html") {
		t.Errorf("file: exit %d:\n%s", code, out)
	}
	if code, _, errOut := runGather(t, "try", "-c", cfgPath, filepath.Join(dir, "missing.html")); code != 2 || !strings.Contains(errOut, "neither an http(s) URL nor a readable file") {
		t.Errorf("missing file: exit %d: %s", code, errOut)
	}
}
