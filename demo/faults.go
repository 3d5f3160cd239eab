package demo

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault is a failure the site can inject into a response.
type Fault int

// Faults the site can inject.
const (
	FaultNone            Fault = iota
	FaultServerError           // 500
	FaultUnavailable           // 503
	FaultTooManyRequests       // 429 with Retry-After
	FaultReset                 // connection reset before any response
	FaultHang                  // never answers
	FaultTruncated             // Content-Length promises more than is sent
	FaultOversized             // a 12 MiB body
	FaultGzipBomb              // 200 MB of zeros in a 200 KB gzip stream
	FaultChallenge             // 202, empty body, x-amzn-waf-action: challenge
	FaultRedirectLoop          // redirects to itself forever
	FaultOffsiteRedirect       // redirects to another host
	FaultNotFound              // 404
	FaultEmpty                 // 200 with an empty body
	FaultWrongPage             // 200 with a page of another kind
)

var faultNames = map[string]Fault{
	"500": FaultServerError, "503": FaultUnavailable, "429": FaultTooManyRequests, "reset": FaultReset,
	"hang": FaultHang, "truncated": FaultTruncated, "oversized": FaultOversized, "gzipbomb": FaultGzipBomb,
	"challenge": FaultChallenge, "redirectloop": FaultRedirectLoop, "offsite": FaultOffsiteRedirect, "404": FaultNotFound,
	"empty": FaultEmpty, "wrongpage": FaultWrongPage,
}

// String is the fault's name as ParseFaults accepts it.
func (f Fault) String() string {
	for k, v := range faultNames {
		if v == f {
			return k
		}
	}
	return "none"
}

// FaultRate is one fault injected into a share of requests.
type FaultRate struct {
	Fault Fault
	Rate  float64 // 0..1
}

// ParseFaults reads "500=0.1,429=0.05,reset=0.02" into fault rates.
func ParseFaults(s string) ([]FaultRate, error) {
	var out []FaultRate
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, rate, ok := strings.Cut(part, "=")
		f, known := faultNames[strings.TrimSpace(name)]
		var r float64
		if _, err := fmt.Sscanf(strings.TrimSpace(rate), "%g", &r); !ok || !known || err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("invalid fault %q (want name=rate, e.g. 500=0.1; names: 500 503 429 reset hang truncated oversized gzipbomb challenge redirectloop offsite 404 empty wrongpage)", part)
		}
		out = append(out, FaultRate{f, r})
	}
	return out, nil
}

// RandomFaults returns a Fault function that injects each fault into its
// share of requests, deterministically per path and attempt: the same run
// against the same site fails the same way.
func RandomFaults(rates []FaultRate) func(path string, attempt int) Fault {
	return func(path string, attempt int) Fault {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s#%d", path, attempt)
		x := float64(h.Sum64()%1_000_000) / 1_000_000
		for _, fr := range rates {
			if x < fr.Rate {
				return fr.Fault
			}
			x -= fr.Rate
		}
		return FaultNone
	}
}

var (
	bombOnce sync.Once
	bomb     []byte
)

func gzipBomb() []byte {
	bombOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zeros := make([]byte, 1<<20)
		for i := 0; i < 200; i++ {
			zw.Write(zeros)
		}
		zw.Close()
		bomb = b.Bytes()
	})
	return bomb
}

func serveFault(w http.ResponseWriter, r *http.Request, f Fault, retryAfter string) {
	switch f {
	case FaultServerError:
		http.Error(w, "internal server error", http.StatusInternalServerError)
	case FaultUnavailable:
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
	case FaultNotFound:
		http.NotFound(w, r)
	case FaultEmpty:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
	case FaultWrongPage:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!DOCTYPE html><html><body><h1>Sign in</h1><form action=\"/login\"></form></body></html>")
	case FaultTooManyRequests:
		w.Header().Set("Retry-After", retryAfter)
		http.Error(w, "slow down", http.StatusTooManyRequests)
	case FaultReset:
		if conn := hijack(w); conn != nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0) // RST instead of FIN
			}
			conn.Close()
		}
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Minute):
		}
	case FaultTruncated:
		body := RenderNextData(MovieFor("tt0000001", 0))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		if conn := hijack(w); conn != nil {
			conn.Close()
		}
	case FaultOversized:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		chunk := bytes.Repeat([]byte("<p>padding padding padding padding</p>\n"), 1024)
		for n := 0; n < 12<<20; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case FaultGzipBomb:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gzipBomb())
	case FaultChallenge:
		w.Header().Set("x-amzn-waf-action", "challenge")
		w.WriteHeader(http.StatusAccepted)
	case FaultRedirectLoop:
		http.Redirect(w, r, r.URL.Path+"?loop="+fmt.Sprint(time.Now().UnixNano()), http.StatusFound)
	case FaultOffsiteRedirect:
		http.Redirect(w, r, "http://offsite.invalid"+r.URL.Path, http.StatusFound)
	}
}

func hijack(w http.ResponseWriter) net.Conn {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return nil
	}
	return conn
}
