// Command gather-bench measures gather beside a plain colly program on the
// demo site: the asyncio tutorial's experiment, memory over long id lists,
// a soak of the writer, the browser's cost and scale-out over workers
// (docs/performance.md). It is a command of its own, not part of the
// shipped gather binary, because its charts link a plotting library and
// its fonts; run it from a checkout:
//
//	go run ./cmd/gather-bench --out docs/bench.png
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newBenchCmd()
	root.Use = "gather-bench" + root.Use[len("bench"):]
	root.AddCommand(newBenchChildCmd())
	root.SilenceUsage = true
	if err := root.ExecuteContext(ctx); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "run gather-bench --help for the flags")
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }
