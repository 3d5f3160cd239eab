// Package redistest starts a real redis-server (Debian's, on PATH or in
// /usr/bin) for tests and benchmarks, on 127.0.0.1 at a free port with its
// data in a temporary directory, and stops it when the test ends. Tests
// skip without it, or fail when RequireEnv is set (CI sets it).
package redistest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RequireEnv turns a missing redis-server into a failure.
const RequireEnv = "GATHER_REQUIRE_REDIS"

// Server is one redis-server a test or benchmark started.
type Server struct {
	exe  string
	dir  string
	Port int
	cmd  *exec.Cmd
	done chan struct{}
	// CAFile is the PEM file of the CA that signed the server's
	// certificate, for a server started with StartTLS ("" otherwise): a
	// client trusts it with SSL_CERT_FILE, as with any private CA.
	CAFile string
	tls    *tls.Config // a client's, for ping; nil: plain TCP
	// persistence is how the server keeps its data (StartWith).
	persistence Persistence
}

// Exe finds redis-server.
func Exe() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/redis-server"); err == nil {
		return "/usr/bin/redis-server", nil
	}
	return "", fmt.Errorf("redis-server is not installed (apt-get install redis-server)")
}

// Start starts a redis-server with Redis's default persistence (RDB
// snapshots, saved on shutdown), or skips the test without one.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := Launch(exe(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// StartTLS starts a redis-server that speaks TLS only, with a certificate
// for 127.0.0.1 signed by a CA made for the test (Server.CAFile).
func StartTLS(t testing.TB) *Server {
	t.Helper()
	exe := exe(t)
	dir := t.TempDir()
	ca, err := writeCerts(dir)
	if err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{exe: exe, dir: dir, Port: port, CAFile: filepath.Join(dir, "ca.pem"),
		tls: &tls.Config{RootCAs: ca, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// exe is redis-server, or the test skips (fails with RequireEnv).
func exe(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a redis-server: go test without -short runs it")
	}
	exe, err := Exe()
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%v (%s is set)", err, RequireEnv)
		}
		t.Skipf("%v; set %s=1 to make this a failure", err, RequireEnv)
	}
	return exe
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeCerts makes a CA and a certificate for 127.0.0.1 it signs, valid
// for a day, and writes ca.pem, cert.pem and key.pem in dir.
func writeCerts(dir string) (*x509.CertPool, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gather test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	for name, b := range map[string]*pem.Block{"ca.pem": {Type: "CERTIFICATE", Bytes: caDER},
		"cert.pem": {Type: "CERTIFICATE", Bytes: der}, "key.pem": {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			return nil, err
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return pool, nil
}

// Launch starts exe as a redis-server with its data in dir; Stop stops it.
func Launch(exe, dir string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{exe: exe, dir: dir, Port: port}
	return s, s.start()
}

// URL is the frontier URL of the server: rediss:// for StartTLS's.
func (s *Server) URL() string {
	if s.tls != nil {
		return fmt.Sprintf("rediss://127.0.0.1:%d/0", s.Port)
	}
	return fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port)
}

func (s *Server) start() error {
	port := strconv.Itoa(s.Port)
	if s.tls != nil {
		port = "0" // TLS only: the plain port closed
	}
	args := []string{"--port", port, "--bind", "127.0.0.1", "--dir", s.dir, "--daemonize", "no",
		"--logfile", filepath.Join(s.dir, "redis.log")}
	args = append(args, persistenceArgs(s.persistence)...)
	if s.tls != nil {
		// Clients are not asked for certificates.
		args = append(args, "--tls-port", strconv.Itoa(s.Port), "--tls-auth-clients", "no",
			"--tls-cert-file", filepath.Join(s.dir, "cert.pem"), "--tls-key-file", filepath.Join(s.dir, "key.pem"),
			"--tls-ca-cert-file", filepath.Join(s.dir, "ca.pem"))
	}
	cmd := exec.Command(s.exe, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redis-server: %w", err)
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s.ping() {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	return fmt.Errorf("redis-server did not answer on port %d:\n%s", s.Port, log)
}

// ping sends PING and waits for a PONG that is not a loading error.
func (s *Server) ping() bool {
	addr := fmt.Sprintf("127.0.0.1:%d", s.Port)
	var c net.Conn
	var err error
	if s.tls != nil {
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, s.tls)
	} else {
		c, err = net.DialTimeout("tcp", addr, time.Second)
	}
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// Stop shuts the server down as a service manager does (SIGTERM: it saves
// its snapshot, then exits) and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart stops the server and starts it again on the same port and data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}
