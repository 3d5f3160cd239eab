package config_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/config"
)

// The README's tour configs are valid: what a newcomer copies first must
// load (the value processors it shows included).
func TestReadme_TourConfigsLoad(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(# [a-z]+\\.yaml.*?)```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) < 2 {
		t.Fatalf("found %d tour configs in the README", len(blocks))
	}
	for _, m := range blocks {
		name := strings.Fields(m[1])[1]
		if _, err := config.Parse(name, []byte(m[1]), func(string) (string, bool) { return "", false }); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
