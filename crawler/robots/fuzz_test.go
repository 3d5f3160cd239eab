package robots

import (
	"testing"
)

// robots.txt faces the network: whatever a server sends, parsing it must
// not panic, must decide every path the same way twice, and must give a
// Crawl-delay of zero or more. The seeds are the shapes of the RFC's and
// Google's cases.
func FuzzParseRobots(f *testing.F) {
	for _, seed := range []struct{ body, path string }{
		{"User-agent: *\nDisallow: /private\n", "/private/x"},
		{"user-agent: gatherbot\nallow: /a$\ndisallow: /a*\ncrawl-delay: 2.5\n", "/a"},
		{"User-agent: *\r\nDisallow: /%7Ejoe\r\nSitemap: http://h/s.xml\r\n", "/~joe/index.html"},
		{"\xEF\xBB\xBFUser-agent: *\nDisallow: /\nAllow: /$\n", "/"},
		{"Disallow: /no-group\nUser-agent:\nUser-agent: gather bot\nDisallow: /*.php$\n", "/index.php?x"},
		{"", "/"},
	} {
		f.Add([]byte(seed.body), seed.path)
	}
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		rules := Parse(body, "gatherbot")
		ok1, r1 := rules.Allowed(path)
		ok2, r2 := Parse(body, "gatherbot").Allowed(path)
		if ok1 != ok2 || (r1 == nil) != (r2 == nil) {
			t.Fatalf("two parses of the same robots.txt decide %q differently: %v %v", path, ok1, ok2)
		}
		if r1 != nil {
			_ = r1.Reason() // every rule that decides can say why
		}
		if d := rules.CrawlDelay(); d < 0 {
			t.Fatalf("Crawl-delay %v < 0", d)
		}
	})
}
