package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gather-crawler/gather/crawler/proxy"
)

// A page's fate is decided here and nowhere else: ok, retry (after how
// long), or fail (why).

// Verdict is what becomes of a page after one response or error.
type Verdict int

const (
	// OK: the page is good; it goes on to extraction.
	OK Verdict = iota
	// Retry: worth another try, after a backoff.
	Retry
	// Fail: the page fails with the decision's reason; retrying cannot help.
	Fail
)

// Decision is the policy's judgement of one response or error.
type Decision struct {
	Verdict Verdict
	// Reason says why a page is retried or fails, in the words stored as
	// the page's error.
	Reason string
	// RetryAfter is the server's Retry-After, if it sent one.
	RetryAfter time.Duration
	// PauseHost stops the crawl of the page's host for the rest of the
	// run: what blocked it needs a person, and more requests only make
	// the block last.
	PauseHost bool
}

// ReasonCaptcha fails a page behind a CAPTCHA, which gather does not try
// to pass.
const ReasonCaptcha = "blocked: captcha (needs a person)"

// Defaults of the crawler's Options.BackoffBase and BackoffCap.
const (
	DefaultBackoffBase = 500 * time.Millisecond
	DefaultBackoffCap  = 30 * time.Second
)

// MaxRetryAfter caps how long a server may ask us to wait.
const MaxRetryAfter = 10 * time.Minute

// The errors the chain fails a request with, as DecideError knows them:
// all but a timeout fail the page at once, as retrying cannot help.
var (
	// ErrTimeout marks a request that ran past crawl.timeout.
	ErrTimeout = errors.New("request timed out")
	// ErrAddressRefused marks a connection to a loopback, private,
	// link-local or metadata address that the crawl may not reach.
	ErrAddressRefused = errors.New("address refused")
	// ErrRedirectRefused marks a redirect gather would not follow.
	ErrRedirectRefused = errors.New("redirect refused")
	// ErrHostPaused fails the pages of a host a CAPTCHA stopped; the
	// page's reason is what follows it in the message.
	ErrHostPaused = errors.New("host paused")
	// ErrNoBrowser fails a challenge's page when fetch: auto found no
	// Chromium.
	ErrNoBrowser = errors.New("no browser to solve it")
)

// DecideResponse judges a response that arrived whole: its status,
// header and body (read up to maxBody and one byte more, so that a body
// over the limit reads as one). det tells challenges and CAPTCHAs.
func DecideResponse(det *Detectors, status int, header http.Header, body []byte, maxBody int64, now time.Time) Decision {
	if det.IsCaptcha(status, header, body) {
		return Decision{Verdict: Fail, Reason: ReasonCaptcha, PauseHost: true}
	}
	if what := det.IsChallenge(status, header, body); what != "" {
		return Decision{Verdict: Fail, Reason: fmt.Sprintf("blocked: challenge page (%s)", what)}
	}
	if v := header.Get("x-amzn-waf-action"); v != "" {
		return Decision{Verdict: Fail, Reason: fmt.Sprintf("blocked: challenge page (HTTP %d, x-amzn-waf-action: %s)", status, v)}
	}
	switch {
	case status == http.StatusOK:
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		return Decision{Verdict: Retry, Reason: HTTPReason(status), RetryAfter: ParseRetryAfter(header.Get("Retry-After"), now)}
	case status >= 300 && status < 400:
		return Decision{Verdict: Fail, Reason: fmt.Sprintf("%s: redirect not followed", HTTPReason(status))}
	case status < 300:
		return Decision{Verdict: Fail, Reason: fmt.Sprintf("unexpected status %s (only 200 is a page)", HTTPReason(status))}
	default:
		return Decision{Verdict: Fail, Reason: HTTPReason(status)}
	}
	if int64(len(body)) > maxBody {
		return Decision{Verdict: Fail, Reason: fmt.Sprintf("response too large: more than %d bytes (crawl.max_body_size)", maxBody)}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return Decision{Verdict: Fail, Reason: "empty body (HTTP 200)"}
	}
	return Decision{Verdict: OK}
}

// HTTPReason names a status as a page's reason: "HTTP 404 Not Found".
func HTTPReason(status int) string {
	if t := http.StatusText(status); t != "" {
		return fmt.Sprintf("HTTP %d %s", status, t)
	}
	return fmt.Sprintf("HTTP %d", status)
}

// errTooLarge marks a body over max_body_size.
var errTooLarge = errors.New("response too large")

// DecideError judges a request that failed before a whole response arrived.
func DecideError(err error) Decision {
	msg := Describe(err)
	switch {
	case errors.Is(err, ErrHostPaused):
		return Decision{Verdict: Fail, Reason: strings.TrimPrefix(msg, ErrHostPaused.Error()+": ")}
	case errors.Is(err, ErrRedirectRefused), errors.Is(err, ErrAddressRefused), errors.Is(err, errTooLarge), errors.Is(err, ErrNoBrowser):
		return Decision{Verdict: Fail, Reason: msg}
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "unsupported protocol scheme") {
		return Decision{Verdict: Fail, Reason: msg}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return Decision{Verdict: Fail, Reason: msg}
	}
	// Timeouts, resets, refused connections, truncated bodies and other
	// network trouble are worth another try.
	return Decision{Verdict: Retry, Reason: msg}
}

// Describe says what went wrong in a few words, without the URL (which
// is recorded beside it): a page's reason, and robots.txt's
// (robots.New's describe).
func Describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	// A proxy's failure names the proxy, never the site.
	var pe *proxy.Error
	if errors.As(err, &pe) {
		return pe.Error()
	}
	switch {
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout: " + err.Error()
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated body: connection closed before Content-Length bytes arrived"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, io.EOF):
		return "connection closed without a response"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout: " + err.Error()
	}
	return err.Error()
}

// ParseRetryAfter reads both forms of Retry-After, seconds or an HTTP
// date, as a wait from now, capped at MaxRetryAfter (0: none, or not
// understood).
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0
		}
		d = time.Duration(min(secs, int64(MaxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0
	}
	return max(0, min(d, MaxRetryAfter))
}

// Backoff is capped exponential backoff with full jitter: a random wait in
// [0, min(Cap, Base·2^(attempt-1))], so retries from many pages spread out.
type Backoff struct{ Base, Cap time.Duration }

// Wait is how long to wait before attempt+1, after attempt attempts.
func (b Backoff) Wait(attempt int) time.Duration {
	return time.Duration(rand.Int64N(int64(b.Ceiling(attempt)) + 1))
}

// Ceiling is the longest wait after attempt attempts.
func (b Backoff) Ceiling(attempt int) time.Duration {
	c := b.Base
	for i := 1; i < attempt && c < b.Cap; i++ {
		c *= 2
	}
	return min(c, b.Cap)
}
