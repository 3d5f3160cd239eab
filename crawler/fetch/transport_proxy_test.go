package fetch

import (
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler/proxy"
	"github.com/gather-crawler/gather/internal/proxytest"
)

// https:// pages go through an http:// proxy's CONNECT tunnel and a
// SOCKS5 proxy, with the site's TLS end to end; a CONNECT refused for
// its credentials names the proxy and rests it.
func TestTransport_HTTPSThroughProxies(t *testing.T) {
	tiny := proxytest.Tinyproxy(t, proxytest.Options{From: "127.0.0.3", User: "crawler", Password: "s3cret-pw"})
	socks := proxytest.Microsocks(t, proxytest.Options{From: "127.0.0.4"})
	peers := make(chan string, 10)
	site := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peers <- r.RemoteAddr
		io.WriteString(w, "hello over TLS")
	}))
	defer site.Close()
	get := func(proxyURL string) (string, error) {
		pool, err := proxy.New([]string{proxyURL})
		if err != nil {
			t.Fatal(err)
		}
		tr := NewTransport(Options{Timeout: 5 * time.Second, Parallelism: 1, AllowPrivate: true, Proxies: pool})
		tr.base.TLSClientConfig = &tls.Config{RootCAs: site.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(site.URL + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	for _, c := range []struct{ url, from string }{{tiny.URL("crawler", "s3cret-pw"), "127.0.0.3:"}, {socks.URL("", ""), "127.0.0.4:"}} {
		body, err := get(c.url)
		if err != nil || body != "hello over TLS" {
			t.Fatalf("through %s: %q, %v", proxy.Redact(c.url), body, err)
		}
		if peer := <-peers; !strings.HasPrefix(peer, c.from) {
			t.Errorf("through %s the site saw %s, want the proxy's %s", proxy.Redact(c.url), peer, c.from)
		}
	}
	_, err := get(tiny.URL("crawler", "wrong-pw"))
	var pe *proxy.Error
	if !errors.As(err, &pe) || !pe.Dead || !strings.Contains(err.Error(), "proxy "+tiny.Addr+": ") ||
		!strings.Contains(err.Error(), "refused crawl.proxy's credentials") || strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("CONNECT with wrong credentials: %v", err)
	}
	if len(peers) != 0 {
		t.Errorf("the site saw a request through a refused tunnel")
	}
}

// Through a proxy the private-address guard judges the target, before
// anything reaches the proxy. (That the proxy's own private address is
// not refused would take a public target, which no test reaches.)
func TestTransport_GuardJudgesTheTargetThroughAProxy(t *testing.T) {
	tiny := proxytest.Tinyproxy(t, proxytest.Options{From: "127.0.0.3"})
	pool, err := proxy.New([]string{tiny.URL("", "")})
	if err != nil {
		t.Fatal(err)
	}
	before := proxy.CountsOf(tiny.Addr)
	tr := NewTransport(Options{Timeout: 5 * time.Second, Parallelism: 1, AllowPrivate: false, Proxies: pool})
	defer tr.CloseIdleConnections()
	_, err = (&http.Client{Transport: tr}).Get("http://127.0.0.1:9/")
	if !errors.Is(err, ErrAddressRefused) {
		t.Errorf("a loopback target through a proxy: %v, want the address refused", err)
	}
	if after := proxy.CountsOf(tiny.Addr); after.Requests != before.Requests {
		t.Errorf("the request went to the proxy before the guard refused it")
	}
}
