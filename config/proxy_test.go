package config_test

import (
	"slices"
	"strings"
	"testing"
)

// crawl.proxy takes one URL or a list, from the file or GATHER_CRAWL_PROXY;
// a bad one is named by its key path, its password masked.
func TestValidate_Proxy(t *testing.T) {
	one := strings.Replace(validYAML, "  name: test\n", "  name: test\n  proxy: http://u:s3cret@127.0.0.1:3128\n", 1)
	cfg, err := parse(t, one, nil)
	if err != nil || !slices.Equal(cfg.Crawl.Proxy, []string{"http://u:s3cret@127.0.0.1:3128"}) {
		t.Fatalf("one proxy: %v %q", err, cfg.Crawl.Proxy)
	}
	cfg, err = parse(t, validYAML, map[string]string{"GATHER_CRAWL_PROXY": "http://10.0.0.1:3128,socks5://10.0.0.2:1080"})
	if err != nil || len(cfg.Crawl.Proxy) != 2 {
		t.Fatalf("a list from the environment: %v %q", err, cfg.Crawl.Proxy)
	}
	list := strings.Replace(validYAML, "  name: test\n", "  name: test\n  proxy:\n    - http://10.0.0.1:3128\n    - ftp://u:s3cret@10.0.0.2:21\n", 1)
	_, err = parse(t, list, nil)
	wantProblem(t, err, "crawl.proxy[1]", "ftp://u:xxxxx@10.0.0.2:21: the scheme must be http://, https:// or socks5://")
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the password shows in %q", err)
	}
	socksAuth := strings.Replace(validYAML, "  name: test\n", "  name: test\n  fetch: auto\n  proxy: socks5://u:s3cret@10.0.0.2:1080\n", 1)
	_, err = parse(t, socksAuth, nil)
	wantProblem(t, err, "crawl.proxy", "Chromium (crawl.fetch auto) cannot give a SOCKS5 proxy credentials")
}
