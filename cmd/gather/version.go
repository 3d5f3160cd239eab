package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/internal/version"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision and Go version this binary was built from",
		Long: `Prints what the Go toolchain recorded in the binary: the module version
(v1.2.3 when installed with go install …@v1.2.3, a pseudo-version for a
build in a checkout), the VCS revision and commit time with a note when
the tree had uncommitted changes, the Go version and colly's version.`,
		Args: cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprint(cmd.OutOrStdout(), version.Get())
		},
	}
}
