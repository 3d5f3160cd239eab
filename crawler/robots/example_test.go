package robots_test

import (
	"fmt"
	"net/url"

	"github.com/gather-crawler/gather/crawler/robots"
)

// Parse reads a robots.txt for one user agent's product token; a URL is
// then asked by its path. The longest matching rule wins.
func ExampleParse() {
	body := []byte(`User-agent: *
Disallow: /private/
Allow: /private/press/
Crawl-delay: 2

User-agent: otherbot
Disallow: /
`)
	rules := robots.Parse(body, robots.ProductToken("gatherbot/2.1 (+https://example.org/bot)"))
	for _, raw := range []string{"https://example.org/a", "https://example.org/private/x", "https://example.org/private/press/1"} {
		u, _ := url.Parse(raw)
		ok, rule := rules.Allowed(robots.Path(u))
		if ok {
			fmt.Println(u.Path, "allowed")
		} else {
			fmt.Println(u.Path, rule.Reason())
		}
	}
	fmt.Println("crawl-delay", rules.CrawlDelay())
	// Output:
	// /a allowed
	// /private/x disallowed by robots.txt (line 2: "Disallow: /private/")
	// /private/press/1 allowed
	// crawl-delay 2s
}
