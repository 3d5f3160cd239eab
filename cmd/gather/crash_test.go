package main

import (
	"bytes"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// crashByOverflow recurses until the stack overflows: a fatal error that
// no recover can stop.
func crashByOverflow(n int) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	//lint:ignore SA5007 the unbounded recursion is the point
	return crashByOverflow(n+1) + int(pad[1])
}

// A crash exits by SIGABRT, never with 2, the exit status of usage and
// config errors, which Go's runtime would use.
func TestProcess_CrashIsNotAUsageError(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GATHER_TEST_EXEC=crash")
	out, err := cmd.CombinedOutput()
	if code := exitCodeOf(err); code != -int(syscall.SIGABRT) {
		t.Errorf("exit %d after a stack overflow, want SIGABRT\n%.2000s", code, out)
	}
	if !bytes.Contains(out, []byte("fatal error: stack overflow")) {
		t.Errorf("no report of the crash:\n%.2000s", out)
	}
}
