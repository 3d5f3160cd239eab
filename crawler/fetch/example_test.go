package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gather-crawler/gather/crawler/fetch"
)

// A chain of the host limits over the HTTP transport fetches from a site
// on 127.0.0.1; the policy judges each response. A Retry-After holds the
// host back at once, in the transport, before the policy has seen it;
// without AllowPrivate the guard refuses the loopback address.
func Example() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/busy":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/captcha":
			w.Header().Set("x-amzn-waf-action", "captcha")
			w.WriteHeader(http.StatusMethodNotAllowed)
		default:
			io.WriteString(w, "<title>a page</title>")
		}
	}))
	defer site.Close()

	const maxBody = 1 << 20
	tr := fetch.NewTransport(fetch.Options{Timeout: 10 * time.Second, Parallelism: 2, AllowPrivate: true})
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: fetch.LimitGate{Limits: fetch.NewHostLimits(2, 0, 0), Next: tr}}
	det := &fetch.Detectors{} // AWS WAF's signs alone
	for _, path := range []string{"/", "/captcha", "/busy"} {
		resp, err := client.Get(site.URL + path)
		if err != nil {
			fmt.Println(path, fetch.DecideError(err).Reason)
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		d := fetch.DecideResponse(det, resp.StatusCode, resp.Header, body, maxBody, time.Now())
		switch d.Verdict {
		case fetch.OK:
			fmt.Println(path, "ok")
		case fetch.Retry:
			fmt.Println(path, "retry:", d.Reason, "after", d.RetryAfter)
		case fetch.Fail:
			fmt.Println(path, "fail:", d.Reason, "pause the host:", d.PauseHost)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, site.URL+"/", nil)
	_, err := client.Do(req)
	fmt.Println("the host held back:", errors.Is(err, context.DeadlineExceeded))

	guarded := &http.Client{Transport: fetch.NewTransport(fetch.Options{Timeout: 10 * time.Second})}
	_, err = guarded.Get(site.URL + "/")
	fmt.Println("loopback refused:", errors.Is(err, fetch.ErrAddressRefused), fetch.DecideError(err).Verdict == fetch.Fail)
	// Output:
	// / ok
	// /captcha fail: blocked: captcha (needs a person) pause the host: true
	// /busy retry: HTTP 503 Service Unavailable after 2m0s
	// the host held back: true
	// loopback refused: true true
}
