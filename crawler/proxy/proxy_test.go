package proxy

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/http/httpproxy"
)

func TestParse(t *testing.T) {
	for raw, want := range map[string]string{
		"http://127.0.0.1:3128":       "http://127.0.0.1:3128",
		"127.0.0.1:3128":              "http://127.0.0.1:3128",
		"HTTPS://proxy.example:8443/": "https://proxy.example:8443",
		"socks5://u:p@127.0.0.1":      "socks5://u:p@127.0.0.1:1080",
		"http://proxy.example":        "http://proxy.example:80",
		"socks5h://[::1]:1080":        "socks5h://[::1]:1080",
	} {
		u, err := Parse(raw)
		if err != nil || u.String() != want {
			t.Errorf("Parse(%q) = %v, %v; want %s", raw, u, err, want)
		}
	}
	for raw, want := range map[string]string{
		"ftp://user:hunter2@127.0.0.1:21": "ftp://user:xxxxx@127.0.0.1:21: the scheme must be",
		"http://user:hunter2@/":           "no host",
		"http://user:hunter2@h:1/path":    "without a path",
		"http://user:hunter2@h:port%zz":   "not a URL",
	} {
		_, err := Parse(raw)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Parse(%q): %v; want an error with %q and no password", raw, err, want)
		}
	}
	if got := Redact("http://user:hunter2@127.0.0.1:3128"); got != "http://user:xxxxx@127.0.0.1:3128" {
		t.Errorf("Redact = %q", got)
	}
}

// A list is spread sticky per host: the same host always gets the same
// proxy, hosts are spread over all of them, and a resting proxy moves
// only its own hosts, each back when it returns.
func TestChooseStickyPerHost(t *testing.T) {
	p, err := New([]string{"http://10.0.0.1:3128", "http://10.0.0.2:3128", "socks5://10.0.0.3:1080"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }
	first := map[string]*Proxy{}
	per := map[string]int{}
	for i := range 300 {
		u := &url.URL{Scheme: "http", Host: fmt.Sprintf("site%d.example", i)}
		px, ok := p.Choose(u, nil)
		if !ok || px == nil {
			t.Fatal("no proxy")
		}
		if again, _ := p.Choose(u, nil); again != px {
			t.Fatalf("%s: %s then %s", u.Host, px.Name, again.Name)
		}
		first[u.Host] = px
		per[px.Name]++
	}
	for name, n := range per {
		if n < 70 || n > 130 {
			t.Errorf("%s serves %d of 300 hosts; want about 100 each: %v", name, n, per)
		}
	}
	dead := p.list[0]
	p.Failed(dead)
	for host, was := range first {
		px, _ := p.Choose(&url.URL{Scheme: "http", Host: host}, nil)
		if px == dead {
			t.Fatalf("%s still goes through the resting proxy", host)
		}
		if was != dead && px != was {
			t.Errorf("%s moved from %s to %s though its proxy did not fail", host, was.Name, px.Name)
		}
	}
	now = now.Add(DefaultRest + time.Second)
	for host, was := range first {
		if px, _ := p.Choose(&url.URL{Scheme: "http", Host: host}, nil); px != was {
			t.Errorf("%s: %s after the rest, want %s again", host, px.Name, was.Name)
		}
	}
	// Every proxy tried: none left. All resting: the first to wake.
	u := &url.URL{Scheme: "http", Host: "a.example"}
	if _, ok := p.Choose(u, p.list); ok {
		t.Error("a proxy was chosen with all of them tried")
	}
	for i, px := range p.list {
		px.restUntil.Store(now.Add(time.Duration(10-i) * time.Second).UnixNano())
	}
	if px, _ := p.Choose(u, nil); px != p.list[2] {
		t.Errorf("all resting: %s chosen, want the one whose rest ends first", px.Name)
	}
}

// The environment's proxies follow Go's rules: HTTPS_PROXY for https,
// NO_PROXY, and loopback always direct.
func TestEnvironmentRules(t *testing.T) {
	p := fromConfig(&httpproxy.Config{HTTPProxy: "http://u:pw@proxy.example:3128", HTTPSProxy: "socks5://10.1.1.1:1080", NoProxy: "internal.example,10.0.0.0/8"})
	for target, want := range map[string]string{
		"http://site.example/":       "proxy.example:3128",
		"https://site.example/":      "10.1.1.1:1080",
		"http://a.internal.example/": "",
		"http://10.2.3.4/":           "",
		"http://127.0.0.1:8080/":     "",
		"http://localhost:8080/":     "",
		"http://[::1]:8080/":         "",
	} {
		u, _ := url.Parse(target)
		px, ok := p.Choose(u, nil)
		got := ""
		if px != nil {
			got = px.Name
		}
		if !ok || got != want {
			t.Errorf("%s: %q, want %q", target, got, want)
		}
	}
	if fromConfig(&httpproxy.Config{NoProxy: "x"}) != nil {
		t.Error("a pool without proxies")
	}
}

// The counts reach Prometheus by proxy host:port, never with credentials.
func TestCollector(t *testing.T) {
	p, err := New([]string{"http://user:hunter2@127.0.0.1:1", "http://127.0.0.1:2"})
	if err != nil {
		t.Fatal(err)
	}
	px := p.list[0]
	px.Sent()
	px.Sent()
	p.Failed(px)
	reg := prometheus.NewRegistry()
	reg.MustRegister(Collector{})
	var b strings.Builder
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			fmt.Fprintf(&b, "%s %s %v\n", mf.GetName(), m.GetLabel()[0].GetValue(), m.GetCounter().GetValue())
		}
	}
	for _, want := range []string{"gather_proxy_requests_total 127.0.0.1:1 2\n", "gather_proxy_failures_total 127.0.0.1:1 1\n", "gather_proxy_rests_total 127.0.0.1:1 1\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "hunter2") || strings.Contains(b.String(), "user") {
		t.Errorf("credentials in the metrics:\n%s", b.String())
	}
}
