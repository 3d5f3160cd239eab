package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGTERM to gather serve says it stops the server, not a crawl's "in-flight
// pages".
func TestServe_SIGTERMSaysServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	db := demoDB(t)
	cmd, out := gatherProcess(t, "serve", "--db", db, "--listen", "127.0.0.1:0")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "127.0.0.1:") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	code := exitCodeOf(cmd.Wait())
	got := out.String()
	if !strings.Contains(got, "stopping the server") || strings.Contains(got, "in-flight") {
		t.Errorf("exit %d, output:\n%s", code, got)
	}
}
