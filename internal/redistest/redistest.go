// Package redistest starts a real redis-server (Debian's, on PATH or in
// /usr/bin) for tests and benchmarks, on 127.0.0.1 at a free port with its
// data in a temporary directory, and stops it when the test ends. Tests
// skip without it, or fail when RequireEnv is set (CI sets it).
package redistest

import (
	"bufio"
	"fmt"
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
	exe, err := Exe()
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%v (%s is set)", err, RequireEnv)
		}
		t.Skipf("%v; set %s=1 to make this a failure", err, RequireEnv)
	}
	s, err := Launch(exe, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// Launch starts exe as a redis-server with its data in dir; Stop stops it.
func Launch(exe, dir string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{exe: exe, dir: dir, Port: port}
	return s, s.start()
}

// URL is the frontier URL of the server.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port) }

func (s *Server) start() error {
	cmd := exec.Command(s.exe, "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "3600 1 300 100 60 10000", "--appendonly", "no", "--daemonize", "no",
		"--logfile", filepath.Join(s.dir, "redis.log"))
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
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second)
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
