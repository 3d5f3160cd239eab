package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gather-crawler/gather/crawler/proxy"
)

// carrier is what puts a request on the network: base, or base through
// the proxies when there are any. What wraps it (the archive's capture)
// sees only the exchanges with the site, never a proxy's refusal.
func (t *Transport) carrier() http.RoundTripper {
	if t.proxies == nil {
		return t.base
	}
	return proxySender{t}
}

// proxySender is a transport's carrier through its proxies.
type proxySender struct{ t *Transport }

func (s proxySender) RoundTrip(req *http.Request) (*http.Response, error) { return s.t.send(req) }

// send is the transport's request through the crawl's proxies (see
// package proxy for how a list is spread): the proxy chosen for the
// target's host goes in the request's context, where the http.Transport's
// Proxy and DialContext read it. A failure of the proxy itself rests it
// and sends the request again through the host's next proxy; nothing
// reached the site, so nothing is sent twice. Without proxies, or for a
// target the environment's NO_PROXY sends direct, it is the base
// transport's RoundTrip.
func (t *Transport) send(req *http.Request) (*http.Response, error) {
	px, _ := t.proxies.Choose(req.URL, nil)
	if px == nil {
		return t.base.RoundTrip(req)
	}
	if !t.allowPrivate {
		// The dialer's guard sees the proxy's address, not the site's:
		// judge the target here, before anything is sent.
		if err := guardTarget(req.Context(), req.URL.Hostname()); err != nil {
			return nil, err
		}
	}
	var tried []*proxy.Proxy
	for {
		px.Sent()
		resp, err := t.base.RoundTrip(req.WithContext(proxy.With(req.Context(), px)))
		if err == nil && req.URL.Scheme == "http" && !px.SOCKS() && proxy.RefusedCredentials(resp) {
			resp.Body.Close()
			err = proxy.AuthError(px)
		}
		if err == nil {
			return resp, nil
		}
		err = proxy.Classify(px, err)
		var pe *proxy.Error
		if !errors.As(err, &pe) || !pe.Dead {
			return nil, err
		}
		t.proxies.Failed(px)
		tried = append(tried, px)
		if req.Context().Err() != nil || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
			return nil, err
		}
		next, ok := t.proxies.Choose(req.URL, tried)
		if !ok || next == nil {
			return nil, err
		}
		if req.GetBody != nil {
			body, berr := req.GetBody()
			if berr != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
		px = next
	}
}

// proxyDial is the transport's DialContext: a dial to the request's proxy
// is not judged by the private-address guard (a proxy on a private
// address is fine when configured; the target was judged in send), and
// its failure names the proxy. Every other dial goes through guarded.
func proxyDial(guarded *net.Dialer, timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	plain := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if px := proxy.From(ctx); px != nil && px.URL != nil && addr == px.URL.Host {
			conn, err := plain.DialContext(ctx, network, addr)
			if err != nil {
				return nil, proxy.DialError(px, err)
			}
			return conn, nil
		}
		return guarded.DialContext(ctx, network, addr)
	}
}

// onProxyConnect names the proxy when it answers CONNECT (an https://
// page's tunnel) with anything but 200.
func onProxyConnect(ctx context.Context, _ *url.URL, req *http.Request, resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	if px := proxy.From(ctx); px != nil {
		return proxy.ConnectError(px, req.Host, resp)
	}
	return nil
}

// guardTarget refuses a target on a loopback, private, link-local or
// metadata address when the request goes through a proxy. A name that
// resolves here to such an address is refused; one that does not
// resolve here at all is left to the proxy, which resolves it (behind a
// company proxy, outside names often resolve only there).
func guardTarget(ctx context.Context, host string) error {
	if ip := net.ParseIP(host); ip != nil {
		if IsPrivate(ip) {
			return fmt.Errorf("%w: %s is a loopback, private, link-local or metadata address", ErrAddressRefused, ip)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if IsPrivate(a.IP) {
			return fmt.Errorf("%w: %s resolves to %s, a loopback, private, link-local or metadata address", ErrAddressRefused, host, a.IP)
		}
	}
	return nil
}
