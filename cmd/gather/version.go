package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/crawler"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			colly := "unknown"
			if info, ok := debug.ReadBuildInfo(); ok {
				for _, d := range info.Deps {
					if d.Path == "github.com/gocolly/colly/v2" {
						colly = d.Version
					}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "gather %s (colly %s, %s)\n", crawler.Version, colly, runtime.Version())
		},
	}
}
