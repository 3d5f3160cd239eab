package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/gather-crawler/gather/config"
)

// The modifiers a page can make run away are refused wherever they stand in
// a path; keys that only look like them, and the modifiers that read their
// value once, pass.
func TestJSONModifierProblem(t *testing.T) {
	refused := map[string]string{
		"a|@pretty":                          "@pretty",
		"@pretty":                            "@pretty",
		"a.@pretty":                          "@pretty",
		`a|@pretty:{"indent":"\t"}`:          "@pretty",
		"a|@dig:name":                        "@dig",
		"props.@group":                       "@group",
		"a|@valid":                           "@valid",
		`a|@flatten:{"deep":true}`:           "@flatten",
		`a|@flatten:{"deep":false,"deep":1}`: "@flatten",
		"[a,@pretty]":                        "@pretty",
		`{"x":b|@dig:c}`:                     "@dig",
		"a.#(@pretty==1)":                    "@pretty",
		"a|@fromstr|@pretty":                 "@pretty",
	}
	for path, name := range refused {
		err := config.JSONModifierProblem(path)
		if err == nil || !strings.Contains(err.Error(), name+" is not allowed") {
			t.Errorf("%s: %v, want %s refused", path, err, name)
		}
	}
	allowed := []string{
		"a.b", "@type", "a.@context", "a|@reverse", "a|@this", "a|@ugly", "a|@flatten",
		`a|@flatten:{"deep":false}`, "a|@join", "a|@keys", "a|@values", "a|@tostr", "a|@fromstr|b",
		`a\.@pretty`, `\@pretty`, `a.#(name=="@pretty")`, `{"@dig":a}`, "user@pretty", "a.@pretty-x",
	}
	for _, path := range allowed {
		if err := config.JSONModifierProblem(path); err != nil {
			t.Errorf("%s: %v, want allowed", path, err)
		}
	}
}

// Every modifier gjson has is judged: one it gains later is refused until
// someone decides whether a page can make it run away.
func TestJSONModifierProblem_EveryModifierJudged(t *testing.T) {
	for _, name := range []string{"pretty", "ugly", "reverse", "this", "flatten", "join", "valid", "keys", "values", "tostr", "fromstr", "group", "dig"} {
		if !gjson.ModifierExists(name, nil) {
			t.Errorf("gjson no longer has @%s: update config/modifiers.go", name)
		}
	}
	gjson.AddModifier("gathertest", func(json, _ string) string { return json })
	if err := config.JSONModifierProblem("a|@gathertest"); err == nil || !strings.Contains(err.Error(), "does not know") {
		t.Errorf("an unjudged modifier: %v, want refused", err)
	}
}

func TestParse_UnsafeModifierRefused(t *testing.T) {
	doc := strings.Replace(validYAML, `title: {css: "h1"}`, `title: {json: "props|@pretty"}`, 1)
	_, err := parse(t, doc, nil)
	wantProblem(t, err, "items.movies.fields.title.json", "@pretty is not allowed")
}

// Extraction's bounds default to 10s and 1 MB a value, and must be set to
// something: zero would mean no extraction at all, not no bound.
func TestParse_ExtractionBounds(t *testing.T) {
	cfg, err := parse(t, validYAML, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Crawl.ExtractTimeout != 10*time.Second || cfg.Crawl.MaxValueSize != 1<<20 {
		t.Errorf("extract_timeout %s, max_value_size %d; want 10s and 1 MiB", cfg.Crawl.ExtractTimeout, cfg.Crawl.MaxValueSize)
	}
	cfg, err = parse(t, validYAML, map[string]string{"GATHER_CRAWL_EXTRACT_TIMEOUT": "2m", "GATHER_CRAWL_MAX_VALUE_SIZE": "64KB"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Crawl.ExtractTimeout != 2*time.Minute || cfg.Crawl.MaxValueSize != 64<<10 {
		t.Errorf("overridden: %s, %d", cfg.Crawl.ExtractTimeout, cfg.Crawl.MaxValueSize)
	}
	for key, val := range map[string]string{"extract_timeout": "0s", "max_value_size": "0"} {
		_, err := parse(t, strings.Replace(validYAML, "  name: test\n", "  name: test\n  "+key+": "+val+"\n", 1), nil)
		wantProblem(t, err, "crawl."+key, "must be more than 0")
	}
}

func TestHasJSONModifier(t *testing.T) {
	for path, want := range map[string]bool{
		"a.b": false, "@type": false, "a.@context": false, `a.#(x=="@this")`: false, `\@this`: false,
		"a|@reverse": true, "@this": true, "[a,b|@keys]": true, "a|@fromstr|b": true,
	} {
		if got := config.HasJSONModifier(path); got != want {
			t.Errorf("HasJSONModifier(%q) = %v, want %v", path, got, want)
		}
	}
}
