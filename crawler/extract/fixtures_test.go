package extract_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler/extract"
)

// requireFixturesEnv turns a missing ../shared/fixtures folder from a skip
// into a failure; CI sets it so the real-page tests always run there.
const requireFixturesEnv = "GATHER_REQUIRE_FIXTURES"

// repoRoot is the directory holding go.mod.
func repoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// fixture reads a saved IMDB page from ../shared/fixtures (or
// $GATHER_FIXTURES), skipping when it is absent, as in a user's clone.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	dir := os.Getenv("GATHER_FIXTURES")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "..", "shared", "fixtures")
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		if os.Getenv(requireFixturesEnv) != "" {
			t.Fatalf("fixture %s is required (%s is set): %v", name, requireFixturesEnv, err)
		}
		t.Skipf("fixture %s not available (%v); set GATHER_FIXTURES to the fixtures folder", name, err)
	}
	return b
}

// nextDataPage wraps __NEXT_DATA__ JSON the way the live site serves it.
func nextDataPage(js []byte) []byte {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html><head><title>Full cast</title></head><body><div id="root">hello</div>`)
	b.WriteString(`<script id="__NEXT_DATA__" type="application/json">`)
	b.Write(js)
	b.WriteString(`</script></body></html>`)
	return []byte(b.String())
}

func loadConfig(t testing.TB, rel string) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatalf("load %s: %v", rel, err)
	}
	return cfg
}

func mustExtractor(t testing.TB, cfg *config.Config) *extract.Extractor {
	t.Helper()
	ex, err := extract.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// records returns the named item's records as maps of field to value.
func records(t testing.TB, cfg *config.Config, res *extract.Result, item string) []map[string]any {
	t.Helper()
	for _, ir := range res.Items {
		if ir.Name != item {
			continue
		}
		var out []map[string]any
		for _, r := range ir.Records {
			m := map[string]any{"_index": r.Index}
			for i, f := range cfg.Items[item].FieldOrder {
				m[f] = r.Values[i]
			}
			out = append(out, m)
		}
		return out
	}
	t.Fatalf("no item %q in result", item)
	return nil
}
