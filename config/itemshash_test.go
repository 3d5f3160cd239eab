package config_test

import (
	"testing"

	"github.com/gather-crawler/gather/config"
)

// An upgrade must not change the items' version of a config that does not
// use what the upgrade added (value processors): a changed ItemsHash
// fetches every stored page again. The hash below is what gather computed
// for this config before process existed.
func TestItemsHash_StableWithoutProcess(t *testing.T) {
	cfg, err := config.Parse("h.yaml", []byte(`database: x.db
crawl:
  start: {urls: ["http://127.0.0.1/"]}
  max_depth: 2
  follow: [{css: a}]
items:
  pages:
    each: li
    fields:
      title: {css: h1, required: true}
      n: {css: p, type: integer, all: true, default: 0}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ItemsHash(); got != "9c1451642470e789" {
		t.Errorf("ItemsHash %s, want %s as before", got, "9c1451642470e789")
	}
}
