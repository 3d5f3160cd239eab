package crawler

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpproxy"

	"github.com/gather-crawler/gather/crawler/browser"
	"github.com/gather-crawler/gather/crawler/proxy"
)

// setUpProxies builds the crawl's proxies: crawl.proxy, else the
// environment's.
func (c *Crawler) setUpProxies() error {
	if len(c.cfg.Crawl.Proxy) == 0 {
		// A proxy variable that does not parse fails the crawl before
		// any request, as crawl.proxy's validation does: going direct
		// would bypass the proxy the machine is meant to use.
		env := httpproxy.FromEnvironment()
		for name, v := range map[string]string{"HTTP_PROXY": env.HTTPProxy, "HTTPS_PROXY": env.HTTPSProxy} {
			if v == "" {
				continue
			}
			if _, err := proxy.Parse(v); err != nil {
				return fmt.Errorf("%s (or %s, from the environment, used as crawl.proxy is empty): %w", name, strings.ToLower(name), err)
			}
		}
		c.proxies = proxy.FromEnvironment()
		return nil
	}
	p, err := proxy.New(c.cfg.Crawl.Proxy)
	c.proxies = p
	return err
}

// browserProxy adds to flags the switches that send Chromium's requests
// through the crawl's proxies, and returns the answer to their requests
// for credentials (nil: none to give). Chromium takes one list for all
// hosts, in order, falling back to the next on failure (it rests a bad
// proxy on its own); the sticky spread per host is the HTTP side's. A
// configured proxy carries loopback targets too (<-loopback>: Chromium
// skips the proxy for them by default); the environment's does not, as
// in Go. Proxy host names are excluded from the host-resolver-rules
// that keep the browser inside allowed_domains.
func (c *Crawler) browserProxy(flags map[string]any) browser.ProxyAuth {
	var servers []string
	creds := map[string]*url.Userinfo{}
	add := func(u *url.URL) string {
		scheme := u.Scheme
		if scheme == "socks5h" {
			scheme = "socks5"
		}
		if u.User != nil {
			creds[u.Host] = u.User
		}
		if net.ParseIP(strings.Trim(u.Hostname(), "[]")) == nil {
			if r, ok := flags["host-resolver-rules"].(string); ok {
				flags["host-resolver-rules"] = r + ", EXCLUDE " + u.Hostname()
			}
		}
		return scheme + "://" + u.Host
	}
	switch {
	case len(c.cfg.Crawl.Proxy) > 0 && c.proxies != nil:
		for _, px := range c.proxies.Proxies() {
			servers = append(servers, add(px.URL))
		}
		flags["proxy-server"] = strings.Join(servers, ",")
		flags["proxy-bypass-list"] = "<-loopback>"
	case c.proxies.FromEnv():
		env := httpproxy.FromEnvironment()
		var rules []string
		for scheme, raw := range map[string]string{"http": env.HTTPProxy, "https": env.HTTPSProxy} {
			if raw == "" {
				continue
			}
			if u, err := proxy.Parse(raw); err == nil {
				rules = append(rules, scheme+"="+add(u))
			}
		}
		flags["proxy-server"] = strings.Join(rules, ";")
		if bypass := chromiumBypass(env.NoProxy); bypass != "" {
			flags["proxy-bypass-list"] = bypass
		}
	default:
		return nil
	}
	if len(creds) == 0 {
		return nil
	}
	creds = maps.Clone(creds)
	return func(origin *url.URL) (string, string, bool) {
		host := origin.Host
		if origin.Port() == "" {
			port := "80"
			if origin.Scheme == "https" {
				port = "443"
			}
			host = net.JoinHostPort(origin.Hostname(), port)
		}
		u, ok := creds[host]
		if !ok {
			return "", "", false
		}
		pass, _ := u.Password()
		return u.Username(), pass, true
	}
}

// chromiumBypass turns NO_PROXY into Chromium's --proxy-bypass-list: Go
// takes "example.com" for the domain and its subdomains, Chromium for the
// host alone, so both are listed.
func chromiumBypass(noProxy string) string {
	var out []string
	for _, e := range strings.Split(noProxy, ",") {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case e == "*":
			return "*"
		case strings.HasPrefix(e, "."):
			out = append(out, "*"+e)
		case strings.Contains(e, "/") || net.ParseIP(e) != nil:
			out = append(out, e)
		default:
			out = append(out, e, "*."+e)
		}
	}
	return strings.Join(out, ";")
}

// chromiumProxyFailures are Chromium's network errors that are the
// proxy's failure, not the site's.
var chromiumProxyFailures = []string{"ERR_PROXY_CONNECTION_FAILED", "ERR_TUNNEL_CONNECTION_FAILED", "ERR_SOCKS_CONNECTION_FAILED",
	"ERR_PROXY_AUTH_UNSUPPORTED", "ERR_PROXY_AUTH_REQUESTED", "ERR_PROXY_CERTIFICATE_INVALID", "ERR_NO_SUPPORTED_PROXIES",
	"ERR_MANDATORY_PROXY_CONFIGURATION_FAILED", "ERR_INVALID_AUTH_CREDENTIALS"}

// browserProxyError names the proxy in a Chromium page's failure that is
// the proxy's: Chromium chose among the proxies itself, so a list is
// named whole.
func (c *Crawler) browserProxyError(err error) error {
	if err == nil || c.proxies == nil {
		return err
	}
	msg := err.Error()
	for _, code := range chromiumProxyFailures {
		if !strings.Contains(msg, "net::"+code) {
			continue
		}
		var names []string
		var one *proxy.Proxy
		for _, px := range c.proxies.Proxies() {
			names = append(names, px.Name)
			one = px
		}
		if len(names) == 0 {
			return err
		}
		if code == "ERR_INVALID_AUTH_CREDENTIALS" && len(names) == 1 {
			// Chromium was given the credentials (Fetch.authRequired)
			// and the proxy refused them.
			return proxy.AuthError(one)
		}
		return &proxy.Error{Proxy: strings.Join(names, ", "), Dead: true, Err: fmt.Errorf("in Chromium: net::%s", code)}
	}
	return err
}
