package crawler

import "testing"

func TestCanonicalURL(t *testing.T) {
	c := canonical{drop: []string{"utm_*", "sessionid"}, sort: true}
	for in, want := range map[string]string{
		"HTTP://Example.COM:80/a?b=2&utm_source=x&a=1#top": "http://example.com/a?a=1&b=2",
		"https://example.com:443/?sessionid=1":             "https://example.com/",
		"https://example.com:8443/x?z=1&z=0":               "https://example.com:8443/x?z=1&z=0",
		"http://[::1]:80/x":                                "http://[::1]/x",
	} {
		if got := c.url(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	if got := (canonical{}).url("http://example.com/a?b=2&a=1"); got != "http://example.com/a?b=2&a=1" {
		t.Errorf("no rules: %s", got)
	}
}
