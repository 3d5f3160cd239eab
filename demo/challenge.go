package demo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/bits"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Challenge gates the site in the manner of AWS WAF's JavaScript
// challenge: a request without a valid token cookie gets HTTP 202 and
// x-amzn-waf-action: challenge; its body is empty for a plain client and,
// for a browser (Accept: text/html), a page whose script does a small
// proof of work with WebCrypto, sets the token cookie and reloads.
type Challenge struct {
	// TokenTTL is how long a token is honoured (default 5m); the cookie's
	// own max-age says the same, but the server decides.
	TokenTTL time.Duration
	// Bits is the proof of work: leading zero bits of SHA-256(nonce.n)
	// (default 12, some 50-200 ms in a browser).
	Bits int
	// Secret keys the nonces' MAC (default a fixed demo key).
	Secret []byte
}

// TokenCookie is the challenge's cookie, named as AWS WAF names it.
const TokenCookie = "aws-waf-token"

func (c *Challenge) defaults() {
	if c.TokenTTL <= 0 {
		c.TokenTTL = 5 * time.Minute
	}
	if c.Bits <= 0 {
		c.Bits = 12
	}
	if len(c.Secret) == 0 {
		c.Secret = []byte("gather demo challenge")
	}
}

// nonce binds a challenge to the host and the time it was issued.
func (c *Challenge) nonce(host string, issued int64) string {
	m := hmac.New(sha256.New, c.Secret)
	fmt.Fprintf(m, "%s|%d", host, issued)
	return strconv.FormatInt(issued, 10) + "." + hex.EncodeToString(m.Sum(nil)[:12])
}

// valid checks a token: "issued.mac.n", for this host, not expired, with
// the work done.
func (c *Challenge) valid(token, host string, now time.Time) bool {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return false
	}
	nonce := token[:i]
	issuedStr, _, _ := strings.Cut(nonce, ".")
	issued, err := strconv.ParseInt(issuedStr, 10, 64)
	if err != nil || !hmac.Equal([]byte(nonce), []byte(c.nonce(host, issued))) {
		return false
	}
	if now.After(time.UnixMilli(issued).Add(c.TokenTTL)) {
		return false
	}
	return zeroBits(sha256.Sum256([]byte(token))) >= c.Bits
}

func zeroBits(sum [32]byte) int {
	n := 0
	for _, b := range sum {
		if b != 0 {
			return n + bits.LeadingZeros8(b)
		}
		n += 8
	}
	return n
}

// hostOf is the request's host without its port: the token is bound to
// the name, as a cookie is.
func hostOf(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		return h
	}
	return r.Host
}

// gate answers a request without a valid token; false lets it through.
func (s *Site) gate(w http.ResponseWriter, r *http.Request) bool {
	c := s.opts.Challenge
	if ck, err := r.Cookie(TokenCookie); err == nil && c.valid(ck.Value, hostOf(r), time.Now()) {
		s.mu.Lock()
		if !s.tokens[ck.Value] {
			s.tokens[ck.Value] = true
			s.solves.Add(1)
		}
		s.mu.Unlock()
		return false
	}
	s.challenges.Add(1)
	w.Header().Set("x-amzn-waf-action", "challenge")
	w.Header().Set("Cache-Control", "no-store")
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.WriteHeader(http.StatusAccepted) // what a plain client gets: nothing
		return true
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, challengePage, c.nonce(hostOf(r), time.Now().UnixMilli()), c.Bits, int(c.TokenTTL.Seconds())+1)
	return true
}

// challengePage is the interstitial: find n with Bits leading zero bits
// in SHA-256("nonce.n"), store the token and reload.
const challengePage = `<!DOCTYPE html><html><head><title>Human Verification</title></head><body>
<p>Checking your browser…</p>
<script>
(async () => {
  const nonce = %q, need = %d, enc = new TextEncoder();
  for (let n = 0; ; n++) {
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(nonce + '.' + n)));
    let z = 0;
    for (const x of d) { if (x === 0) { z += 8; continue; } z += Math.clz32(x) - 24; break; }
    if (z >= need) {
      document.cookie = 'aws-waf-token=' + nonce + '.' + n + '; path=/; max-age=%d; samesite=lax';
      location.reload();
      return;
    }
  }
})();
</script></body></html>`

// serveCaptcha answers as AWS WAF does for a CAPTCHA: 405 with
// x-amzn-waf-action: captcha. No script can pass it.
func serveCaptcha(w http.ResponseWriter) {
	w.Header().Set("x-amzn-waf-action", "captcha")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusMethodNotAllowed)
	fmt.Fprint(w, `<!DOCTYPE html><html><body><p>Solve the puzzle to continue.</p></body></html>`)
}

// Challenges is how many challenge answers the site gave.
func (s *Site) Challenges() int64 { return s.challenges.Load() }

// Solves is how many distinct valid tokens the site has seen: one per
// challenge solved by a client.
func (s *Site) Solves() int64 { return s.solves.Load() }
