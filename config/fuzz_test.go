package config_test

import (
	"testing"

	"github.com/gather-crawler/gather/config"
)

// A config is a user's file: whatever it holds, loading must not panic,
// and a config that loads must validate to an answer (the ids_file it
// names is looked for, so the seeds name none).
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"crawl:\n  start:\n    urls: [\"http://127.0.0.1/a\"]\nitems:\n  p:\n    fields:\n      t: {css: title}\n",
		"database: out.db\ncrawl:\n  name: x\n  parallelism: 0\n  timeout: 10\n  max_body_size: 1XB\n",
		"crawl:\n  start:\n    url_template: \"http://h/{id}\"\n    ids: [a, b]\nitems:\n  m:\n    key: [id]\n    each: {css: tr}\n    fields:\n      id: {css: td, regex: '(\\d+)', type: integer}\n",
		"items: [1, 2]\n",
		"crawl: {follow: [{css: 'a[', match: '('}]}\n",
		"\t- not yaml: [",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse("fuzz.yaml", data, func(string) (string, bool) { return "", false })
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error that says nothing")
			}
			return
		}
		if cfg.Crawl.Start.IDsFile != "" {
			return // validation would read a file the input names
		}
		_ = cfg.Validate()
	})
}
