package main

import (
	"strings"
	"testing"
)

// validate shows the crawl's proxies with their passwords masked, the
// environment's when crawl.proxy is empty.
func TestValidate_ShowsProxiesMasked(t *testing.T) {
	dir := t.TempDir()
	doc := strings.Replace(crawlYAML("http://127.0.0.1:9"), "  parallelism: 2\n", "  parallelism: 2\n  proxy: [\"http://u:s3cret@10.0.0.5:3128\", \"socks5://10.0.0.6:1080\"]\n", 1)
	cfg := writeFile(t, dir, "job.yaml", doc)
	code, out, errOut := runGather(t, "validate", "-c", cfg)
	if code != exitOK || !strings.Contains(out, "proxy     http://u:xxxxx@10.0.0.5:3128\n") || !strings.Contains(out, "proxy     socks5://10.0.0.6:1080\n") || strings.Contains(out, "s3cret") {
		t.Errorf("validate: %d\n%s%s", code, out, errOut)
	}
	t.Setenv("HTTPS_PROXY", "http://u:s3cret@10.0.0.7:3128")
	code, out, _ = runGather(t, "validate", "-c", writeFile(t, dir, "plain.yaml", crawlYAML("http://127.0.0.1:9")))
	if code != exitOK || !strings.Contains(out, "proxy     http://u:xxxxx@10.0.0.7:3128 (from HTTPS_PROXY)\n") {
		t.Errorf("validate with HTTPS_PROXY: %d\n%s", code, out)
	}
}
