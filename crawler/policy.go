package crawler

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

type verdict int

const (
	verdictOK verdict = iota
	verdictRetry
	verdictFail
)

type decision struct {
	verdict verdict
	reason  string
	// retryAfter is the server's Retry-After, if it sent one.
	retryAfter time.Duration
	// pauseHost stops the crawl of the page's host for the rest of the
	// run: what blocked it needs a person, and more requests only make
	// the block last.
	pauseHost bool
}

// reasonCaptcha fails a page behind a CAPTCHA, which gather does not try
// to pass.
const reasonCaptcha = "blocked: captcha (needs a person)"

// Defaults of Options.BackoffBase and BackoffCap.
const (
	defaultBackoffBase = 500 * time.Millisecond
	defaultBackoffCap  = 30 * time.Second
)

// maxRetryAfter caps how long a server may ask us to wait.
const maxRetryAfter = 10 * time.Minute

// decideResponse judges a response that arrived whole.
// det tells challenges and CAPTCHAs (see detectors).
func decideResponse(det *detectors, status int, header http.Header, body []byte, maxBody int64, now time.Time) decision {
	if det.isCaptcha(status, header, body) {
		return decision{verdict: verdictFail, reason: reasonCaptcha, pauseHost: true}
	}
	if what := det.isChallenge(status, header, body); what != "" {
		return decision{verdict: verdictFail, reason: fmt.Sprintf("blocked: challenge page (%s)", what)}
	}
	if v := header.Get("x-amzn-waf-action"); v != "" {
		return decision{verdict: verdictFail, reason: fmt.Sprintf("blocked: challenge page (HTTP %d, x-amzn-waf-action: %s)", status, v)}
	}
	switch {
	case status == http.StatusOK:
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		return decision{verdict: verdictRetry, reason: httpReason(status), retryAfter: parseRetryAfter(header.Get("Retry-After"), now)}
	case status >= 300 && status < 400:
		return decision{verdict: verdictFail, reason: fmt.Sprintf("%s: redirect not followed", httpReason(status))}
	case status < 300:
		return decision{verdict: verdictFail, reason: fmt.Sprintf("unexpected status %s (only 200 is a page)", httpReason(status))}
	default:
		return decision{verdict: verdictFail, reason: httpReason(status)}
	}
	if int64(len(body)) > maxBody {
		return decision{verdict: verdictFail, reason: fmt.Sprintf("response too large: more than %d bytes (crawl.max_body_size)", maxBody)}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return decision{verdict: verdictFail, reason: "empty body (HTTP 200)"}
	}
	return decision{verdict: verdictOK}
}

func httpReason(status int) string {
	if t := http.StatusText(status); t != "" {
		return fmt.Sprintf("HTTP %d %s", status, t)
	}
	return fmt.Sprintf("HTTP %d", status)
}

// errRedirectRefused marks a redirect gather would not follow; retrying
// cannot help.
var errRedirectRefused = errors.New("redirect refused")

// errTooLarge marks a body over max_body_size.
var errTooLarge = errors.New("response too large")

// decideError judges a request that failed before a whole response arrived.
func decideError(err error) decision {
	msg := describeError(err)
	switch {
	case errors.Is(err, errHostPaused):
		return decision{verdict: verdictFail, reason: strings.TrimPrefix(msg, errHostPaused.Error()+": ")}
	case errors.Is(err, errRedirectRefused), errors.Is(err, errAddressRefused), errors.Is(err, errTooLarge), errors.Is(err, errNoBrowser):
		return decision{verdict: verdictFail, reason: msg}
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "unsupported protocol scheme") {
		return decision{verdict: verdictFail, reason: msg}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return decision{verdict: verdictFail, reason: msg}
	}
	// Timeouts, resets, refused connections, truncated bodies and other
	// network trouble are worth another try.
	return decision{verdict: verdictRetry, reason: msg}
}

// describeError says what went wrong in a few words, without the URL
// (which is recorded beside it).
func describeError(err error) string {
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
	case errors.Is(err, errTimeout), errors.Is(err, context.DeadlineExceeded):
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

// parseRetryAfter reads both forms of Retry-After: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0
		}
		d = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0
	}
	return max(0, min(d, maxRetryAfter))
}

// backoff is capped exponential backoff with full jitter: a random wait in
// [0, min(cap, base·2^(attempt-1))], so retries from many pages spread out.
type backoff struct{ base, cap time.Duration }

// wait is how long to wait before attempt+1, after attempt attempts.
func (b backoff) wait(attempt int) time.Duration {
	return time.Duration(rand.Int64N(int64(b.ceiling(attempt)) + 1))
}

// ceiling is the longest wait after attempt attempts.
func (b backoff) ceiling(attempt int) time.Duration {
	c := b.base
	for i := 1; i < attempt && c < b.cap; i++ {
		c *= 2
	}
	return min(c, b.cap)
}
