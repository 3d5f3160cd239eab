package extract_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler/extract"
)

// inChild runs f in a child test process whose goroutines may use at most
// 64 MB of stack: a page that makes extraction recurse once per level of
// nesting then crashes the child with a stack overflow, which fails this
// test, instead of crashing the test binary (or, at the default 1 GB
// limit, taking gigabytes first).
func inChild(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	if os.Getenv("GATHER_EXTRACT_CHILD") == t.Name() {
		debug.SetMaxStack(64 << 20)
		f(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "GATHER_EXTRACT_CHILD="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		if len(out) > 3000 {
			out = append(out[:1500:1500], append([]byte("\n…\n"), out[len(out)-1500:]...)...)
		}
		t.Fatalf("the test crashed or failed in its child process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("the child process did not run the test:\n%s", out)
	}
}

// within fails the test when f has not returned after d: a hang on today's
// code fails in bounded time (f's goroutine is left running).
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still extracting after %s", d)
	}
}

// Documents nested a million deep, wherever gather checks that text is
// JSON: as a body taken for JSON by its look, as a JSON body read without
// a plan, and as a type json field. Each check once recursed per level
// (gjson.Valid) and overflowed the stack; a page must end ok or failed.
func TestBounds_DeepJSONDoesNotRecurse(t *testing.T) {
	inChild(t, func(t *testing.T) {
		const depth = 1_000_000
		deep := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		cfg := itemsConfig(t, `  doc:
    url: /doc
    fields:
      first: {json: "0|#"}
  html:
    url: /html
    fields:
      js: {css: p, type: json}
`)
		ex := mustExtractor(t, cfg)
		for _, c := range []struct{ url, ctype, body string }{
			{"http://127.0.0.1/doc", "text/plain", deep},
			{"http://127.0.0.1/doc", "application/json", deep},
			{"http://127.0.0.1/doc", "text/plain", strings.Repeat("[", 2*depth)},
			{"http://127.0.0.1/html", "text/html", "<p>" + deep + "</p>"},
			{"http://127.0.0.1/html", "text/html", "<p>" + deep[:len(deep)-1] + "</p>"},
		} {
			_, err := ex.Extract(c.url, []byte(c.body), c.ctype, false)
			var pe *extract.PageError
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("%s %s: %v, want ok or a page error", c.url, c.ctype, err)
			}
		}
	})
}

// A page whose extraction takes too long fails with that reason, however
// the time goes: here an XPath quadratic in the page.
func TestBounds_Deadline(t *testing.T) {
	cfg := parseConfig(t, `database: x.db
crawl:
  name: x
  start: {urls: ["http://127.0.0.1/a"]}
  extract_timeout: 50ms
items:
  page:
    fields:
      pairs: {xpath: "count(//a/following::a)", type: integer}
`)
	ex := mustExtractor(t, cfg)
	body := "<html><body>" + strings.Repeat("<a>x</a>", 8000) + "</body></html>"
	within(t, 5*time.Second, func() {
		start := time.Now()
		_, err := ex.Extract("http://127.0.0.1/a", []byte(body), "text/html", false)
		var pe *extract.PageError
		if !errors.As(err, &pe) || pe.Reason != "extraction exceeded 50ms (crawl.extract_timeout)" {
			t.Errorf("error %v, want the page failed for extract_timeout", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %s to stop at a 50ms deadline", took)
		}
	})
}

// Cancelling the run reaches extraction: it stops, and says the page was
// not judged (no PageError), so the page stays pending.
func TestBounds_Cancel(t *testing.T) {
	cfg := itemsConfig(t, `  page:
    fields:
      pairs: {xpath: "count(//a/following::a)", type: integer}
`)
	ex := mustExtractor(t, cfg)
	body := []byte("<html><body>" + strings.Repeat("<a>x</a>", 20000) + "</body></html>")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("received terminated"))
	if _, err := ex.ExtractContext(ctx, "http://127.0.0.1/a", body, "text/html", false); fmt.Sprint(err) != "received terminated" {
		t.Errorf("cancelled before: error %v, want the cause", err)
	}
	ctx, cancel = context.WithCancelCause(context.Background())
	time.AfterFunc(50*time.Millisecond, func() { cancel(errors.New("received terminated")) })
	within(t, 5*time.Second, func() {
		start := time.Now()
		_, err := ex.ExtractContext(ctx, "http://127.0.0.1/a", body, "text/html", false)
		var pe *extract.PageError
		if err == nil || errors.As(err, &pe) {
			t.Errorf("cancelled during: error %v, want the cause", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %s to stop once cancelled", took)
		}
	})
}

// A value larger than max_value_size is dropped with a warning, from every
// kind of source; a required field then drops its record, a field with a
// default takes it, and the field still counts as matched.
func TestBounds_MaxValueSize(t *testing.T) {
	cfg := parseConfig(t, `database: x.db
crawl:
  name: x
  start: {urls: ["http://127.0.0.1/a"]}
  max_value_size: 1KB
items:
  html:
    url: /a
    each: li
    fields:
      text: {}
      big: {css: p, default: none}
      all: {css: span, all: true}
      need: {css: i, required: true}
  doc:
    url: /b
    each: {json: list}
    fields:
      s: {json: s}
      all: {json: tags, all: true}
`)
	ex := mustExtractor(t, cfg)
	big := strings.Repeat("x", 1500)
	spans := strings.Repeat("<span>"+strings.Repeat("y", 100)+"</span>", 20)
	body := `<ul><li><p>` + big + `</p><i>ok</i></li><li>` + spans + `<i>` + big + `</i></li><li><i>small</i></li></ul>`
	res, err := ex.Extract("http://127.0.0.1/a", []byte(body), "text/html", false)
	if err != nil {
		t.Fatal(err)
	}
	recs := records(t, cfg, res, "html")
	if len(recs) != 2 || recs[0]["big"] != "none" || recs[0]["text"] != nil || recs[1]["need"] != "small" {
		t.Errorf("records %v\nwant the first with big dropped (default none, text too large), the second dropped for its required field", recs)
	}
	for _, w := range []string{"text: a value larger than crawl.max_value_size (1KiB) dropped", "big: a value larger", "all: a value larger", "need: a value larger", "record without required need dropped"} {
		if !strings.Contains(strings.Join(res.Warnings, "\n"), "html: "+w) {
			t.Errorf("no warning %q in\n%s", w, strings.Join(res.Warnings, "\n"))
		}
	}
	if f := res.Items[0].Fields; !f[1].Matched || !f[2].Matched {
		t.Errorf("field stats %+v: a value dropped for its size still matched", f)
	}
	doc := fmt.Sprintf(`{"list":[{"s":%q,"tags":["a","b"]},{"s":"short","tags":[%s"z"]}]}`, big, strings.Repeat(`"tttttttttt",`, 200))
	res, err = ex.Extract("http://127.0.0.1/b", []byte(doc), "application/json", false)
	if err != nil {
		t.Fatal(err)
	}
	recs = records(t, cfg, res, "doc")
	if len(recs) != 2 || recs[0]["s"] != nil || recs[0]["all"] != `["a","b"]` || recs[1]["s"] != "short" || recs[1]["all"] != nil {
		t.Errorf("records %v", recs)
	}
}

// What a page yields in all is bounded too: here each of 400 nested
// elements is its own record, holding the whole page's text.
func TestBounds_PageYield(t *testing.T) {
	cfg := parseConfig(t, `database: x.db
crawl:
  name: x
  start: {urls: ["http://127.0.0.1/a"]}
  max_body_size: 256KB
items:
  nest:
    each: div
    fields:
      text: {}
`)
	ex := mustExtractor(t, cfg)
	body := strings.Repeat("<div>", 400) + strings.Repeat("z", 100_000) + strings.Repeat("</div>", 400)
	_, err := ex.Extract("http://127.0.0.1/a", []byte(body), "text/html", false)
	var pe *extract.PageError
	if !errors.As(err, &pe) || pe.Reason != "extraction yielded more than 1MiB of values and links (4 × crawl.max_body_size)" {
		t.Errorf("error %v, want the page failed for what it yields", err)
	}
}

// A document read by a path with a gjson modifier may nest 1000 levels;
// deeper, the page fails before any modifier runs.
func TestBounds_ModifierDepth(t *testing.T) {
	cfg := itemsConfig(t, `  page:
    fields:
      rev: {json: "a|@reverse", type: json}
`)
	ex := mustExtractor(t, cfg)
	nest := func(d int) string { return `{"a":[1,` + strings.Repeat("[", d) + strings.Repeat("]", d) + `]}` }
	res, err := ex.Extract("http://127.0.0.1/a", []byte(nest(990)), "application/json", false)
	if err != nil || !strings.HasPrefix(fmt.Sprint(res.Items[0].Records[0].Values[0]), "[[[") {
		t.Errorf("990 levels: %v, %v", err, res)
	}
	_, err = ex.Extract("http://127.0.0.1/a", []byte(nest(1000)), "application/json", false)
	if want := "unexpected page: JSON nested deeper than 1000 levels, which paths with gjson modifiers do not read"; fmt.Sprint(err) != want {
		t.Errorf("1001 levels: error %v, want %q", err, want)
	}
}

// An extractor built from a config that skipped validation refuses the
// modifiers validation refuses.
func TestBounds_UnsafeModifierRefusedByNew(t *testing.T) {
	cfg := itemsConfig(t, `  page:
    fields:
      x: {json: a}
`)
	f := cfg.Items["page"].Fields["x"]
	f.JSON = "a|@pretty"
	cfg.Items["page"].Fields["x"] = f
	if _, err := extract.New(cfg, nil); err == nil || !strings.Contains(err.Error(), "items.page: fields.x: the gjson modifier @pretty is not allowed") {
		t.Errorf("New: %v, want @pretty refused", err)
	}
}

// json_from's quick scan for an id reads each byte about once: a page that
// is nothing but the id, in or out of tags, is no quadratic hang.
func TestBounds_ScanForIDIsLinear(t *testing.T) {
	cfg := itemsConfig(t, `  page:
    json_from: "script#__NEXT_DATA__"
    fields:
      a: {json: a}
`)
	ex := mustExtractor(t, cfg)
	const n = 200_000
	for name, body := range map[string]string{
		"bare":   strings.Repeat("__NEXT_DATA__ ", n),
		"in tag": "<x " + strings.Repeat("__NEXT_DATA__ ", n),
		"tags":   strings.Repeat("<__NEXT_DATA__", n),
	} {
		within(t, 5*time.Second, func() {
			if _, err := ex.Extract("http://127.0.0.1/a", []byte(body), "text/html", false); fmt.Sprint(err) != "unexpected page: no match for script#__NEXT_DATA__" {
				t.Errorf("%s: error %v", name, err)
			}
		})
	}
	body := strings.Repeat("<x __NEXT_DATA__ ", 1000) + `><script id="__NEXT_DATA__">{"a":"real"}</script>`
	res, err := ex.Extract("http://127.0.0.1/a", []byte(body), "text/html", false)
	if err != nil || res.Items[0].Records[0].Values[0] != "real" {
		t.Errorf("%v, %v; want the script after the tags that mention its id", err, res)
	}
}
