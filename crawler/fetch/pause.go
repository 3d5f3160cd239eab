package fetch

import (
	"fmt"
	"net/http"
)

// PauseGate fails, without a request, the pages of a host paused after a
// CAPTCHA. It sits right inside LimitGate because pages of that host that
// were dispatched before the CAPTCHA came back wait for the host's slot,
// past the run's admission, and must not go out either. It also pauses
// the host itself when a CAPTCHA comes back: the host's slot is free as
// soon as colly has read the body, before the run judges the response,
// and the next page would go out in between.
type PauseGate struct {
	Next http.RoundTripper
	// Paused tells whether host is paused, and the reason its pages fail
	// with.
	Paused    func(host string) (why string, paused bool)
	Detectors *Detectors
	// MaxBody is crawl.max_body_size, for a detector that reads bodies.
	MaxBody int64
	// Pause pauses host after a CAPTCHA on url.
	Pause func(host, url string)
}

// RoundTrip fails req if its host is paused, else sends it, and pauses
// the host if the answer is a CAPTCHA.
func (g PauseGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if why, ok := g.Paused(req.URL.Host); ok {
		return nil, fmt.Errorf("%w: %s", ErrHostPaused, why)
	}
	resp, err := g.Next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	var body []byte
	if g.Detectors.readsBody() {
		if body, err = readBack(resp, g.MaxBody); err != nil {
			return nil, err
		}
	}
	if g.Detectors.IsCaptcha(resp.StatusCode, resp.Header, body) {
		g.Pause(req.URL.Host, req.URL.String())
	}
	return resp, nil
}
