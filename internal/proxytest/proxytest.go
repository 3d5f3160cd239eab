// Package proxytest starts real proxy servers from Debian for tests:
// tinyproxy (HTTP, and CONNECT for https://) and microsocks (SOCKS5), on
// 127.0.0.1 at a free port, each making its outgoing connections from an
// address of its own in 127.0.0.0/8, so that a test site can tell the
// proxy's connections from the crawler's by their peer address.
package proxytest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// RequireEnv turns a missing tinyproxy or microsocks into a failure.
const RequireEnv = "GATHER_REQUIRE_PROXIES"

// Proxy is a running proxy server.
type Proxy struct {
	// Addr is where it listens (127.0.0.1:port).
	Addr string
	// From is the address its outgoing connections come from.
	From string
	// Scheme is http or socks5.
	Scheme string
	// Log is the file of its output: tinyproxy's log.
	Log string
}

// URL is the proxy's URL, with credentials when user is not empty.
func (p *Proxy) URL(user, password string) string {
	u := url.URL{Scheme: p.Scheme, Host: p.Addr}
	if user != "" {
		u.User = url.UserPassword(user, password)
	}
	return u.String()
}

// Options configure a proxy.
type Options struct {
	// From is the outgoing address (e.g. 127.0.0.3).
	From string
	// User and Password, when set, are required of clients.
	User, Password string
}

func need(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a proxy server")
	}
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s is not installed (apt-get install %s)", name, name)
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%s (%s is set)", msg, RequireEnv)
		}
		t.Skip(msg + "; set " + RequireEnv + "=1 to make this a failure")
	}
	return p
}

// Tinyproxy starts a tinyproxy for the test's length.
func Tinyproxy(t testing.TB, o Options) *Proxy {
	t.Helper()
	exe := need(t, "tinyproxy")
	dir := t.TempDir()
	port := freePort(t)
	p := &Proxy{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), From: o.From, Scheme: "http"}
	// Its log goes to its output (-d, no LogFile): tinyproxy drops root
	// for User before it opens a log file.
	conf := fmt.Sprintf("Port %d\nListen 127.0.0.1\nTimeout 30\nMaxClients 100\nLogLevel Connect\nDisableViaHeader Yes\n", port)
	if os.Geteuid() == 0 {
		conf += "User nobody\nGroup nogroup\n"
	}
	if o.From != "" {
		conf += "Bind " + o.From + "\n"
	}
	if o.User != "" {
		conf += fmt.Sprintf("BasicAuth %s %s\n", o.User, o.Password)
	}
	cf := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p.Log = start(t, exec.Command(exe, "-d", "-c", cf), p.Addr)
	return p
}

// Microsocks starts a microsocks for the test's length.
func Microsocks(t testing.TB, o Options) *Proxy {
	t.Helper()
	exe := need(t, "microsocks")
	port := freePort(t)
	p := &Proxy{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), From: o.From, Scheme: "socks5"}
	args := []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port)}
	if o.From != "" {
		args = append(args, "-b", o.From)
	}
	if o.User != "" {
		args = append(args, "-u", o.User, "-P", o.Password)
	}
	p.Log = start(t, exec.Command(exe, args...), p.Addr)
	return p
}

// DeadAddr is a 127.0.0.1 address nothing listens on: a proxy that
// refuses connections.
func DeadAddr(t testing.TB) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
}

// start runs cmd until the test ends, and returns the file of its output
// once it listens on addr.
func start(t testing.TB, cmd *exec.Cmd, addr string) string {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "proxy-*.out")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return out.Name()
		}
		select {
		case <-done:
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("%s exited before listening on %s:\n%s", cmd.Path, addr, b)
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("%s is not listening on %s after 10s:\n%s", cmd.Path, addr, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
