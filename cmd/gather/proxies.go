package main

import (
	"fmt"
	"io"
	"os"

	"github.com/gather-crawler/gather/crawler/proxy"
)

// printProxies shows validate's reader which proxies the crawl goes
// through, passwords masked: crawl.proxy's, or the environment's.
func printProxies(w io.Writer, list []string) {
	for _, raw := range list {
		fmt.Fprintf(w, "proxy     %s\n", proxy.Redact(raw))
	}
	if len(list) > 0 {
		return
	}
	for _, name := range []string{"HTTPS_PROXY", "HTTP_PROXY"} {
		v := os.Getenv(name)
		if v == "" {
			v = os.Getenv(map[string]string{"HTTPS_PROXY": "https_proxy", "HTTP_PROXY": "http_proxy"}[name])
		}
		if v != "" {
			fmt.Fprintf(w, "proxy     %s (from %s)\n", proxy.Redact(v), name)
		}
	}
}
