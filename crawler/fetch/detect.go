package fetch

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"

	"github.com/gather-crawler/gather/crawler/browser"
)

// Detectors tells JavaScript challenges and CAPTCHAs: AWS WAF's signs
// always, and the configured ones (crawl.challenge and crawl.captcha).
// The zero Detectors knows AWS WAF's signs alone.
type Detectors struct {
	// challenge and captcha are the configured signs (AWS WAF's are
	// checked apart); keys name them in reasons.
	challenge, captcha       []browser.Sign
	challengeKey, captchaKey []string
	// sels are the signs' selectors, compiled once.
	sels map[string]cascadia.Matcher
}

// Signs are the configured signs of one kind, and the config key that
// names them in reasons: sign i is Key[i] ("crawl.challenge[0]").
type Signs struct {
	Key   string
	Signs []browser.Sign
}

// NewDetectors compiles the signs of challenges and CAPTCHAs; an error is
// a selector that does not parse.
func NewDetectors(challenge, captcha Signs) (*Detectors, error) {
	d := &Detectors{sels: map[string]cascadia.Matcher{}}
	add := func(s Signs) (keys []string, err error) {
		for i, sign := range s.Signs {
			keys = append(keys, fmt.Sprintf("%s[%d]", s.Key, i))
			if sign.Selector != "" {
				sel, err := cascadia.ParseGroup(sign.Selector)
				if err != nil {
					return nil, fmt.Errorf("%s[%d].selector: %w", s.Key, i, err)
				}
				d.sels[sign.Selector] = sel
			}
		}
		return keys, nil
	}
	var err error
	if d.challengeKey, err = add(challenge); err != nil {
		return nil, err
	}
	if d.captchaKey, err = add(captcha); err != nil {
		return nil, err
	}
	d.challenge, d.captcha = challenge.Signs, captcha.Signs
	return d, nil
}

// Challenges are the configured signs of a challenge, for the browser,
// which watches for them as it loads a page.
func (d *Detectors) Challenges() []browser.Sign { return d.challenge }

// Captchas are the configured signs of a CAPTCHA, for the browser.
func (d *Detectors) Captchas() []browser.Sign { return d.captcha }

// readsBody reports whether a sign looks into the body, which then has to
// be read before a response can be judged.
func (d *Detectors) readsBody() bool { return len(d.sels) > 0 }

// has returns the selector test of a body, parsing it once, on first use.
func (d *Detectors) has(body []byte) func(string) bool {
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
// that a page is judged once on its way up (AutoTransport, PauseGate, the
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
func (d *Detectors) judged(status int, h http.Header, body []byte) detection {
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

// IsChallenge describes the challenge a response is, or returns "". When
// a sign reads the body, the verdict is left on the header for the next
// judge (a CAPTCHA's or the policy's).
func (d *Detectors) IsChallenge(status int, h http.Header, body []byte) string {
	return d.judged(status, h, body).challenge
}

func (d *Detectors) challengeOf(status int, h http.Header, has func(string) bool) string {
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

// IsCaptcha reports whether a response is a CAPTCHA: AWS WAF's (its
// header says captcha, or HTTP 405 with its header) or a configured one.
func (d *Detectors) IsCaptcha(status int, h http.Header, body []byte) bool {
	return d.judged(status, h, body).captcha
}

func (d *Detectors) captchaOf(status int, h http.Header, has func(string) bool) bool {
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
