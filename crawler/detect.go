package crawler

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler/browser"
)

// detectors tells JavaScript challenges and CAPTCHAs: AWS WAF's signs
// always, and those of crawl.challenge and crawl.captcha.
type detectors struct {
	// challenge and captcha are the configured signs (AWS WAF's are
	// checked apart); keys name them in reasons.
	challenge, captcha       []browser.Sign
	challengeKey, captchaKey []string
	// sels are the signs' selectors, compiled once.
	sels map[string]cascadia.Matcher
}

func newDetectors(cr config.Crawl) *detectors {
	d := &detectors{sels: map[string]cascadia.Matcher{}}
	add := func(key string, ds []config.Detector) (signs []browser.Sign, keys []string) {
		for i, c := range ds {
			name, value := config.DetectorHeader(c.Header)
			signs = append(signs, browser.Sign{Status: c.Status, Header: name, Value: value, Selector: c.Selector})
			keys = append(keys, fmt.Sprintf("%s[%d]", key, i))
			if c.Selector != "" {
				// Validated by config: cannot fail here.
				if sel, err := cascadia.ParseGroup(c.Selector); err == nil {
					d.sels[c.Selector] = sel
				}
			}
		}
		return signs, keys
	}
	d.challenge, d.challengeKey = add("crawl.challenge", cr.Challenge)
	d.captcha, d.captchaKey = add("crawl.captcha", cr.Captcha)
	return d
}

// readsBody reports whether a sign looks into the body, which then has to
// be read before a response can be judged.
func (d *detectors) readsBody() bool { return len(d.sels) > 0 }

// has returns the selector test of a body, parsing it once, on first use.
func (d *detectors) has(body []byte) func(string) bool {
	var doc *html.Node
	return func(sel string) bool {
		if doc == nil {
			var err error
			if doc, err = html.Parse(bytes.NewReader(body)); err != nil {
				return false
			}
		}
		s, ok := d.sels[sel]
		return ok && cascadia.Query(doc, s) != nil
	}
}

// detectedHeader carries, on a response, what the detectors made of it, so
// that a page is judged once on its way up (autoTransport, pauseGate, the
// fetch policy) rather than its HTML parsed by each selector sign's user.
// It is set only when a sign reads the body; what a server sends under
// this name is dropped where responses come in (stripInternal).
const detectedHeader = "Gather-Detected"

// detection is what the detectors made of a response: the challenge it is
// (described), or whether it is a CAPTCHA.
type detection struct {
	challenge string
	captcha   bool
}

// judged is what the detectors make of a response, read from
// detectedHeader when an earlier judge left it there, else judged now
// (and left there for the next, when a sign reads the body).
func (d *detectors) judged(status int, h http.Header, body []byte) detection {
	if v, ok := h[detectedHeader]; ok && len(v) == 1 {
		switch {
		case v[0] == "captcha":
			return detection{captcha: true}
		case strings.HasPrefix(v[0], "challenge: "):
			return detection{challenge: strings.TrimPrefix(v[0], "challenge: ")}
		case v[0] == "none":
			return detection{}
		}
	}
	has := d.has(body)
	v := detection{challenge: d.challengeOf(status, h, has), captcha: d.captchaOf(status, h, has)}
	if d.readsBody() && h != nil {
		switch {
		case v.captcha:
			h.Set(detectedHeader, "captcha")
		case v.challenge != "":
			h.Set(detectedHeader, "challenge: "+v.challenge)
		default:
			h.Set(detectedHeader, "none")
		}
	}
	return v
}

// stripInternal drops from a response's header what gather's own layers
// carry there, so that a server cannot speak for them.
func stripInternal(h http.Header) {
	h.Del(detectedHeader)
	h.Del(fetchedByHeader)
	h.Del(sentContentTypeHeader)
}

// isChallenge describes the challenge a response is, or returns "".
func (d *detectors) isChallenge(status int, h http.Header, body []byte) string {
	return d.judged(status, h, body).challenge
}

func (d *detectors) challengeOf(status int, h http.Header, has func(string) bool) string {
	if browser.AWSChallenge.Match(status, h, has) {
		return fmt.Sprintf("HTTP %d, x-amzn-waf-action: %s", status, h.Get("x-amzn-waf-action"))
	}
	for i, s := range d.challenge {
		if s.Match(status, h, has) {
			return fmt.Sprintf("HTTP %d, matches %s", status, d.challengeKey[i])
		}
	}
	return ""
}

// isCaptcha reports whether a response is a CAPTCHA: AWS WAF's (its
// header says captcha, or HTTP 405 with its header) or a configured one.
func (d *detectors) isCaptcha(status int, h http.Header, body []byte) bool {
	return d.judged(status, h, body).captcha
}

func (d *detectors) captchaOf(status int, h http.Header, has func(string) bool) bool {
	if browser.AWSCaptcha.Match(status, h, has) || status == http.StatusMethodNotAllowed && h.Get("x-amzn-waf-action") != "" {
		return true
	}
	for _, s := range d.captcha {
		if s.Match(status, h, has) {
			return true
		}
	}
	return false
}
