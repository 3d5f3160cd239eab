package config_test

import (
	"fmt"

	"github.com/gather-crawler/gather/config"
)

// A config read from YAML, with an environment override (GATHER_ and the
// key path), and a broken one: the error names each key and what is wrong
// with it, before anything is fetched.
func ExampleParse() {
	env := map[string]string{"GATHER_CRAWL_PARALLELISM": "4"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := config.Parse("job.yaml", []byte(`
crawl:
  name: films
  start:
    url_template: "https://example.org/title/{id}/fullcredits"
    ids: [tt0137523, tt0068646]
items:
  films:
    key: [id]
    fields:
      id: {url: "/title/(tt[0-9]+)/"}
      title: {css: h1}
`), lookup)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Crawl.Name, cfg.Crawl.Parallelism, cfg.ItemOrder)

	_, err = config.Parse("broken.yaml", []byte(`
crawl:
  name: films
  parallelism: -1
  start: {urls: ["https://example.org/"]}
items:
  films:
    fields:
      title: {css: "h1["}
`), func(string) (string, bool) { return "", false })
	fmt.Println(err)
	// Output:
	// films 4 [films]
	// broken.yaml: crawl.parallelism: must be at least 1, got -1
	// broken.yaml: items.films.fields.title.css: invalid selector "h1[": expected identifier, found EOF instead
}
