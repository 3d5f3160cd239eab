package config_test

import (
	"strings"
	"testing"

	"github.com/gather-crawler/gather/config"
)

// Mistakes a newcomer makes in a minute get a hint: another scraper's key
// for a selector, and a regex in a double-quoted YAML string.
func TestParse_HintsForCommonMistakes(t *testing.T) {
	parse := func(doc string) error {
		_, err := config.Parse("h.yaml", []byte(doc), func(string) (string, bool) { return "", false })
		return err
	}
	base := "database: x.db\ncrawl:\n  start: {urls: [\"http://127.0.0.1/\"]}\nitems:\n  pages:\n    fields:\n"
	err := parse(base + "      title: {selector: h1}\n")
	if err == nil || !strings.Contains(err.Error(), "items.pages.fields.title.selector: unknown key (did you mean css?)") {
		t.Errorf("selector: %v", err)
	}
	err = parse(base + "      n: {css: p, regex: \"(\\d+)\"}\n")
	if err == nil || !strings.Contains(err.Error(), "found unknown escape character") || !strings.Contains(err.Error(), "write regexes in single quotes ('\\d+')") {
		t.Errorf("double-quoted regex: %v", err)
	}
}
