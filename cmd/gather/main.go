// Command gather crawls many similar pages concurrently with colly, extracts
// fields declared in YAML and stores them in SQLite. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"

	_ "time/tzdata" // schedule.timezone works on machines without zoneinfo

	"github.com/gather-crawler/gather/config"
)

// Exit codes, as the contract pins them.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

func main() {
	os.Exit(run())
}

func run() int {
	crashNotUsage()
	// The first SIGINT/SIGTERM cancels ctx: no new requests, in-flight pages
	// finish or stay pending, the batch is committed. A second one exits at
	// once; SQLite in WAL mode loses at most the uncommitted batch.
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	watcherDone := make(chan struct{})
	defer close(watcherDone)
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(os.Stderr, "\ngather: %v: %s (send again to exit now)\n", s, stopNote())
			cancel(fmt.Errorf("received %v", s))
		case <-watcherDone:
			return
		}
		select {
		case <-sigs:
			fmt.Fprintln(os.Stderr, "gather: exiting now")
			os.Exit(exitRuntime)
		case <-watcherDone:
		}
	}()

	return execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

// crashNotUsage makes a crash (a panic nothing recovers, a fatal error such
// as a stack overflow) end the process by SIGABRT, as GOTRACEBACK=crash
// does, after the usual report. Go would exit with status 2 instead, which
// gather's contract gives to usage and config errors: a scheduler or script
// would take a crash for a bad config.
func crashNotUsage() { debug.SetTraceback("crash") }

// stopping is what the first SIGINT/SIGTERM says gather does about it,
// when a command has set its own; crawls stop after in-flight pages.
var stopping atomic.Pointer[string]

// setStopNote sets what an interrupt says gather does ("" for the crawl's
// words).
func setStopNote(note string) {
	if note == "" {
		stopping.Store(nil)
		return
	}
	stopping.Store(&note)
}

func stopNote() string {
	if p := stopping.Load(); p != nil {
		return *p
	}
	return "stopping after in-flight pages"
}

// execute runs one gather command line and returns its exit code; tests
// call it in-process.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "gather: "+err.Error())
	return exitCode(err)
}

// usageError marks a mistake in how gather was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, config.ErrInvalid) {
		return exitUsage
	}
	return exitRuntime
}
