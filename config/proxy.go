package config

import (
	"fmt"

	"github.com/gather-crawler/gather/crawler/proxy"
)

// validateProxy checks crawl.proxy without sending anything. Its messages
// show each URL with the password replaced by "xxxxx".
func (c *Config) validateProxy(p *problems) {
	for i, raw := range c.Crawl.Proxy {
		key := "crawl.proxy"
		if len(c.Crawl.Proxy) > 1 {
			key = fmt.Sprintf("crawl.proxy[%d]", i)
		}
		u, err := proxy.Parse(raw)
		if err != nil {
			p.add(key, "%v", err)
			continue
		}
		if (u.Scheme == "socks5" || u.Scheme == "socks5h") && u.User != nil && c.NeedsBrowser() {
			p.add(key, "%s: Chromium (crawl.fetch %s) cannot give a SOCKS5 proxy credentials; use an http:// proxy, or one without credentials", u.Redacted(), c.Crawl.Fetch)
		}
	}
}
