package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/gather-crawler/gather/internal/version"
)

// newManCmd writes the man pages of every command, for packages (the
// .deb ships them); shell completions come from cobra's own completion
// command.
func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write gather's man pages (section 1) into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			// The commit's date, not today's: the same source makes the
			// same pages.
			h := &doc.GenManHeader{Title: "GATHER", Section: "1", Source: "gather " + version.Get().Version, Manual: "gather manual"}
			if t := version.Get().Time; !t.IsZero() {
				h.Date = &t
			}
			if err := doc.GenManTree(root, h, args[0]); err != nil {
				return fmt.Errorf("writing man pages: %w", err)
			}
			return nil
		},
	}
}
