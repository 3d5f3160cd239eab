package fetch

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/crawler/browser"
)

// A response is judged once on its way up: the verdict rides on the
// header, and the next judge reads it instead of parsing the body again.
func TestDetectors_JudgeOnce(t *testing.T) {
	d, err := NewDetectors(Signs{Key: "crawl.challenge", Signs: []browser.Sign{{Status: 403, Selector: "p.verify"}}},
		Signs{Key: "crawl.captcha", Signs: []browser.Sign{{Selector: "form#puzzle"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		status    int
		body      string
		challenge string
		captcha   bool
	}{
		{403, `<p class="verify">Checking</p>`, "HTTP 403, matches crawl.challenge[0]", false},
		{200, `<form id="puzzle"></form>`, "", true},
		{200, `<h1>a page</h1>`, "", false},
	} {
		h := http.Header{}
		if got := d.IsChallenge(c.status, h, []byte(c.body)); got != c.challenge {
			t.Errorf("%s: challenge %q, want %q", c.body, got, c.challenge)
		}
		// The body is not looked at again: an empty one judges the same.
		if got := d.IsCaptcha(c.status, h, nil); got != c.captcha {
			t.Errorf("%s: captcha %v from the header %q, want %v", c.body, got, h.Get(detectedHeader), c.captcha)
		}
		if got := d.IsChallenge(c.status, h, nil); got != c.challenge {
			t.Errorf("%s: challenge %q from the header, want %q", c.body, got, c.challenge)
		}
	}
	// A server's own header of that name is dropped where responses come
	// in, and cannot pass a CAPTCHA off as a page.
	h := http.Header{detectedHeader: {"none"}, FetchedByHeader: {"browser"}}
	stripInternal(h)
	if !d.IsCaptcha(200, h, []byte(`<form id="puzzle"></form>`)) || h.Get(FetchedByHeader) != "" {
		t.Errorf("after stripping, header %v", h)
	}
	// Without a sign that reads the body, nothing is written on the header.
	plain := &Detectors{}
	h = http.Header{}
	plain.IsChallenge(202, h, nil)
	if len(h) != 0 {
		t.Errorf("header written without a body sign: %v", h)
	}
}

// A selector that does not parse is an error naming its key, not a sign
// that never matches.
func TestNewDetectors_BadSelector(t *testing.T) {
	_, err := NewDetectors(Signs{}, Signs{Key: "crawl.captcha", Signs: []browser.Sign{{Selector: "form#puzzle"}, {Selector: "p[["}}})
	if err == nil || !strings.HasPrefix(err.Error(), "crawl.captcha[1].selector: ") {
		t.Errorf("err = %v, want crawl.captcha[1].selector's", err)
	}
}
