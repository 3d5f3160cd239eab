// Package proxy chooses the proxy each request of a crawl goes through:
// the config's crawl.proxy (one URL or a list of http://, https:// and
// socks5:// proxies), or when that is empty the environment's
// HTTP_PROXY, HTTPS_PROXY and NO_PROXY read as Go's net/http reads them.
//
// A list is spread sticky per host: every proxy gets a score for the
// target's host:port from a hash of the two (rendezvous hashing), and the
// host's requests go through the live proxy with the highest score. So
// one site sees one address (its cookies and a solved challenge stay
// valid), the sites of a crawl are spread evenly over the list, and a
// proxy that fails moves only its own hosts, each to its next choice,
// while it rests. A proxy that refuses connections, fails its handshake
// or refuses the credentials rests for Pool.Rest and the request is sent
// again through the host's next proxy: nothing reached the site, so
// nothing is sent twice.
//
// Credentials never leave this package in an error, a log line or a
// metric label: proxies are named by host:port.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// DefaultRest is how long a failed proxy of a list is left alone.
const DefaultRest = 30 * time.Second

// Schemes are the proxy kinds gather speaks.
var Schemes = []string{"http", "https", "socks5", "socks5h"}

// Proxy is one proxy server.
type Proxy struct {
	// URL is the proxy with its credentials, for the transport only.
	URL *url.URL
	// Name is host:port: what reasons, logs and metrics call it.
	Name string
	// restUntil is when a failed proxy may be chosen again (UnixNano;
	// 0: never failed).
	restUntil atomic.Int64
	stats     *counters
}

// HasCredentials reports whether the proxy URL holds a user name.
func (p *Proxy) HasCredentials() bool { return p.URL.User != nil }

// SOCKS reports a SOCKS5 proxy.
func (p *Proxy) SOCKS() bool { return p.URL.Scheme == "socks5" || p.URL.Scheme == "socks5h" }

// Parse checks a proxy URL: a scheme of Schemes (none: http), a host and
// a port (default 80 for http, 443 for https, 1080 for socks5). Its
// errors never hold the password.
func Parse(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url's errors quote the input, password and all.
		return nil, errors.New("not a URL (expected SCHEME://[USER:PASSWORD@]HOST:PORT with http, https or socks5)")
	}
	shown := u.Redacted()
	u.Scheme = strings.ToLower(u.Scheme)
	if !slices.Contains(Schemes, u.Scheme) {
		return nil, fmt.Errorf("%s: the scheme must be http://, https:// or socks5://", shown)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%s: no host", shown)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s: a proxy is SCHEME://HOST:PORT, without a path or query", shown)
	}
	u.Path = ""
	if u.Port() == "" {
		port := map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080"}[u.Scheme]
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	return u, nil
}

// Redact shows a proxy URL with its password replaced by "xxxxx", as
// validate prints it.
func Redact(raw string) string {
	u, err := Parse(raw)
	if err != nil {
		return "(a proxy that does not parse)"
	}
	return u.Redacted()
}

// Pool is the proxies of one crawl. Its methods are safe for concurrent
// use. A nil *Pool sends everything directly.
type Pool struct {
	list []*Proxy
	// env, when set, picks the proxy from the environment instead.
	env     func(*url.URL) (*url.URL, error)
	envMu   sync.Mutex
	envSeen map[string]*Proxy
	// Rest is how long a failed proxy of a list is passed over.
	Rest time.Duration
	now  func() time.Time
}

// New builds the pool of a crawl.proxy list (already checked by Parse
// in config validation; checked again here).
func New(raws []string) (*Pool, error) {
	p := &Pool{Rest: DefaultRest, now: time.Now}
	for _, raw := range raws {
		u, err := Parse(raw)
		if err != nil {
			return nil, err
		}
		p.list = append(p.list, newProxy(u))
	}
	if len(p.list) == 0 {
		return nil, nil
	}
	return p, nil
}

// FromEnvironment is the pool of the environment's HTTP_PROXY,
// HTTPS_PROXY and NO_PROXY (and their lower-case forms), or nil when
// they name no proxy. The rules are Go's: HTTPS_PROXY for https://
// targets, HTTP_PROXY for http://, NO_PROXY's hosts, domains and CIDRs
// go direct, and so do localhost and loopback addresses, always.
func FromEnvironment() *Pool { return fromConfig(httpproxy.FromEnvironment()) }

func fromConfig(cfg *httpproxy.Config) *Pool {
	if cfg.HTTPProxy == "" && cfg.HTTPSProxy == "" {
		return nil
	}
	return &Pool{env: cfg.ProxyFunc(), envSeen: map[string]*Proxy{}, Rest: DefaultRest, now: time.Now}
}

func newProxy(u *url.URL) *Proxy {
	return &Proxy{URL: u, Name: u.Host, stats: countersFor(u.Host)}
}

// Proxies are the pool's proxies: the list, or those of the environment
// used so far.
func (p *Pool) Proxies() []*Proxy {
	if p == nil {
		return nil
	}
	if p.env == nil {
		return p.list
	}
	p.envMu.Lock()
	defer p.envMu.Unlock()
	var out []*Proxy
	for _, px := range p.envSeen {
		out = append(out, px)
	}
	return out
}

// FromEnv reports whether the pool is the environment's.
func (p *Pool) FromEnv() bool { return p != nil && p.env != nil }

// Choose returns the proxy for a request to target, passing over those
// in tried; nil means direct. With a list, a resting proxy is chosen only
// when every other untried one rests too, the one whose rest ends first:
// a proxy that is back is found at once, and a crawl whose proxies all
// failed still tries. ok is false when every proxy has been tried.
func (p *Pool) Choose(target *url.URL, tried []*Proxy) (px *Proxy, ok bool) {
	if p == nil {
		return nil, true
	}
	if p.env != nil {
		if len(tried) > 0 {
			return nil, false
		}
		u, err := p.env(target)
		if err != nil || u == nil {
			// An unparsable proxy variable: net/http would fail the
			// request; sending it directly would bypass the proxy, so
			// the transport fails it (see ErrEnvProxy).
			if err != nil {
				return &Proxy{Name: "from the environment", stats: countersFor("environment")}, true
			}
			return nil, true
		}
		return p.envProxy(u), true
	}
	host := target.Host
	now := p.now().UnixNano()
	var best, wake *Proxy
	var bestScore uint64
	for _, c := range p.list {
		if slices.Contains(tried, c) {
			continue
		}
		if r := c.restUntil.Load(); r > now {
			if wake == nil || r < wake.restUntil.Load() {
				wake = c
			}
			continue
		}
		if s := score(c.Name, host); best == nil || s > bestScore {
			best, bestScore = c, s
		}
	}
	if best == nil {
		best = wake
	}
	return best, best != nil
}

func (p *Pool) envProxy(u *url.URL) *Proxy {
	key := u.String()
	p.envMu.Lock()
	defer p.envMu.Unlock()
	px, ok := p.envSeen[key]
	if !ok {
		if u.Port() == "" {
			v := *u
			port := map[string]string{"https": "443", "socks5": "1080", "socks5h": "1080"}[u.Scheme]
			if port == "" {
				port = "80"
			}
			v.Host = net.JoinHostPort(u.Hostname(), port)
			u = &v
		}
		px = newProxy(u)
		p.envSeen[key] = px
	}
	return px
}

// Alternatives reports whether a request may be sent again through
// another proxy of the pool.
func (p *Pool) Alternatives() bool { return p != nil && len(p.list) > 1 }

// Failed puts px to rest, after a failure of its own (see Error.Dead).
func (p *Pool) Failed(px *Proxy) {
	px.stats.failures.Add(1)
	if p == nil || !p.Alternatives() {
		return
	}
	px.restUntil.Store(p.now().Add(p.Rest).UnixNano())
	px.stats.rests.Add(1)
}

// Resting reports whether px is resting now.
func (p *Pool) Resting(px *Proxy) bool { return px.restUntil.Load() > p.now().UnixNano() }

// Sent counts a request sent through px.
func (px *Proxy) Sent() { px.stats.requests.Add(1) }

// score ranks proxy for host; the highest live one serves the host.
func score(proxy, host string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(proxy))
	h.Write([]byte{0})
	h.Write([]byte(host))
	// fnv's low bits mix poorly for inputs that differ at the end: a
	// final avalanche (splitmix64's) spreads them.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

type ctxKey struct{}

// With returns ctx carrying px, the proxy chosen for a request: the
// transport's Proxy and DialContext read it with From.
func With(ctx context.Context, px *Proxy) context.Context {
	return context.WithValue(ctx, ctxKey{}, px)
}

// From returns the proxy ctx carries, or nil.
func From(ctx context.Context) *Proxy {
	px, _ := ctx.Value(ctxKey{}).(*Proxy)
	return px
}

// URLFunc is an http.Transport's Proxy: the proxy the request's context
// carries.
func URLFunc(req *http.Request) (*url.URL, error) {
	if px := From(req.Context()); px != nil {
		if px.URL == nil {
			return nil, ErrEnvProxy
		}
		return px.URL, nil
	}
	return nil, nil
}

// ErrEnvProxy marks a proxy variable of the environment that does not
// parse.
var ErrEnvProxy = errors.New("HTTP_PROXY or HTTPS_PROXY does not parse as a proxy URL")

// Error is a failure of a proxy, or one the proxy reported: its text
// names the proxy ("proxy 127.0.0.1:3128: connection refused") and never
// its credentials.
type Error struct {
	Proxy string
	// Dead is a failure of the proxy itself (unreachable, handshake,
	// credentials refused), which rests it; false when the proxy
	// answered that it could not reach the target.
	Dead bool
	Err  error
}

func (e *Error) Error() string { return "proxy " + e.Proxy + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// DialError wraps an error dialing px itself.
func DialError(px *Proxy, err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		err = se.Err // "connection refused", without "dial tcp …: connect:"
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		err = errors.New("timed out connecting")
	}
	return &Error{Proxy: px.Name, Dead: true, Err: err}
}

// ConnectError judges a proxy's answer to CONNECT other than 200: a
// refusal of the credentials (see RefusedCredentials) is the proxy's
// fault; anything else is the proxy reporting on the target.
func ConnectError(px *Proxy, target string, resp *http.Response) error {
	if RefusedCredentials(resp) {
		return &Error{Proxy: px.Name, Dead: true, Err: authError(px)}
	}
	return &Error{Proxy: px.Name, Err: fmt.Errorf("CONNECT %s answered %s", target, resp.Status)}
}

// RefusedCredentials reports whether resp, the answer to a plain-HTTP
// request sent through an http:// proxy, is the proxy's refusal of its
// credentials rather than the site's page: a 407 (no site answers 407),
// or tinyproxy's 401 (tinyproxy 1.11, Debian 12's, answers wrong
// credentials with 401 and a WWW-Authenticate of its own realm; a site's
// answer relayed by it keeps the site's Server header).
func RefusedCredentials(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusProxyAuthRequired:
		return true
	case http.StatusUnauthorized:
		return strings.HasPrefix(resp.Header.Get("Server"), "tinyproxy/") &&
			strings.Contains(resp.Header.Get("Www-Authenticate"), `realm="Tinyproxy"`)
	}
	return false
}

// AuthError is the error of an http proxy answering a plain request with
// 407.
func AuthError(px *Proxy) error { return &Error{Proxy: px.Name, Dead: true, Err: authError(px)} }

func authError(px *Proxy) error {
	if px.HasCredentials() {
		return errors.New("407 Proxy Authentication Required: the proxy refused crawl.proxy's credentials")
	}
	return errors.New("407 Proxy Authentication Required: the proxy wants credentials (SCHEME://USER:PASSWORD@HOST:PORT)")
}

// Classify turns an error of a request sent through px into an *Error
// when the proxy is to blame or reported it: SOCKS5 handshake failures
// and replies, which net/http returns unmarked. Other errors are
// returned as they are.
func Classify(px *Proxy, err error) error {
	if px == nil || err == nil {
		return err
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	var oe *net.OpError
	if errors.As(err, &oe) && strings.HasPrefix(oe.Op, "socks ") {
		msg := oe.Err.Error()
		if rest, ok := strings.CutPrefix(msg, "unknown error "); ok {
			// The proxy's reply: it could not reach the target.
			return &Error{Proxy: px.Name, Err: fmt.Errorf("SOCKS5 reply: %s", rest)}
		}
		if strings.Contains(msg, "authentication") || strings.Contains(msg, "username/password") {
			if px.HasCredentials() {
				msg = "SOCKS5 " + msg + ": the proxy refused crawl.proxy's credentials"
			} else {
				msg = "SOCKS5 " + msg + ": the proxy wants credentials (socks5://USER:PASSWORD@HOST:PORT)"
			}
		} else {
			msg = "SOCKS5 handshake: " + msg
		}
		return &Error{Proxy: px.Name, Dead: true, Err: errors.New(msg)}
	}
	if errors.As(err, &oe) && oe.Op == "proxyconnect" {
		// The TLS handshake with an https:// proxy (dial errors are
		// *Error already).
		return &Error{Proxy: px.Name, Dead: true, Err: oe.Err}
	}
	if errors.Is(err, ErrEnvProxy) {
		return &Error{Proxy: px.Name, Dead: true, Err: ErrEnvProxy}
	}
	return err
}
