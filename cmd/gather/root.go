package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// globals are the flags every command shares.
type globals struct {
	logFormat string
	logLevel  string
	// stderr receives logs and progress.
	stderr io.Writer
}

func newRootCmd(stderr io.Writer) *cobra.Command {
	g := &globals{stderr: stderr}
	root := &cobra.Command{
		Use:   "gather",
		Short: "Crawl many similar pages concurrently and store what they hold in SQLite",
		Long: `gather crawls the pages a YAML config describes with a concurrent colly
collector, extracts the fields it declares (CSS, XPath, regex or JSON paths)
and upserts them into SQLite, one table per item, with run history.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "", "log level: debug, info, warn or error (default info; warn under a progress bar)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newCrawlCmd(g), newQueryCmd(), newRunsCmd(), newValidateCmd(g), newTryCmd(g), newDemoCmd(g), newBenchCmd(), newReextractCmd(g), newWarcIndexCmd(g), newScheduleCmd(g), newServeCmd(g), newVersionCmd(),
		newSeedCmd(g), newWorkerCmd(g), newSinkCmd(g), newStatusCmd(g))
	return root
}

// logger builds the one slog logger of the process, writing to w.
func (g *globals) logger(w io.Writer, defaultLevel slog.Level) (*slog.Logger, error) {
	level := defaultLevel
	if g.logLevel != "" {
		if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
			return nil, usagef("--log-level: %q is not one of debug, info, warn, error", g.logLevel)
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(g.logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format: %q is not text or json", g.logFormat)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// configPath resolves -c, then $GATHER_CONFIG, then ./config.yaml.
func configPath(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv("GATHER_CONFIG"); env != "" {
		return env
	}
	return "config.yaml"
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
