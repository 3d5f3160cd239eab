package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"
)

// gather bench lives in its own command, cmd/gather-bench: its charts link
// a plotting library and its fonts, which the shipped binary has no use
// for. From a checkout, gather bench runs it with the same flags; anywhere
// else it says how.
func newBenchCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "bench [flags]",
		Short:              "Measure gather beside plain colly on the demo site (runs go run ./cmd/gather-bench in a checkout)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBenchCommand(cmd.Context(), args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
}

func runBenchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	goTool, err := exec.LookPath("go")
	if _, serr := os.Stat(filepath.Join("cmd", "gather-bench", "main.go")); serr != nil || err != nil {
		return usagef("gather bench is not part of this binary (its charts link a plotting library): " +
			"from a checkout of gather, with Go installed, run `go run ./cmd/gather-bench [flags]` (the flags of gather bench)")
	}
	c := exec.CommandContext(ctx, goTool, append([]string{"run", "./cmd/gather-bench"}, args...)...)
	c.Stdout, c.Stderr, c.Stdin = stdout, stderr, os.Stdin
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("gather-bench: %w", err)
		}
		return err
	}
	return nil
}
