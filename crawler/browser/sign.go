package browser

import (
	"net/http"
	"slices"
	"strings"
)

// Sign tells a kind of page (a JavaScript challenge, a CAPTCHA) by its
// document's response and content: every condition that is set must hold.
type Sign struct {
	// Status is the HTTP status; 0: any.
	Status int
	// Header is a header the response must have; "": none needed.
	Header string
	// Value is the value Header must have (case-insensitively); "": any.
	Value string
	// Selector is a CSS selector that must match in the page.
	Selector string
}

// AWS WAF's signs, which the browser and the crawler always know.
var (
	AWSChallenge = Sign{Header: "x-amzn-waf-action", Value: "challenge"}
	AWSCaptcha   = Sign{Header: "x-amzn-waf-action", Value: "captcha"}
)

// Match reports whether the sign holds for a page. has tells whether a
// CSS selector matches in it; it is called only for a sign that has a
// Selector, after every cheaper condition held.
func (s Sign) Match(status int, h http.Header, has func(selector string) bool) bool {
	if s.Status != 0 && status != s.Status {
		return false
	}
	if s.Header != "" {
		vs := h.Values(s.Header)
		if len(vs) == 0 {
			return false
		}
		if s.Value != "" && !slices.ContainsFunc(vs, func(v string) bool { return strings.EqualFold(strings.TrimSpace(v), s.Value) }) {
			return false
		}
	}
	return s.Selector == "" || has(s.Selector)
}

// anyMatch is the first of signs that holds, or -1.
func anyMatch(signs []Sign, status int, h http.Header, has func(string) bool) int {
	for i, s := range signs {
		if s.Match(status, h, has) {
			return i
		}
	}
	return -1
}
