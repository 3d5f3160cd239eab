package redistest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Faults a chaos test injects into the server: each is what an operator
// or a crash does to a real redis-server (signals, a snapshot, a restart
// on the same data directory).

// Persistence is how a server started by StartWith keeps its data.
type Persistence int

const (
	// Snapshots is Redis's (and Debian's) default: RDB save points, and a
	// save on shutdown; a crash loses the writes since the last save.
	Snapshots Persistence = iota
	// AOF appends every write to a log fsynced every second
	// (appendfsync everysec), with no RDB save points.
	AOF
	// None keeps nothing: a restart starts empty.
	None
)

// StartWith starts a redis-server with the given persistence.
func StartWith(t testing.TB, p Persistence) *Server {
	t.Helper()
	exe := exe(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{exe: exe, dir: t.TempDir(), Port: port, persistence: p}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// persistenceArgs are the server's flags for p.
func persistenceArgs(p Persistence) []string {
	switch p {
	case AOF:
		return []string{"--save", "", "--appendonly", "yes", "--appendfsync", "everysec"}
	case None:
		return []string{"--save", "", "--appendonly", "no"}
	}
	return []string{"--save", "3600 1 300 100 60 10000", "--appendonly", "no"}
}

// Kill kills the server with SIGKILL (no save on the way out) and waits
// for it: what is lost is what its persistence had not written.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// StartAgain starts a stopped or killed server on the same port and data.
func (s *Server) StartAgain(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// Freeze stops the server with SIGSTOP: connections stay open and nothing
// answers, as with a server stalled by its host. Thaw resumes it.
func (s *Server) Freeze() { s.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server (SIGCONT).
func (s *Server) Thaw() { s.cmd.Process.Signal(syscall.SIGCONT) }

// Save makes the server write its RDB snapshot now (SAVE), as a save point
// does.
func (s *Server) Save(t testing.TB) {
	t.Helper()
	if out, err := s.Do("SAVE"); err != nil || out != "+OK" {
		t.Fatalf("SAVE: %q %v", out, err)
	}
}

// Do sends one inline command and returns the first line of the answer.
func (s *Server) Do(cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}
