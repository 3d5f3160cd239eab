package extract

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/config"
)

// A panic of extraction, which only a bug can cause, fails the page with
// its reason and is logged with its stack; the crawl goes on. In test
// binaries it panics, so that the test that met the bug fails.
func TestExtract_PanicFailsThePage(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(`database: x.db
crawl:
  name: x
  start: {urls: ["http://127.0.0.1/a"]}
items:
  page:
    fields:
      id: {url: "/(a)"}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	ex.log = slog.New(slog.NewTextHandler(&log, nil))
	ex.items[0].fields[0].urlRe = nil // as only a bug could leave it
	ex.strict = false
	_, err = ex.Extract("http://127.0.0.1/a", []byte("<p>x</p>"), "text/html", false)
	var pe *PageError
	if !errors.As(err, &pe) || !strings.HasPrefix(pe.Reason, "extraction failed on a bug in gather (runtime error: invalid memory address") {
		t.Errorf("error %v, want the page failed on a bug", err)
	}
	if l := log.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "url=http://127.0.0.1/a") || !strings.Contains(l, "stack=") {
		t.Errorf("log:\n%s\nwant the bug logged with the page and the stack", l)
	}
	ex.strict = true
	defer func() {
		if recover() == nil {
			t.Error("a strict extractor did not panic")
		}
	}()
	ex.Extract("http://127.0.0.1/a", []byte("<p>x</p>"), "text/html", false)
}
