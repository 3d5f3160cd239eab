package gather

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The rules of the house (docs/architecture.md), held by what `go list`
// says the packages import, so that a change that breaks one fails here
// rather than in a review.
func TestArchitecture(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	deps := func(pkg string) map[string]bool {
		t.Helper()
		out, err := exec.Command("go", "list", "-deps", "./"+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v", pkg, err)
		}
		m := map[string]bool{}
		for _, l := range strings.Fields(string(out)) {
			m[l] = true
		}
		return m
	}
	imports := func(pkg string) []string {
		t.Helper()
		out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, "./"+pkg).Output()
		if err != nil {
			t.Fatalf("go list ./%s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	never := func(pkg string, forbidden ...string) {
		t.Helper()
		for d := range deps(pkg) {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s links %s (through its imports): it must not", pkg, d)
				}
			}
		}
	}
	const (
		viper    = "github.com/spf13/viper"
		cobra    = "github.com/spf13/cobra"
		colly    = "github.com/gocolly/colly/v2"
		chromedp = "github.com/chromedp/chromedp"
		redis    = "github.com/redis/go-redis/v9"
		plot     = "gonum.org/v1/plot"
		mod      = "github.com/gather-crawler/gather/"
	)
	// crawler reads a config (whose loading uses viper) but never viper
	// or cobra itself; storage knows no config at all.
	for _, pkg := range []string{"crawler/...", "storage/..."} {
		for _, imp := range imports(pkg) {
			if imp == viper || imp == cobra {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
	never("storage/...", viper, cobra, mod+"config", colly)
	// The WARC archive is a room of its own: the crawl hands it exchanges,
	// re-extraction reads records; it knows no engine, config or database.
	never("crawler/archive", viper, cobra, colly, chromedp, redis, mod+"config", mod+"storage")
	// robots.txt, sitemaps and the re-fetch policy are rooms of their own:
	// robots fetches over any RoundTripper; sitemap only decodes; refetch
	// is pure over a page's record.
	never("crawler/robots", viper, cobra, colly, chromedp, redis, mod+"config", mod+"storage", mod+"crawler/extract")
	never("crawler/sitemap", viper, cobra, colly, chromedp, redis, mod)
	never("crawler/refetch", viper, cobra, colly, chromedp, redis, mod+"config")
	// The fetch chain is a room of its own: crawler assembles it from the
	// config and plugs it under colly; it knows neither of them, nor the
	// database.
	never("crawler/fetch", viper, cobra, colly, redis, mod+"config", mod+"storage", mod+"crawler/extract", mod+"frontier")
	// gather serve reads the database and a progress snapshot; it fetches
	// nothing and reads no config file.
	never("serve", colly, chromedp, viper, redis)
	for d := range deps("crawler/progress") {
		if strings.HasPrefix(d, mod) && d != mod+"crawler/progress" {
			t.Errorf("crawler/progress links %s: it is a leaf", d)
		}
	}
	// The scheduler is given the shared-crawl runner; it opens no Redis.
	never("schedule", redis, mod+"frontier", mod+"crawler/scaleout")
	// The shipped binary does not carry the benchmarks' charts.
	never("cmd/gather", plot)
}

// colly is the engine, in one room: of crawler's files only engine.go
// imports it, so that each of colly's settings gather works around is set
// in one place, with why, and the rest of the run sees no colly type.
func TestCollyInOneFile(t *testing.T) {
	files, err := filepath.Glob("crawler/*.go")
	if err != nil {
		t.Fatal(err)
	}
	var importers []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			if strings.Trim(imp.Path.Value, `"`) == "github.com/gocolly/colly/v2" {
				importers = append(importers, f)
			}
		}
	}
	if len(importers) != 1 || importers[0] != "crawler/engine.go" {
		t.Errorf("files of crawler importing colly: %v; want crawler/engine.go alone", importers)
	}
}

// The frontier is Redis and nothing else: the crawl (crawler.Crawler),
// the database (storage.Store, storage.Writer) and the config are met in
// scaleout, which runs the seeding, the sink and a scheduled run over it.
// It uses only the types of what it carries (crawler.Task and Link,
// storage.Page).
func TestFrontierIsAnAdapter(t *testing.T) {
	files, err := filepath.Glob("frontier/*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := map[string]bool{"crawler.Crawler": true, "storage.Store": true, "storage.Writer": true,
		"storage.Lease": true, "crawler.New": true, "storage.Open": true}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			if p := strings.Trim(imp.Path.Value, `"`); p == "github.com/gather-crawler/gather/config" || p == "github.com/gather-crawler/gather/crawler/scaleout" {
				t.Errorf("%s imports %s: the frontier knows no config and no run mode", f, p)
			}
		}
		ast.Inspect(af, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && forbidden[id.Name+"."+sel.Sel.Name] {
				t.Errorf("%s: %s uses %s.%s: the frontier is Redis only (scaleout meets the crawl and the database)",
					f, fset.Position(sel.Pos()), id.Name, sel.Sel.Name)
			}
			return true
		})
	}
}

// docs/architecture.md names every package of the module, so that a new
// room is described where a newcomer looks for it.
func TestArchitectureDocNamesEveryPackage(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command("go", "list", "./...").Output()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	const mod = "github.com/gather-crawler/gather"
	for _, pkg := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, mod), "/")
		if rel == "" {
			continue // the module's root: embed.go and this test
		}
		if !strings.Contains(string(doc), rel) {
			t.Errorf("docs/architecture.md does not name %s", rel)
		}
	}
}
